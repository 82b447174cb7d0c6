package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/prompt"
	sdwansandbox "github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

var tty = run{stdinTTY: true, stderrTTY: true}

func (r run) with(p *prompt.Stub) run { r.prompter = p; return r }

// TestCreateFormAsksEverythingOnce: `token create` at a terminal with no
// flags asks one form, the name first and the passphrase (twice) last, and
// creates the token with the answers.
func TestCreateFormAsksEverythingOnce(t *testing.T) {
	sandboxEnv(t)
	p := &prompt.Stub{Answers: map[string]string{"--display-name": "asked-name"}, Passwords: []string{"Prompted-Pass-Phrase-1!", "Prompted-Pass-Phrase-1!"}}
	out, errOut, code := tty.with(p).exec(t, "token", "create", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if p.Forms != 1 || len(p.Asked) != 4 || !strings.HasPrefix(p.Asked[0], "Display name") || !strings.HasPrefix(p.Asked[1], "Registration passphrase") ||
		!strings.HasPrefix(p.Asked[2], "Passphrase") || !strings.HasPrefix(p.Asked[3], "Repeat the passphrase") {
		t.Fatalf("%d forms, asked %q", p.Forms, p.Asked)
	}
	var tok struct {
		DisplayName string `json:"display_name"`
	}
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.DisplayName != "asked-name" {
		t.Fatalf("created %s (%v)", out, err)
	}
	if strings.Contains(out+errOut, "Prompted-Pass-Phrase-1!") {
		t.Fatal("the passphrase was echoed")
	}
	// Only what is missing is asked: a name on the command line is not.
	p = &prompt.Stub{Passwords: []string{"Prompted-Pass-Phrase-1!", "Prompted-Pass-Phrase-1!"}}
	if _, errOut, code = tty.with(p).exec(t, "token", "create", "--display-name", "flag-name"); code != 0 || len(p.Asked) != 3 {
		t.Fatalf("exit %d, asked %q: %s", code, p.Asked, errOut)
	}
}

// TestCreateFormValidatesInline: the form's checks are the request's own
// Validate (display_name length, the passphrase rule, the repeat).
func TestCreateFormValidatesInline(t *testing.T) {
	sandboxEnv(t)
	for _, c := range []struct {
		name  string
		stub  *prompt.Stub
		error string
	}{
		{"long name", &prompt.Stub{Answers: map[string]string{"--display-name": strings.Repeat("x", 256)}}, "at most 255 characters"},
		{"blank name", &prompt.Stub{Answers: map[string]string{"--display-name": "  "}}, "required (--display-name)"},
		{"weak passphrase", &prompt.Stub{Answers: map[string]string{"--display-name": "n"}, Passwords: []string{"tooshort"}}, "must be 15 to 128 characters"},
		{"different repeat", &prompt.Stub{Answers: map[string]string{"--display-name": "n"}, Passwords: []string{"Prompted-Pass-Phrase-1!", "Prompted-Pass-Phrase-2!"}}, "the passphrases differ"},
	} {
		_, errOut, code := tty.with(c.stub).exec(t, "token", "create")
		if code == 0 || !strings.Contains(errOut, c.error) {
			t.Errorf("%s: exit %d, %s", c.name, code, errOut)
		}
	}
	if n := tokenCount(t); n != 0 {
		t.Fatalf("%d tokens made from invalid answers", n)
	}
}

// TestCreateFormGeneratesPassphrase: choosing to generate the passphrase
// shows it once on the terminal's stderr (or writes --passphrase-file).
func TestCreateFormGeneratesPassphrase(t *testing.T) {
	sandboxEnv(t)
	p := &prompt.Stub{Answers: map[string]string{"--display-name": "gen", "--passphrase-source": "generate"}}
	out, errOut, code := tty.with(p).exec(t, "token", "create", "-o", "id")
	if code != 0 || len(p.Asked) != 2 {
		t.Fatalf("exit %d, asked %q: %s", code, p.Asked, errOut)
	}
	i := strings.Index(errOut, "shown once")
	if i < 0 {
		t.Fatalf("no passphrase shown: %s", errOut)
	}
	line := strings.SplitN(errOut[i:], "\n", 2)[0]
	pass := strings.TrimSpace(line[strings.LastIndex(line, ": ")+2:])
	if ssp.CheckPassphrase(pass) != "" || strings.Contains(out, pass) {
		t.Fatalf("passphrase %q", pass)
	}
	file := filepath.Join(t.TempDir(), "gen.pp")
	p = &prompt.Stub{Answers: map[string]string{"--display-name": "gen2", "--passphrase-source": "generate"}}
	_, errOut, code = tty.with(p).exec(t, "token", "create", "--type", "baremetal", "--passphrase-file", file)
	if code == 0 {
		// --passphrase-file without --generate-passphrase reads the file: it
		// does not exist, so nothing is asked or created.
		t.Fatalf("created from a missing passphrase file: %s", errOut)
	}
}

// TestCreateFormEsc: Esc on the form is a decline: exit 1, nothing created.
func TestCreateFormEsc(t *testing.T) {
	sandboxEnv(t)
	_, errOut, code := tty.with(&prompt.Stub{Decline: true}).exec(t, "token", "create")
	if code != exit.Error || !strings.Contains(errOut, "cancelled: nothing created") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := tokenCount(t); n != 0 {
		t.Fatalf("%d tokens", n)
	}
}

// TestMissingFlagsAllAtOnce: without a terminal every missing flag is
// reported in one exit-2 error, and nothing is asked.
func TestMissingFlagsAllAtOnce(t *testing.T) {
	sandboxEnv(t)
	p := &prompt.Stub{}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"token", "create"}, []string{"invalid input (2 problems)", "display_name: required (--display-name)", "passphrase: required (--passphrase-stdin"}},
		{[]string{"token", "create", "--type", "baremetal"}, []string{"invalid input (2 problems)", "display_name: required", "passphrase: required"}},
		{[]string{"--platform", "agent", "token", "create"}, []string{"name: required (--name)"}},
		{[]string{"--platform", "sdwan", "authtoken", "create"}, []string{"expires_utc_ms: required: give --expires"}},
		{[]string{"profile", "set", "new"}, []string{"invalid input (2 problems)", "--platform: required for a new profile", "--server: required for a new profile"}},
	} {
		_, errOut, code := run{prompter: p}.exec(t, c.args...)
		if code != exit.Usage {
			t.Errorf("%v: exit %d: %s", c.args, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: %q not in %s", c.args, w, errOut)
			}
		}
	}
	if len(p.Asked) != 0 {
		t.Fatalf("asked %q without a terminal", p.Asked)
	}
}

func TestAgentCreateForm(t *testing.T) {
	sandboxEnv(t)
	p := &prompt.Stub{Answers: map[string]string{"--name": "asked-agent"}}
	out, errOut, code := tty.with(p).exec(t, "--platform", "agent", "token", "create", "--read", "-o", "json")
	if code != 0 || len(p.Asked) != 1 || !strings.Contains(out, `"name": "asked-agent"`) {
		t.Fatalf("exit %d, asked %q, %s %s", code, p.Asked, out, errOut)
	}
	_, errOut, code = tty.with(&prompt.Stub{Answers: map[string]string{"--name": " "}}).exec(t, "--platform", "agent", "token", "create")
	if code == 0 || !strings.Contains(errOut, "required (--name)") {
		t.Fatalf("blank name: exit %d %s", code, errOut)
	}
}

func TestAuthtokenCreateForm(t *testing.T) {
	sandboxEnv(t)
	p := &prompt.Stub{Multi: map[string][]string{"--role": {"tenant_viewonly", "tenant_network_admin"}}, Answers: map[string]string{"--expires": "2h"}}
	out, errOut, code := tty.with(p).exec(t, "--platform", "sdwan", "authtoken", "create", "-o", "json")
	if code != 0 || len(p.Asked) != 2 {
		t.Fatalf("exit %d, asked %q: %s", code, p.Asked, errOut)
	}
	var tok struct {
		Roles []struct{ Name string } `json:"roles"`
	}
	if err := json.Unmarshal([]byte(out), &tok); err != nil || len(tok.Roles) != 2 || tok.Roles[0].Name != "tenant_viewonly" {
		t.Fatalf("created %s", out)
	}
	eight := []string{"tenant_viewonly", "tenant_network_admin", "tenant_security_admin", "tenant_super", "tenant_iam_admin", "tenant_viewonly", "tenant_network_admin", "tenant_security_admin"}
	_, errOut, code = tty.with(&prompt.Stub{Multi: map[string][]string{"--role": eight}}).exec(t, "--platform", "sdwan", "authtoken", "create")
	if code == 0 || !strings.Contains(errOut, "at most 7 roles") {
		t.Fatalf("eight roles: exit %d %s", code, errOut)
	}
	_, errOut, code = tty.with(&prompt.Stub{Multi: map[string][]string{"--role": nil}, Answers: map[string]string{"--expires": "soon"}}).exec(t, "--platform", "sdwan", "authtoken", "create")
	if code == 0 || !strings.Contains(errOut, "--expires") {
		t.Fatalf("bad lifetime: exit %d %s", code, errOut)
	}
	// --role and --expires given: nothing to ask
	p = &prompt.Stub{}
	if _, errOut, code = tty.with(p).exec(t, "--platform", "sdwan", "authtoken", "create", "--role", "tenant_viewonly", "--expires", "1h"); code != 0 || p.Forms != 0 {
		t.Fatalf("exit %d, %d forms: %s", code, p.Forms, errOut)
	}
}

// TestProfileWizard: `profile set NEW` at a terminal asks platform, server,
// auth and the credentials' source, saves the profile and checks it.
func TestProfileWizard(t *testing.T) {
	sandboxEnv(t)
	t.Setenv("TOKENCTL_PROFILE", "")
	url := serveSandbox(t)
	t.Setenv("WIZARD_PW", "tokenctl-sandbox")
	p := &prompt.Stub{Answers: map[string]string{
		"--platform": "ssp", "--server": url, "--username": "admin", "--password-source": "env", "--password-env": "WIZARD_PW",
	}}
	out, errOut, code := tty.with(p).exec(t, "profile", "set", "lab")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if p.Forms != 1 || strings.Join(p.Asked, "|") != "Platform|Server URL\nhttps://manager.example.com (sdwan unified: empty for https://api.sase.paloaltonetworks.com)|User name|Password from|Environment variable" {
		t.Fatalf("asked %q", p.Asked)
	}
	if !strings.Contains(out, "ok") || !strings.Contains(errOut, "Checking it") {
		t.Fatalf("no check after the wizard: %s / %s", out, errOut)
	}
	cfg, _ := os.ReadFile(os.Getenv("TOKENCTL_CONFIG"))
	if !strings.Contains(string(cfg), "password_env: WIZARD_PW") || strings.Contains(string(cfg), "tokenctl-sandbox") {
		t.Fatalf("config:\n%s", cfg)
	}

	// sdwan unified, secret typed and stored; the check authenticates with it
	p = &prompt.Stub{Answers: map[string]string{
		"--platform": "sdwan", "--api-generation": "unified", "--server": url, "--client-id": sdwansandbox.OAuthClientID,
		"--tsg-id": sdwansandbox.TSGID, "--client-secret-source": "store",
	}, Passwords: []string{sdwansandbox.DefaultOAuthClientSecret}}
	_, errOut, code = tty.with(p).exec(t, "profile", "set", "sase", "--auth-url", url+"/oauth2/access_token")
	if code != 0 {
		t.Fatalf("sdwan: exit %d, asked %q: %s", code, p.Asked, errOut)
	}
	if strings.Contains(strings.Join(p.Asked, "|"), "User name") || strings.Contains(strings.Join(p.Asked, "|"), "Authentication") {
		t.Fatalf("sdwan asked what does not apply: %q", p.Asked)
	}
	cfg, _ = os.ReadFile(os.Getenv("TOKENCTL_CONFIG"))
	if !strings.Contains(string(cfg), "api_generation: unified") || !strings.Contains(string(cfg), "auth: oauth") {
		t.Fatalf("config:\n%s", cfg)
	}

	// a wrong password fails the check: the profile stays, exit 3
	t.Setenv("WIZARD_PW", "wrong")
	p = &prompt.Stub{Answers: map[string]string{"--platform": "nsx", "--server": url, "--auth": "session", "--username": "admin", "--password-source": "env", "--password-env": "WIZARD_PW"}}
	_, errOut, code = tty.with(p).exec(t, "profile", "set", "nsx1")
	if code != exit.Auth || !strings.Contains(errOut, "The profile is saved") {
		t.Fatalf("nsx wrong password: exit %d: %s", code, errOut)
	}
	// Esc: nothing saved
	_, errOut, code = tty.with(&prompt.Stub{Decline: true}).exec(t, "profile", "set", "gone")
	if code != exit.Error || !strings.Contains(errOut, "cancelled: nothing saved") {
		t.Fatalf("Esc: exit %d %s", code, errOut)
	}
	if cfg, _ = os.ReadFile(os.Getenv("TOKENCTL_CONFIG")); strings.Contains(string(cfg), "gone") {
		t.Fatal("a cancelled wizard saved a profile")
	}
}
