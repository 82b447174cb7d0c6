package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// secretStep is one tokenctl run of the secret-safety test.
type secretStep struct {
	args  []string
	stdin string
	env   []string // extra NAME=value pairs
	code  int      // the exit code the step must end with
	// stdoutMay lists the secrets this step's stdout exists to show: a
	// create's one-time secret, or an agent uuid, which is the id of the
	// object a get or update prints.
	stdoutMay []string
	// argvMay lists the secrets this step puts in argv on purpose: a bad
	// input the step proves is refused without being stored or echoed.
	argvMay []string
	res     run
}

// TestNoSecretLeaks runs every command that handles a secret on every
// platform, each with --debug, and an error path of each, then scans
// stderr, stdout (except a create's own output of its new secret), the
// config file (secrets given as password_env / password_command / *_env),
// the cache, the sandbox's state and every argv for every secret value.
func TestNoSecretLeaks(t *testing.T) {
	pe := newProcEnv(t)
	dir := pe.Dir
	secret := map[string]string{} // label -> value
	add := func(label, value string) string {
		if strings.TrimSpace(value) == "" {
			t.Fatalf("secret %s is empty", label)
		}
		secret[label] = value
		return value
	}
	pw := add("server password", "Srv-Pw-"+sim.RandomString(20))
	wrongPW := add("wrong password (stored inline by --password-stdin)", "Wrong-Pw-"+sim.RandomString(20))
	wrongClientSecret := add("wrong OAuth client secret", "Wrong-Cs-"+sim.RandomString(20))
	staticToken := add("SD-WAN static token", sdwan.StaticAuthToken)
	// HTTP Basic and the OAuth client's Basic carry the secrets base64-encoded.
	for _, user := range []string{"admin", "auditor", "tokenctl-sandbox"} {
		for _, p := range []string{pw, wrongPW, wrongClientSecret} {
			add("Basic credentials of "+user+" ("+p[:6]+"...)", base64.StdEncoding.EncodeToString([]byte(user+":"+p)))
		}
	}

	statePath := filepath.Join(dir, "sandbox-state.json")
	_, url, stop := startProcSandbox(t, sandbox.Options{Options: sim.Options{Seed: 1, Password: pw}, StatePath: statePath})
	pwFile := filepath.Join(dir, "pw.txt")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pe.Set("SRV_PW", pw)
	pe.Set("SDWAN_TOKEN", staticToken)
	pe.Set("SASE_SECRET", pw)

	var steps []*secretStep
	do := func(s *secretStep) *secretStep {
		t.Helper()
		env := pe.Env()
		pe2 := &procEnv{Dir: dir, vars: append(env, s.env...)}
		s.res = pe2.Run(t, s.stdin, s.args...)
		if s.res.Code != s.code {
			t.Fatalf("tokenctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(s.args, " "), s.res.Code, s.code, s.res.Stdout, s.res.Stderr)
		}
		steps = append(steps, s)
		return s
	}
	field := func(s *secretStep, name string) string {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(s.res.Stdout), &m); err != nil {
			t.Fatalf("%v: stdout is not a JSON object: %v", s.args, err)
		}
		v, _ := m[name].(string)
		return v
	}

	// Profiles: secrets from the environment, a command and stdin.
	do(&secretStep{args: []string{"profile", "set", "ssp-env", "--platform", "ssp", "--server", url, "--username", "admin", "--password-env", "SRV_PW"}})
	do(&secretStep{args: []string{"profile", "set", "ssp-cmd", "--platform", "ssp", "--server", url, "--username", "admin", "--password-command", "cat " + pwFile}})
	do(&secretStep{args: []string{"profile", "set", "ssp-bad", "--platform", "ssp", "--server", url, "--username", "admin", "--password-stdin"}, stdin: wrongPW + "\n"})
	do(&secretStep{args: []string{"profile", "set", "nsx-basic", "--platform", "nsx", "--server", url, "--username", "admin", "--password-env", "SRV_PW"}})
	do(&secretStep{args: []string{"profile", "set", "nsx-session", "--platform", "nsx", "--auth", "session", "--server", url, "--username", "admin", "--password-command", "cat " + pwFile}})
	do(&secretStep{args: []string{"profile", "set", "bamboo", "--platform", "agent", "--server", url, "--username", "admin", "--password-env", "SRV_PW"}})
	do(&secretStep{args: []string{"profile", "set", "cgx", "--platform", "sdwan", "--api-generation", "legacy", "--server", url, "--token-env", "SDWAN_TOKEN"}})
	do(&secretStep{args: []string{"profile", "set", "sase", "--platform", "sdwan", "--api-generation", "unified", "--server", url,
		"--client-id", "tokenctl-sandbox", "--client-secret-env", "SASE_SECRET", "--tsg-id", "1999000042", "--auth-url", url + "/oauth2/access_token"}})
	do(&secretStep{args: []string{"--debug", "profile", "check", "ssp-cmd"}})
	do(&secretStep{args: []string{"--debug", "profile", "check", "nsx-session"}})
	do(&secretStep{args: []string{"--debug", "profile", "check", "sase"}})

	// SSP: a passphrase from stdin, a file, the environment and the generator.
	p1 := add("passphrase (stdin)", "Stdin-Pass-"+sim.RandomString(12)+"1!")
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "token", "create", "--display-name", "s1", "--passphrase-stdin", "-o", "json"}, stdin: p1 + "\n"})
	p2 := add("passphrase (file)", "File-Pass-"+sim.RandomString(12)+"2!")
	if err := os.WriteFile(filepath.Join(dir, "pp2.txt"), []byte(p2+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	do(&secretStep{args: []string{"--profile", "ssp-cmd", "--debug", "token", "create", "--display-name", "s2", "--passphrase-file", "pp2.txt"}})
	p3 := add("passphrase (env)", "Env-Pass-"+sim.RandomString(12)+"3!")
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "token", "create", "--display-name", "s3", "-o", "yaml"}, env: []string{"TOKENCTL_PASSPHRASE=" + p3}})
	gen := do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "token", "create", "--display-name", "s4", "--generate-passphrase", "--passphrase-file", "gen.txt", "-o", "json"}})
	genPP, err := os.ReadFile(filepath.Join(dir, "gen.txt"))
	if err != nil {
		t.Fatal(err)
	}
	add("passphrase (generated)", strings.TrimSpace(string(genPP)))
	s4 := field(gen, "id")
	p5 := add("passphrase (baremetal)", "Bare-Pass-"+sim.RandomString(12)+"5!")
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "token", "create", "--type", "baremetal", "--display-name", "bm1", "--passphrase-stdin", "-o", "manifest"}, stdin: p5 + "\n"})
	do(&secretStep{args: []string{"--profile", "ssp-cmd", "--debug", "token", "get", s4, "-o", "json"}})
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "token", "list", "--all", "-o", "json"}})
	// error paths: a passphrase the vendor's rules refuse (nothing sent), a
	// read-only user (403 after sending the passphrase), a wrong password (401)
	p6 := add("passphrase (refused locally)", "NoDigitsInThisPassphrase-"+sim.RandomString(6)+"!")
	p6 = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'x'
		}
		return r
	}, p6)
	secret["passphrase (refused locally)"] = p6
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "token", "create", "--display-name", "s6", "--passphrase-stdin", "-o", "json"}, stdin: p6 + "\n", code: 2})
	p7 := add("passphrase (403)", "Auditor-Pass-"+sim.RandomString(12)+"7!")
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "token", "create", "--display-name", "s7", "--passphrase-stdin", "-o", "json"}, stdin: p7 + "\n",
		env: []string{"TOKENCTL_USERNAME=auditor"}, code: 3})
	do(&secretStep{args: []string{"--profile", "ssp-bad", "--debug", "token", "list", "-o", "json"}, code: 3})
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "token", "delete", s4, "--yes"}})

	// apply: passphrases from a document's passphrase_file and passphrase_env;
	// a passphrase file the vendor's rules refuse (exit 2, nothing sent).
	p8 := add("passphrase (apply, passphrase_file)", "Apply-File-"+sim.RandomString(12)+"8!")
	p9 := add("passphrase (apply, passphrase_env)", "Apply-Env-"+sim.RandomString(12)+"9!")
	p10 := add("passphrase (apply, refused locally)", "apply-weak-"+strings.ToLower(sim.RandomString(12)))
	for name, data := range map[string]string{
		"pool8.pp":   p8 + "\n",
		"pool10.pp":  p10 + "\n",
		"apply.yaml": "kind: SensorToken\ndisplay_name: ap1\npassphrase_file: pool8.pp\n---\nkind: BaremetalToken\ndisplay_name: ap2\npassphrase_env: APPLY_PP\n",
		"weak.yaml":  "kind: SensorToken\ndisplay_name: ap3\npassphrase_file: pool10.pp\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "apply", "-f", "apply.yaml", "-o", "json"}, env: []string{"APPLY_PP=" + p9}})
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "diff", "-f", "apply.yaml", "--prune"}, env: []string{"APPLY_PP=" + p9}})
	do(&secretStep{args: []string{"--profile", "ssp-env", "--debug", "apply", "-f", "weak.yaml"}, code: 2})

	// NSX: new tokens shown once by their create; by value from stdin after.
	c1 := do(&secretStep{args: []string{"--profile", "nsx-basic", "--debug", "token", "create", "-o", "json"}})
	n1 := add("NSX token 1", field(c1, "token"))
	c1.stdoutMay = []string{n1}
	c2 := do(&secretStep{args: []string{"--profile", "nsx-basic", "--debug", "token", "create", "--type", "sensor", "-o", "secret"}})
	n2 := add("NSX sensor token", strings.TrimSpace(c2.res.Stdout))
	c2.stdoutMay = []string{n2}
	do(&secretStep{args: []string{"--profile", "nsx-basic", "--debug", "token", "get", "-", "-o", "json"}, stdin: n1 + "\n"})
	do(&secretStep{args: []string{"--profile", "nsx-basic", "--debug", "token", "get", "-"}, stdin: n2 + "\n"})
	do(&secretStep{args: []string{"--profile", "nsx-basic", "--debug", "token", "delete", "-", "--yes", "-o", "json"}, stdin: n2 + "\n"})
	n3 := add("NSX token (unknown)", "3f8e1c2a-"+sim.NewUUID()[9:])
	do(&secretStep{args: []string{"--profile", "nsx-basic", "--debug", "token", "get", "-", "-o", "json"}, stdin: n3 + "\n", code: 4})
	c4 := do(&secretStep{args: []string{"--profile", "nsx-session", "--debug", "token", "create", "-o", "id"}})
	n4 := add("NSX token (session)", strings.TrimSpace(c4.res.Stdout))
	c4.stdoutMay = []string{n4}
	do(&secretStep{args: []string{"--profile", "nsx-session", "--debug", "token", "get", "-"}, stdin: n4 + "\n"})
	do(&secretStep{args: []string{"--profile", "nsx-session", "--debug", "token", "delete", "-", "--yes"}, stdin: n4 + "\n"})
	do(&secretStep{args: []string{"--profile", "nsx-basic", "--debug", "token", "create"}, env: []string{"TOKENCTL_USERNAME=auditor"}, code: 3})

	// agent-config: the uuid is the secret; "-" reads it from stdin.
	a := do(&secretStep{args: []string{"--profile", "bamboo", "--debug", "token", "create", "--name", "a1", "--read", "-o", "json"}})
	a1 := add("agent uuid", field(a, "uuid"))
	a.stdoutMay = []string{a1}
	do(&secretStep{args: []string{"--profile", "bamboo", "--debug", "token", "get", "-", "-o", "json"}, stdin: a1 + "\n", stdoutMay: []string{a1}})
	do(&secretStep{args: []string{"--profile", "bamboo", "--debug", "token", "update", "-", "--change"}, stdin: a1 + "\n", stdoutMay: []string{a1}})
	do(&secretStep{args: []string{"--profile", "bamboo", "--debug", "token", "delete", "-", "--yes"}, stdin: a1 + "\n", code: 1})
	// apply names agent tokens masked: its output never shows the uuid.
	if err := os.WriteFile(filepath.Join(dir, "agent.yaml"), []byte("kind: AgentToken\nname: a1\nread: false\n---\nkind: AgentToken\nname: a9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	do(&secretStep{args: []string{"--profile", "bamboo", "--debug", "apply", "-f", "agent.yaml", "-o", "json"}})
	do(&secretStep{args: []string{"--profile", "bamboo", "--debug", "diff", "-f", "agent.yaml"}})
	l := do(&secretStep{args: []string{"--profile", "bamboo", "token", "list", "--jq", `.[] | select(.name == "a9") | .uuid`}})
	a9 := add("agent uuid (created by apply)", strings.TrimSpace(l.res.Stdout))
	l.stdoutMay = []string{a9}
	a2 := add("agent uuid (unknown)", sim.NewUUID())
	do(&secretStep{args: []string{"--profile", "bamboo", "--debug", "token", "get", "-", "-o", "json"}, stdin: a2 + "\n", code: 4})

	// SD-WAN: the new x_auth_token is shown once by its create; session_key_c
	// from stdin; the static token and the OAuth client secret authenticate.
	k1 := add("session_key_c", "Session-Key-"+sim.RandomString(16))
	x := do(&secretStep{args: []string{"--profile", "cgx", "--debug", "authtoken", "create", "--role", "tenant_viewonly", "--expires", "24h", "--session-key-c-file", "-", "-o", "json"}, stdin: k1 + "\n"})
	x1 := add("x_auth_token (legacy)", field(x, "x_auth_token"))
	// session_key_c is a secret on input only: the server returns it in the
	// token object, which list and get print as the vendor sends it
	// (internal/sdwan/doc.go); --debug and stderr never show it.
	x.stdoutMay = []string{x1, k1}
	id1 := field(x, "id")
	do(&secretStep{args: []string{"--profile", "cgx", "--debug", "authtoken", "list", "-o", "json"}, stdoutMay: []string{k1}})
	do(&secretStep{args: []string{"--profile", "cgx", "--debug", "authtoken", "get", id1, "-o", "json"}, stdoutMay: []string{k1}})
	do(&secretStep{args: []string{"--profile", "cgx", "--debug", "authtoken", "delete", id1, "--yes"}})
	do(&secretStep{args: []string{"--profile", "cgx", "--debug", "authtoken", "get", "99999999999999999"}, code: 4})
	u := do(&secretStep{args: []string{"--profile", "sase", "--debug", "authtoken", "create", "--role", "tenant_super", "--expires", "1h", "-o", "secret"}})
	x2 := add("x_auth_token (unified)", strings.TrimSpace(u.res.Stdout))
	u.stdoutMay = []string{x2}
	do(&secretStep{args: []string{"--profile", "sase", "--debug", "authtoken", "list"}})
	// A second unified profile, so no access token is cached for it: its
	// wrong client secret goes to the token endpoint (401).
	do(&secretStep{args: []string{"profile", "set", "sase-bad", "--platform", "sdwan", "--api-generation", "unified", "--server", url,
		"--client-id", "tokenctl-sandbox", "--client-secret-env", "SASE_BAD", "--tsg-id", "1999000043", "--auth-url", url + "/oauth2/access_token"}})
	do(&secretStep{args: []string{"--profile", "sase-bad", "--debug", "authtoken", "list", "-o", "json"}, env: []string{"SASE_BAD=" + wrongClientSecret}, code: 3})

	// Credentials in a server URL (issue 16 item 10): refused from a flag,
	// TOKENCTL_SERVER and a hand-edited profile, never stored or printed.
	up := add("password in a URL's userinfo", "Url-Pw-"+sim.RandomString(20))
	withUser := strings.Replace(url, "://", "://admin:"+up+"@", 1)
	do(&secretStep{args: []string{"profile", "set", "userinfo", "--platform", "ssp", "--server", withUser}, argvMay: []string{up}, code: 2})
	do(&secretStep{args: []string{"--platform", "ssp", "--debug", "token", "list"}, env: []string{"TOKENCTL_SERVER=" + withUser, "TOKENCTL_USERNAME=admin"}, code: 2})
	do(&secretStep{args: []string{"--platform", "nsx", "--debug", "token", "create"}, env: []string{"TOKENCTL_SERVER=" + withUser}, code: 2})
	handCfg := filepath.Join(dir, "hand-edited.yaml")
	if err := os.WriteFile(handCfg, []byte("current_profile: hand\nprofiles:\n  hand:\n    platform: agent\n    server: "+withUser+"\n    username: admin\n    password_env: SRV_PW\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hand := []string{"TOKENCTL_CONFIG=" + handCfg}
	do(&secretStep{args: []string{"--debug", "token", "list"}, env: hand, code: 2})
	do(&secretStep{args: []string{"profile", "list"}, env: hand})
	do(&secretStep{args: []string{"profile", "show", "-o", "json"}, env: hand})
	do(&secretStep{args: []string{"profile", "check"}, env: hand, code: 2})

	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// The debug log was on: every run that sent a request logged it, with
	// something redacted (an Authorization header at least).
	for _, s := range steps {
		if slices.Contains(s.args, "--debug") && s.code != 2 && !strings.Contains(s.res.Stderr, "[REDACTED]") {
			t.Errorf("tokenctl %s: no redacted debug log on stderr:\n%s", strings.Join(s.args, " "), s.res.Stderr)
		}
	}

	// The scan.
	for label, v := range secret {
		for _, s := range steps {
			cmdline := strings.Join(s.args, " ")
			for _, a := range s.args {
				if strings.Contains(a, v) && !slices.Contains(s.argvMay, v) {
					t.Errorf("%s is in the argv of tokenctl %s", label, cmdline)
				}
			}
			if strings.Contains(s.res.Stderr, v) {
				t.Errorf("%s is on the stderr of tokenctl %s:\n%s", label, cmdline, s.res.Stderr)
			}
			if strings.Contains(s.res.Stdout, v) && !slices.Contains(s.stdoutMay, v) {
				t.Errorf("%s is on the stdout of tokenctl %s:\n%s", label, cmdline, s.res.Stdout)
			}
		}
		files := map[string]bool{pe.CachePath(): true, pe.ConfigPath(): v != wrongPW}
		// The server keeps what it issued (NSX tokens, agent uuids, SD-WAN
		// tokens), as a real one does; never a password or a passphrase.
		if strings.HasPrefix(label, "server password") || strings.HasPrefix(label, "passphrase") || strings.HasPrefix(label, "wrong") || label == "session_key_c" {
			files[statePath] = true
		}
		for path, scan := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				if !os.IsNotExist(err) {
					t.Error(err)
				}
				continue
			}
			if scan && strings.Contains(string(data), v) {
				t.Errorf("%s is in %s", label, filepath.Base(path))
			}
		}
	}
	cfg, _ := os.ReadFile(pe.ConfigPath())
	if !strings.Contains(string(cfg), wrongPW) {
		t.Error("--password-stdin did not store the password inline: the config scan proved nothing")
	}
	if _, err := os.Stat(pe.CachePath()); err != nil {
		t.Errorf("no cache file to scan: %v", err)
	}
	t.Logf("%d secrets, %d runs scanned", len(secret), len(steps))
}
