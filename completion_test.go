package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox"
)

// bashCompletion is Debian's bash-completion, which cobra's bash script
// uses for _get_comp_words_by_ref (.ci/run installs it).
const bashCompletion = "/usr/share/bash-completion/bash_completion"

// completionEnv is a shell environment with its own config, state and a
// profile pointing at a sandbox.
type completionEnv struct {
	t   *testing.T
	env []string
	srv *sandbox.Server
	url string
}

func newCompletionEnv(t *testing.T) *completionEnv {
	t.Helper()
	_, err := exec.LookPath("bash")
	_, bcErr := os.Stat(bashCompletion)
	if err != nil || bcErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("bash and %s are needed for the completion test (apt-get install bash-completion)", bashCompletion)
		}
		t.Skipf("bash or %s missing: skipping the real-shell completion test", bashCompletion)
	}
	work := t.TempDir()
	opts := sandbox.Options{StatePath: filepath.Join(work, "sandbox.json")}
	opts.Seed, opts.SeedSensors = 1, 5
	srv, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ce := &completionEnv{t: t, srv: srv, url: url, env: []string{
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + filepath.Join(work, "home"),
		"XDG_CONFIG_HOME=" + filepath.Join(work, "config"),
		"XDG_STATE_HOME=" + filepath.Join(work, "state"),
		"SBX_PW=tokenctl-sandbox",
		"COLUMNS=200",
	}}
	ce.run("profile", "set", "sbx", "--platform", "ssp", "--server", url, "--username", "admin", "--password-env", "SBX_PW")
	return ce
}

// run runs tokenctl and returns its stdout.
func (ce *completionEnv) run(args ...string) string {
	ce.t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "tokenctl"), args...)
	cmd.Env = ce.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		ce.t.Fatalf("tokenctl %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// complete asks bash, with the committed completion script, what TAB
// offers at the end of line, and returns COMPREPLY's values (descriptions,
// which bash shows beside several candidates, are cut off).
func (ce *completionEnv) complete(line string) []string {
	ce.t.Helper()
	script := `
source ` + bashCompletion + `
source "$1"
COMP_LINE="$2"
COMP_POINT=${#COMP_LINE}
COMP_TYPE=9
read -ra COMP_WORDS <<< "$COMP_LINE"
if [[ "$COMP_LINE" == *" " ]]; then COMP_WORDS+=(""); fi
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMPREPLY=()
__start_tokenctl tokenctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
`
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script, "bash", filepath.Join("completions", "tokenctl.bash"), line)
	cmd.Env = ce.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		ce.t.Fatalf("bash completing %q: %v\n%s", line, err, errOut.String())
	}
	var values []string
	for _, l := range strings.Split(out.String(), "\n") {
		if fields := strings.Fields(l); len(fields) > 0 {
			values = append(values, fields[0])
		}
	}
	slices.Sort(values)
	return values
}

func (ce *completionEnv) expect(line string, want ...string) {
	ce.t.Helper()
	slices.Sort(want)
	if got := ce.complete(line); !slices.Equal(got, want) {
		ce.t.Errorf("TAB after %q offers %q, want %q", line, got, want)
	}
}

// TestBashCompletion drives the committed bash completion script in a real
// bash against a sandbox: ids come from the current profile's server,
// profile names from the config, fixed values from the flags, and nothing
// at all where ids are secrets or the server cannot be asked.
func TestBashCompletion(t *testing.T) {
	ce := newCompletionEnv(t)
	id1 := ce.run("token", "create", "--display-name", "tab-one", "--generate-passphrase", "--passphrase-file", filepath.Join(t.TempDir(), "pp1"), "-o", "id")
	id2 := ce.run("token", "create", "--display-name", "tab-two", "--generate-passphrase", "--passphrase-file", filepath.Join(t.TempDir(), "pp2"), "-o", "id")
	if id1 == "" || id2 == "" || id1[:4] == id2[:4] {
		t.Skipf("token ids %q and %q share a prefix; the prefix case needs distinct ones", id1, id2)
	}

	t.Run("token ids", func(t *testing.T) {
		ce.t = t
		// display names are IDs too (DESIGN.md, names as IDs): offered after the ids
		ce.expect("tokenctl token get ", id1, id2, "tab-one", "tab-two")
		ce.expect("tokenctl token get "+id1[:4], id1)
		ce.expect("tokenctl token status --type sensor "+id2[:4], id2)
		ce.expect("tokenctl token get " + id1 + " ") // one ID only
		ce.expect("tokenctl token delete "+id1+" ", id2, "tab-one", "tab-two")
		ce.expect("tokenctl token get --type baremetal ")
	})
	t.Run("sensor ids", func(t *testing.T) {
		ce.t = t
		sensors := strings.Fields(ce.run("sensor", "list", "-o", "id"))
		if len(sensors) != 5 {
			t.Fatalf("sandbox sensors: %q", sensors)
		}
		names := strings.Fields(ce.run("sensor", "list", "-o", "json", "--jq", ".[].display_name"))
		ce.expect("tokenctl sensor get ", append(slices.Clone(sensors), names...)...)
		ce.expect("tokenctl sensor status "+sensors[2][:8], sensors[2])
		ce.expect("tokenctl sensor delete "+sensors[0]+" "+sensors[1]+" ", append(slices.Clone(sensors[2:]), names...)...)
		ce.expect("tokenctl sensor features set --mps enable "+sensors[0]+" ", sensors[1:]...)
		ce.expect("tokenctl sensor features set --ids ", "enable_with_pcap", "enable_without_pcap", "disable")
	})
	t.Run("sdwan auth token ids", func(t *testing.T) {
		ce.t = t
		ce.env = append(ce.env, "CGX_TOKEN=tokenctl-sandbox-token")
		ce.run("profile", "set", "cgx", "--platform", "sdwan", "--api-generation", "legacy", "--server", ce.url, "--token-env", "CGX_TOKEN")
		id := ce.run("--profile", "cgx", "authtoken", "create", "--role", "tenant_viewonly", "--expires", "1h", "-o", "id")
		got := ce.complete("tokenctl --profile cgx authtoken delete ")
		if !slices.Contains(got, id) {
			t.Errorf("authtoken delete offers %q, want %s among them", got, id)
		}
		ce.expect("tokenctl --profile cgx authtoken get " + id + " ")
	})
	t.Run("commands and fixed values", func(t *testing.T) {
		ce.t = t
		ce.expect("tokenctl tok", "token")
		ce.expect("tokenctl token list --status ", "AVAILABLE", "EXPIRED", "USED")
		ce.expect("tokenctl token create --type ", "sensor", "baremetal")
		ce.expect("tokenctl --platform ", "ssp", "nsx", "sdwan", "agent")
		ce.expect("tokenctl -o y", "yaml")
		ce.expect("tokenctl api ", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
		ce.expect("tokenctl version ")
		// --sort-by: the server's fields and the columns tokenctl sorts
		ce.expect("tokenctl token list --sort-by e", "expires", "expiry") // sensor, baremetal tokens
		ce.expect("tokenctl sensor list --sort-by n", "name")
		ce.expect("tokenctl baremetal list --sort-by na", "name")
	})
	t.Run("profiles", func(t *testing.T) {
		ce.t = t
		ce.expect("tokenctl --profile ", "sandbox", "sbx", "cgx")
		ce.expect("tokenctl profile use s", "sandbox", "sbx")
		ce.expect("tokenctl profile delete ", "sbx", "cgx")
	})
	t.Run("never secrets, never a prompt, silent on failure", func(t *testing.T) {
		ce.t = t
		url := ce.url
		ce.run("profile", "set", "nsx1", "--platform", "nsx", "--server", url, "--username", "admin", "--password-env", "SBX_PW")
		ce.run("profile", "set", "bamboo", "--platform", "agent", "--server", url, "--username", "admin", "--password-env", "SBX_PW")
		ce.run("--profile", "bamboo", "token", "create", "--name", "secret-uuid", "--read", "-o", "id")
		ce.run("profile", "set", "nopw", "--platform", "ssp", "--server", url, "--username", "admin")
		ce.run("profile", "set", "down", "--platform", "ssp", "--server", "http://"+closedPort(t), "--username", "admin", "--password-env", "SBX_PW")
		before := ce.srv.Requests()
		ce.expect("tokenctl --profile nsx1 token get ")
		ce.expect("tokenctl --profile nsx1 token delete ")
		ce.expect("tokenctl --profile bamboo token get ")
		ce.expect("tokenctl --profile bamboo token update ")
		ce.expect("tokenctl --profile nopw token get ")
		if n := ce.srv.Requests() - before; n != 0 {
			t.Errorf("the sandbox received %d requests while completing secret ids or without a password", n)
		}
		ce.expect("tokenctl --profile down token get ")
		ce.expect("tokenctl --profile nosuch token get ")
		// The same line with the right profile still works.
		ce.expect("tokenctl --profile sbx token get "+id2[:4], id2)
	})
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
