package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// badInput is one adversarial command line: it must end with exit 2,
// having sent nothing (issue 16 item 8, "every bad input refused before
// sending").
type badInput struct {
	profile string // "" for none (profile set, sandbox, completion)
	stdin   string
	args    []string
	env     []string
	// known names an open issue owned elsewhere: the case is measured and
	// reported, and fails the test only once it is fixed (so the list
	// stays honest).
	known string
}

// TestAdversarialBadInputs tries bad values of the flags of every command
// on every platform, and counts those refused before anything was sent.
// Its log line is the "bad inputs tried / refused before sending"
// figure; re-run it with `go test -run TestAdversarialBadInputs -v .`.
func TestAdversarialBadInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process per input")
	}
	pe := newProcEnv(t)
	var requests atomic.Int64
	_, url, _ := startProcSandbox(t, sandbox.Options{
		Options:   sim.Options{Seed: 1, SeedSensors: 3},
		StatePath: filepath.Join(pe.Dir, "state.json"),
		OnRequest: func(sandbox.RequestRecord) { requests.Add(1) },
	})
	pe.Set("SBX_PW", sim.DefaultPassword)
	pe.Set("SBX_TOKEN", "tokenctl-sandbox-token")
	for _, args := range [][]string{
		{"profile", "set", "ssp", "--platform", "ssp", "--server", url, "--username", "admin", "--password-env", "SBX_PW"},
		{"profile", "set", "nsx", "--platform", "nsx", "--auth", "session", "--server", url, "--username", "admin", "--password-env", "SBX_PW"},
		{"profile", "set", "agent", "--platform", "agent", "--server", url, "--username", "admin", "--password-env", "SBX_PW"},
		{"profile", "set", "sdwan", "--platform", "sdwan", "--api-generation", "legacy", "--server", url, "--token-env", "SBX_TOKEN"},
	} {
		if r := pe.Run(t, "", args...); r.Code != 0 {
			t.Fatal(r.Stderr)
		}
	}
	pp := filepath.Join(pe.Dir, "pp.txt")
	if err := os.WriteFile(pp, []byte("Adversarial-Pass-1!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(pe.Dir, "notpem.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	uuid := "8c147e21-7410-4f77-a3a6-e7aa6034992f"
	long := strings.Repeat("x", 1100)
	ps := func(args ...string) badInput {
		return badInput{args: append([]string{"profile", "set", "p", "--platform", "ssp", "--username", "a"}, args...)}
	}
	cases := []badInput{
		// profile set: the server URL, *-env names, PEM files, durations
		ps("--server", "https://"), ps("--server", "https://:443"), ps("--server", "https://host:0"),
		ps("--server", "https://host:70000"), ps("--server", "https://host:"), ps("--server", "https://host?x=1"),
		ps("--server", "https://host#frag"), ps("--server", "https://ho st"), ps("--server", "https://host:abc"),
		ps("--server", "https://admin:pw@host"), ps("--server", "https://[::1"), ps("--server", "http://-bad-.example"),
		ps("--server", "https://a..b"), ps("--server", "ftp://host"), ps("--server", "host.example.com"),
		ps("--server", "https://h.example.com", "--password-env", "BAD NAME"),
		ps("--server", "https://h.example.com", "--password-env", "1X"),
		ps("--server", "https://h.example.com", "--password-env", ""),
		ps("--server", "https://h.example.com", "--password-command", ""),
		ps("--server", "https://h.example.com", "--ca-file", "/nonexistent.pem"),
		ps("--server", "https://h.example.com", "--ca-file", notPEM),
		ps("--server", "https://h.example.com", "--timeout", "soon"),
		ps("--server", "https://h.example.com", "--timeout", "-1s"),
		ps("--server", "https://h.example.com", "--secret-command-timeout", "0s"),
		ps("--server", "https://h.example.com", "--thumbprint", "nothex"),
		ps("--server", "https://h.example.com", "--token-type", "laptop"),
		ps("--server", "https://h.example.com", "--rps", "-3"),
		ps("--server", "https://h.example.com", "--password-env", "A", "--password-command", "B"),
		{args: []string{"profile", "set", "p", "--platform", "sdwan", "--api-generation", "legacy", "--server", "https://h.example.com", "--token-env", "TOKEN VAR"}},
		{args: []string{"profile", "set", "p", "--platform", "sdwan", "--api-generation", "unified", "--client-id", "c", "--client-secret-env", "S", "--tsg-id", "1", "--auth-url", "https://auth:99999/x"}},
		{args: []string{"profile", "set", "p", "--platform", "nsx", "--server", "https://h.example.com", "--auth", "cert", "--cert-file", notPEM, "--key-file", "/nonexistent.key"}},
		{args: []string{"profile", "set", "p", "--platform", "mainframe", "--server", "https://h.example.com"}},
		{args: []string{"profile", "set", "Bad.Name", "--platform", "ssp", "--server", "https://h.example.com"}},
		{args: []string{"profile", "set", "sandbox", "--platform", "ssp", "--server", "https://h.example.com"}},
		{args: []string{"profile", "use", "nope"}},
		{args: []string{"completion", "tcsh"}},
		{args: []string{"sandbox", "serve", "--retry-after", "-5"}},
		{args: []string{"sandbox", "serve", "--faults", "2"}},
		{args: []string{"sandbox", "serve", "--latency", "-1s"}},
		{args: []string{"sandbox", "serve", "--seed-sensors", "-1"}},
		{args: []string{"sandbox", "serve", "--state", pe.Dir}},
		{args: []string{"sandbox", "serve", "--listen", "0.0.0.0:0"}},
		{args: []string{"sandbox", "serve", "--fault-kinds", "418"}},
		// global settings, as flags and as variables
		{profile: "ssp", args: []string{"--timeout", "junk", "token", "list"}},
		{profile: "ssp", args: []string{"token", "list"}, env: []string{"TOKENCTL_TIMEOUT=junk"}},
		{profile: "ssp", args: []string{"token", "list"}, env: []string{"TOKENCTL_YES=sure"}},
		{profile: "ssp", args: []string{"token", "list"}, env: []string{"TOKENCTL_DEBUG=maybe"}},
		{profile: "ssp", args: []string{"token", "list"}, env: []string{"TOKENCTL_CA_FILE=/nonexistent"}},
		{profile: "ssp", args: []string{"token", "list"}, env: []string{"TOKENCTL_RETRY_MAX_WAIT=forever"}},
		{profile: "ssp", args: []string{"token", "list"}, env: []string{"TOKENCTL_RPS=0"}},
		{profile: "ssp", args: []string{"token", "list"}, env: []string{"TOKENCTL_OUTPUT=xml"}},
		{profile: "ssp", args: []string{"token", "list"}, env: []string{"TOKENCTL_JQ=.["}},
		{profile: "ssp", args: []string{"token", "list"}, env: []string{"TOKENCTL_SERVER=https://admin:pw@h.example.com"}},
		{profile: "ssp", args: []string{"--server", "https://admin:pw@h.example.com", "token", "list"}},
		{profile: "ssp", args: []string{"--retry-max-wait", "0", "token", "list"}},
		{profile: "ssp", args: []string{"--rps", "many", "token", "list"}},
		{profile: "ssp", args: []string{"-o", "xml", "token", "list"}},
		{profile: "ssp", args: []string{"--jq", ".[", "token", "list"}},
		{profile: "ssp", args: []string{"--template", "{{", "token", "list"}},
		{profile: "ssp", args: []string{"--ca-file", "/nonexistent", "token", "list"}},
		{profile: "ssp", args: []string{"--platform", "nsx", "token", "list"}},
		{profile: "ssp", args: []string{"--insecure=maybe", "token", "list"}},
		{profile: "nope", args: []string{"token", "list"}},
		// ssp tokens
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--passphrase-file", pp, "--allowed-instances", "-1"}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--passphrase-file", pp, "--allowed-instances", "0"}},
		{profile: "ssp", args: []string{"token", "create", "--type", "baremetal", "--display-name", "rack", "--passphrase-file", pp, "--allowed-instances", "0"}},
		{profile: "ssp", args: []string{"token", "create", "--type", "baremetal", "--display-name", "rack", "--passphrase-file", pp, "--expiry-minutes", "0"}},
		{profile: "ssp", args: []string{"token", "create", "--type", "baremetal", "--display-name", "x", "--passphrase-file", pp}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", long, "--passphrase-file", pp}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--description", long + long, "--passphrase-file", pp}},
		{profile: "ssp", stdin: "weak\n", args: []string{"token", "create", "--display-name", "x", "--passphrase-stdin"}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x"}},
		{profile: "ssp", args: []string{"token", "create", "--passphrase-file", pp}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--generate-passphrase"}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--passphrase-file", "/nonexistent"}},
		{profile: "ssp", args: []string{"token", "create", "--type", "laptop"}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--passphrase-file", pp, "--concurrency", "0"}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--passphrase-file", pp, "--expiry-minutes", "10"}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--passphrase-file", pp, "-o", "secret"}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--passphrase-file", pp, "--name", "agent-only"}},
		{profile: "ssp", stdin: "display_name: a\nallowed_instances: 2\n", args: []string{"token", "create", "-f", "-", "--passphrase-file", pp}},
		{profile: "ssp", stdin: "display_name: a\nallowed_instance_count: -4\n", args: []string{"token", "create", "-f", "-", "--passphrase-file", pp}},
		{profile: "ssp", stdin: "display_name: a\n---\ndisplay_name: b\n", args: []string{"token", "create", "-f", "-", "--passphrase-file", pp, "-o", "manifest"}},
		{profile: "ssp", args: []string{"token", "create", "-f", "/nonexistent.yaml"}},
		{profile: "ssp", args: []string{"token", "list", "--type", "laptop"}},
		{profile: "ssp", args: []string{"token", "list", "--status", "GONE"}},
		{profile: "ssp", args: []string{"token", "list", "--limit", "-1"}},
		{profile: "ssp", args: []string{"token", "list", "--page-size", "-1"}},
		{profile: "ssp", args: []string{"token", "list", "--sort-by", "colour"}},
		{profile: "ssp", args: []string{"token", "list", "--asc"}},
		{profile: "ssp", args: []string{"token", "list", "--type", "baremetal", "--status", "AVAILABLE"}},
		{profile: "ssp", args: []string{"token", "status", "--status", "GONE"}},
		{profile: "ssp", args: []string{"token", "status", "--type", "baremetal", "--status", "USED"}},
		{profile: "ssp", args: []string{"token", "status", "-o", "manifest"}},
		{profile: "ssp", args: []string{"token", "status", uuid, "--status", "USED"}},
		{profile: "ssp", args: []string{"token", "get", ""}},
		{profile: "ssp", args: []string{"token", "get"}},
		{profile: "ssp", args: []string{"token", "get", uuid, "-o", "secret"}},
		{profile: "ssp", args: []string{"token", "delete", uuid}},
		{profile: "ssp", args: []string{"token", "delete", uuid, "--yes", "--concurrency", "0"}},
		{profile: "ssp", args: []string{"token", "delete", uuid, "--yes", "-o", "manifest"}},
		{profile: "ssp", args: []string{"token", "update", uuid, "--read"}},
		// sensors
		{profile: "ssp", args: []string{"sensor", "details", "--health", "poorly"}},
		{profile: "ssp", args: []string{"sensor", "details", "--registration-status", "maybe"}},
		{profile: "ssp", args: []string{"sensor", "details", "--software-versions", "!!"}},
		{profile: "ssp", args: []string{"sensor", "details", "--sort-by", "colour"}},
		{profile: "ssp", args: []string{"sensor", "update", uuid}},
		{profile: "ssp", args: []string{"sensor", "update", uuid, "--display-name", ""}},
		{profile: "ssp", args: []string{"sensor", "update", uuid, "--description", long}},
		{profile: "ssp", args: []string{"sensor", "update", uuid, "--display-name", "a", "--revision", "-1"}},
		{profile: "ssp", args: []string{"sensor", "features", "set", uuid}},
		{profile: "ssp", args: []string{"sensor", "features", "set", "--ids", "sometimes", uuid}},
		{profile: "ssp", args: []string{"sensor", "features", "set", "--flows", "on", uuid}},
		{profile: "ssp", args: []string{"sensor", "features", "set", "--mps", "enable", "not-a-uuid"}},
		{profile: "ssp", args: []string{"sensor", "mps", "set"}},
		{profile: "ssp", args: []string{"sensor", "delete", uuid}},
		{profile: "ssp", args: []string{"sensor", "delete", uuid, "--yes", "--concurrency", "0"}},
		{profile: "ssp", args: []string{"sensor", "list", "-o", "manifest"}},
		{profile: "ssp", args: []string{"sensor", "get", uuid, "-o", "secret"}},
		{profile: "ssp", args: []string{"sensor", "list", "--sort-by", "colour"}},
		{profile: "ssp", args: []string{"token", "list", "-o", "secret"}},
		{profile: "ssp", args: []string{"token", "list", "-o", "manifest"}},
		{profile: "ssp", args: []string{"token", "status", "-o", "secret"}},
		{profile: "ssp", args: []string{"authtoken", "list"}},
		// waits, baremetal servers, apply and diff
		{profile: "ssp", args: []string{"token", "wait", uuid, "--for", "married"}},
		{profile: "ssp", args: []string{"token", "wait", uuid, "--count", "0"}},
		{profile: "ssp", args: []string{"token", "wait", uuid, "--wait-timeout", "-1s"}},
		{profile: "ssp", args: []string{"token", "wait", uuid, "--interval", "0s"}},
		{profile: "ssp", args: []string{"token", "wait"}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--passphrase-file", pp, "--wait", "married"}},
		{profile: "ssp", args: []string{"token", "create", "--display-name", "x", "--passphrase-file", pp, "-o", "install-script"}},
		{profile: "ssp", args: []string{"baremetal", "get", ""}},
		{profile: "ssp", args: []string{"baremetal", "uninstall", uuid}},
		{profile: "ssp", args: []string{"baremetal", "installer", "--bundle-version", " "}},
		{profile: "ssp", args: []string{"baremetal", "installer", "-o", "json"}},
		{profile: "ssp", args: []string{"apply"}},
		{profile: "ssp", args: []string{"apply", "-f", "/nonexistent.yaml"}},
		{profile: "ssp", stdin: "kind: SensorToken\ndisplay_name: pool\ncolour: red\n", args: []string{"apply", "-f", "-"}},
		{profile: "ssp", stdin: "kind: Laptop\n", args: []string{"diff", "-f", "-"}},
		{profile: "ssp", stdin: "kind: SensorToken\ndisplay_name: pool\n", args: []string{"diff", "-f", "-", "-o", "id"}},
		// api
		{profile: "ssp", args: []string{"api", "GET"}},
		{profile: "ssp", args: []string{"api", "FETCH", "/x"}},
		{profile: "ssp", args: []string{"api", "GET", "sensors"}},
		{profile: "ssp", args: []string{"api", "GET", "https://elsewhere.example/x"}},
		{profile: "ssp", args: []string{"api", "GET", "/x", "-H", "bad"}},
		{profile: "ssp", args: []string{"api", "GET", "/x", "-F", "nokv"}},
		{profile: "ssp", args: []string{"api", "POST", "/x", "-f", "/nonexistent"}},
		{profile: "ssp", args: []string{"api", "GET", "/x", "-o", "id"}},
		// nsx
		{profile: "nsx", args: []string{"token", "create", "--type", "baremetal"}},
		{profile: "nsx", args: []string{"token", "create", "--name", "x"}},
		{profile: "nsx", args: []string{"token", "create", "-o", "manifest"}},
		{profile: "nsx", args: []string{"token", "list"}},
		{profile: "nsx", args: []string{"token", "status", "x"}},
		{profile: "nsx", args: []string{"token", "get", "-"}},
		{profile: "nsx", args: []string{"token", "get", "   "}},
		{profile: "nsx", stdin: uuid + "\n", args: []string{"token", "get", "-", "-o", "id"}},
		{profile: "nsx", stdin: uuid + "\n", args: []string{"token", "delete", "-", "--yes", "-o", "id"}},
		{profile: "nsx", stdin: uuid + "\n", args: []string{"token", "delete", "-"}},
		{profile: "nsx", args: []string{"token", "delete", "--type", "sensor", "x", "--yes"}},
		{profile: "nsx", args: []string{"sensor", "list"}},
		// agent
		{profile: "agent", args: []string{"token", "create"}},
		{profile: "agent", args: []string{"token", "create", "--name", "  "}},
		{profile: "agent", args: []string{"token", "create", "--name", "x", "--display-name", "y"}},
		{profile: "agent", args: []string{"token", "create", "--name", "x", "--allowed-instances", "3"}},
		{profile: "agent", args: []string{"token", "create", "--name", "x", "-o", "manifest"}},
		{profile: "agent", stdin: "name: x\nuuid: mine\n", args: []string{"token", "create", "-f", "-"}},
		{profile: "agent", stdin: "name: x\nread: perhaps\n", args: []string{"token", "create", "-f", "-"}},
		{profile: "agent", stdin: "name: a\n---\nname: b\n", args: []string{"token", "create", "-f", "-", "-o", "secret"}},
		{profile: "agent", args: []string{"token", "update", "x"}},
		{profile: "agent", args: []string{"token", "update", "x", "--name", ""}},
		{profile: "agent", args: []string{"token", "update", "", "--read"}},
		{profile: "agent", args: []string{"token", "list", "--status", "AVAILABLE"}},
		{profile: "agent", args: []string{"token", "list", "-o", "secret"}},
		{profile: "agent", args: []string{"token", "status"}},
		// sdwan
		{profile: "sdwan", args: []string{"authtoken", "create"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "emperor", "--expires", "1h"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "guest,element,devops,secops,tenant_viewonly,tenant_super,tenant_root,esp_user", "--expires", "1h"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "guest", "--expires", "junk"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "guest", "--expires", "-5h"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "guest", "--expires-at", "2000-01-01T00:00:00Z"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "guest", "--expires", "1h", "--expires-at", "2030-01-01T00:00:00Z"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "guest", "--expires", "1h", "--session-key-c-file", "/nonexistent"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "guest", "--expires", "1h", "-o", "manifest"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "guest", "--expires", "1h", "--concurrency", "0"}},
		{profile: "sdwan", args: []string{"authtoken", "create", "--role", "guest", "--expires", "1h", "--operator", ""}},
		{profile: "sdwan", args: []string{"authtoken", "list", "--operator", ""}},
		{profile: "sdwan", args: []string{"authtoken", "get", "123", "--tenant", " "}},
		{profile: "sdwan", args: []string{"authtoken", "get", ""}},
		{profile: "sdwan", args: []string{"authtoken", "get", "123", "-o", "secret"}},
		{profile: "sdwan", args: []string{"authtoken", "delete", "123"}},
		{profile: "sdwan", args: []string{"authtoken", "delete", "123", "--yes", "--concurrency", "-1"}},
		{profile: "sdwan", args: []string{"token", "list"}},
	}
	refused, known := 0, 0
	for _, c := range cases {
		args := c.args
		if c.profile != "" {
			args = append([]string{"--profile", c.profile}, args...)
		}
		before := requests.Load()
		r := runBounded(t, pe.Dir, append(pe.Env(), c.env...), c.stdin, args...)
		sent := requests.Load() - before
		ok := r.Code == 2 && sent == 0
		switch {
		case ok && c.known != "":
			t.Errorf("tokenctl %s %v: now refused before sending; remove it from the known cases (%s)", strings.Join(args, " "), c.env, c.known)
		case ok:
			refused++
		case c.known != "":
			known++
			t.Logf("known, owned elsewhere: tokenctl %s: exit %d after %d requests (%s)", strings.Join(args, " "), r.Code, sent, c.known)
		default:
			t.Errorf("tokenctl %s %v: exit %d after %d requests, want exit 2 with none\n%s", strings.Join(args, " "), c.env, r.Code, sent, r.Stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(pe.Dir, "config", "tokenctl", "config.yaml")); err != nil {
		t.Fatal(err)
	}
	t.Logf("bad inputs tried: %d; refused before sending (exit 2, no request): %d; known open cases owned elsewhere: %d", len(cases), refused, known)
}

// runBounded runs the binary like procEnv.Run, but kills it after 20s:
// a build that accepts a bad `sandbox serve` flag would serve forever.
// A killed run counts as exit -1.
func runBounded(t *testing.T, dir string, env []string, stdin string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "tokenctl"), args...)
	cmd.Env, cmd.Dir, cmd.Stdin = env, dir, strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := run{Args: args, Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	default:
		t.Fatalf("tokenctl %v: %v", args, err)
	}
	return r
}
