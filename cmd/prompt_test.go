package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
	"github.com/tokenctl/tokenctl/internal/prompt"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// run executes tokenctl in-process with the given terminal facts and
// prompter answers, against the built-in sandbox (state in a temp dir).
type run struct {
	stdinTTY, stderrTTY bool
	prompter            *prompt.Stub
	stdin               string
}

func (r run) exec(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	in.WriteString(r.stdin)
	ios.SetTTY(r.stdinTTY, false, r.stderrTTY)
	f := cmdutil.NewFactory(ios, cmdutil.BuildInfo{Version: "test"})
	if r.prompter != nil {
		f.Prompter = r.prompter
	}
	root := NewCmdRoot(f)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	f.Cleanup()
	if err != nil {
		code = report(f, err)
	}
	return out.String(), errOut.String(), code
}

func sandboxEnv(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TOKENCTL_SANDBOX_STATE", filepath.Join(dir, "sandbox.json"))
	t.Setenv("TOKENCTL_CONFIG", filepath.Join(dir, "config.yaml"))
	t.Setenv("TOKENCTL_PASSPHRASE", "")
	t.Setenv("CI", "")
	t.Setenv("TOKENCTL_PROFILE", "sandbox")
}

// serveSandbox starts a sandbox server on loopback for the test and returns
// its URL.
func serveSandbox(t *testing.T) string {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return url
}

// TestPassphrasePromptForManifest: documents without a passphrase are asked
// one passphrase (typed twice) at a terminal, used for all of them.
func TestPassphrasePromptForManifest(t *testing.T) {
	sandboxEnv(t)
	m := filepath.Join(t.TempDir(), "two.yaml")
	os.WriteFile(m, []byte("display_name: one\n---\ndisplay_name: two\n"), 0o600)
	p := &prompt.Stub{Passwords: []string{"Prompted-Pass-Phrase-1!", "Prompted-Pass-Phrase-1!"}}
	out, errOut, code := run{stdinTTY: true, stderrTTY: true, prompter: p}.exec(t, "token", "create", "-f", m, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if p.Forms != 1 || len(p.Asked) != 2 || !strings.HasPrefix(p.Asked[0], "Passphrase") || !strings.HasPrefix(p.Asked[1], "Repeat") {
		t.Fatalf("%d forms, asked %q", p.Forms, p.Asked)
	}
	if strings.Count(out, `"ok": true`) != 2 || strings.Contains(out+errOut, "Prompted-Pass-Phrase-1!") {
		t.Fatalf("out %s", out)
	}
}

func TestNoPromptWithoutTerminalOrWithCI(t *testing.T) {
	sandboxEnv(t)
	p := &prompt.Stub{Passwords: []string{"Prompted-Pass-Phrase-1!", "Prompted-Pass-Phrase-1!"}}
	_, errOut, code := run{stdinTTY: false, stderrTTY: true, prompter: p}.exec(t, "token", "create", "--display-name", "x")
	if code != exit.Usage || len(p.Asked) != 0 || !strings.Contains(errOut, "passphrase: required") {
		t.Fatalf("stdin not a terminal: exit %d, asked %v, %s", code, p.Asked, errOut)
	}
	t.Setenv("CI", "true")
	_, _, code = run{stdinTTY: true, stderrTTY: true, prompter: p}.exec(t, "token", "create", "--display-name", "x")
	if code != exit.Usage || len(p.Asked) != 0 {
		t.Fatalf("CI set: exit %d, asked %v", code, p.Asked)
	}
	t.Setenv("CI", "")
	_, _, code = run{stdinTTY: true, stderrTTY: true, prompter: p}.exec(t, "--no-input", "token", "create", "--display-name", "x")
	if code != exit.Usage || len(p.Asked) != 0 {
		t.Fatalf("--no-input: exit %d, asked %v", code, p.Asked)
	}
}

func TestGeneratedPassphraseShownOnceOnATerminal(t *testing.T) {
	sandboxEnv(t)
	out, errOut, code := run{stderrTTY: true}.exec(t, "token", "create", "--display-name", "gen", "--generate-passphrase", "-o", "id")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	i := strings.Index(errOut, "shown once")
	if i < 0 {
		t.Fatalf("no passphrase on stderr: %s", errOut)
	}
	line := errOut[i:]
	line = line[:strings.IndexByte(line, '\n')]
	pass := strings.TrimSpace(line[strings.LastIndex(line, ": ")+2:])
	if ssp.CheckPassphrase(pass) != "" {
		t.Fatalf("shown passphrase %q breaks the rules", pass)
	}
	if strings.Contains(out, pass) {
		t.Fatal("the generated passphrase reached stdout")
	}
}

func TestDeleteConfirmation(t *testing.T) {
	sandboxEnv(t)
	pf := filepath.Join(t.TempDir(), "pp")
	os.WriteFile(pf, []byte("Confirm-Pass-Phrase-1!\n"), 0o600)
	out, errOut, code := run{}.exec(t, "token", "create", "--display-name", "del", "--passphrase-file", pf, "-o", "id")
	if code != 0 {
		t.Fatal(errOut)
	}
	id := strings.TrimSpace(out)
	no := &prompt.Stub{Confirms: []bool{false}}
	_, _, code = run{stdinTTY: true, stderrTTY: true, prompter: no}.exec(t, "token", "delete", id)
	if code != exit.Error || len(no.Asked) != 1 || !strings.Contains(no.Asked[0], id) {
		t.Fatalf("declined: exit %d, asked %v", code, no.Asked)
	}
	out, _, _ = run{}.exec(t, "token", "list", "-o", "json")
	var items []json.RawMessage
	if json.Unmarshal([]byte(out), &items); len(items) != 1 {
		t.Fatalf("a declined delete deleted: %s", out)
	}
	yes := &prompt.Stub{Confirms: []bool{true}}
	if _, errOut, code = (run{stdinTTY: true, stderrTTY: true, prompter: yes}).exec(t, "token", "delete", id); code != 0 {
		t.Fatalf("confirmed: exit %d %s", code, errOut)
	}
	if out, _, _ = (run{}).exec(t, "token", "list", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("after delete: %s", out)
	}
}

func TestPasswordPromptForAProfileWithout(t *testing.T) {
	sandboxEnv(t)
	t.Setenv("TOKENCTL_PROFILE", "")
	url := serveSandbox(t)
	_, _, code := run{}.exec(t, "profile", "set", "nopw", "--platform", "ssp", "--server", url, "--username", "admin")
	if code != 0 {
		t.Fatal("profile set failed")
	}
	_, errOut, code := run{}.exec(t, "token", "list")
	if code != exit.Usage || !strings.Contains(errOut, "has no password: set TOKENCTL_PASSWORD") {
		t.Fatalf("off a terminal: exit %d %s", code, errOut)
	}
	p := &prompt.Stub{Passwords: []string{"wrong-typed"}}
	_, _, code = run{stdinTTY: true, stderrTTY: true, prompter: p}.exec(t, "token", "list")
	if len(p.Asked) != 1 || !strings.Contains(p.Asked[0], "Password for admin at "+url) {
		t.Fatalf("asked %v", p.Asked)
	}
	if code != exit.Auth {
		t.Fatalf("a wrong typed password: exit %d, want 3", code)
	}
	p = &prompt.Stub{Passwords: []string{"tokenctl-sandbox"}}
	if _, errOut, code = (run{stdinTTY: true, stderrTTY: true, prompter: p}).exec(t, "token", "list"); code != 0 {
		t.Fatalf("the right typed password: exit %d %s", code, errOut)
	}
}

// TestDashIDAtATerminal: "-" as the single ID reads stdin, which at a
// terminal waited silently for Ctrl-D and echoed what was typed (an NSX
// token, an agent uuid: secrets). At a terminal it asks with hidden input;
// an ID list from a terminal gets a hint on how to end it.
func TestDashIDAtATerminal(t *testing.T) {
	sandboxEnv(t)
	const id = "11111111-2222-4333-8444-555555555555"
	stub := &prompt.Stub{Passwords: []string{id}}
	_, errOut, code := run{stdinTTY: true, stderrTTY: true, prompter: stub, stdin: "from-stdin\n"}.exec(t, "token", "get", "-")
	if len(stub.Asked) != 1 || code != 4 || !strings.Contains(errOut, id) {
		t.Errorf("token get - at a terminal: asked %q, exit %d, stderr %q; want one hidden prompt whose answer is looked up (exit 4)", stub.Asked, code, errOut)
	}
	// Esc at that prompt: nothing sent, exit 1.
	stub = &prompt.Stub{Decline: true}
	if _, _, code := (run{stdinTTY: true, stderrTTY: true, prompter: stub}).exec(t, "token", "get", "-"); code != 1 {
		t.Errorf("Esc at the ID prompt: exit %d, want 1", code)
	}
	// Not a terminal: stdin as before, no prompt.
	stub = &prompt.Stub{}
	if _, errOut, code := (run{prompter: stub, stdin: id + "\n"}).exec(t, "token", "get", "-"); len(stub.Asked) != 0 || code != 4 || !strings.Contains(errOut, id) {
		t.Errorf("token get - from a pipe: asked %q, exit %d, stderr %q", stub.Asked, code, errOut)
	}
	// An ID list from a terminal: a hint on stderr, then stdin to its end.
	_, errOut, code = run{stdinTTY: true, stderrTTY: true, stdin: id + "\n"}.exec(t, "token", "delete", "-", "--yes")
	if code != 0 || !strings.Contains(errOut, "Ctrl-D") {
		t.Errorf("token delete - at a terminal: exit %d, stderr %q; want a hint naming Ctrl-D", code, errOut)
	}
}
