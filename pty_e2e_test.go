//go:build linux || darwin

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	"github.com/creack/pty"

	"github.com/tokenctl/tokenctl/internal/sandbox"
)

// The prompts are driven the way a person drives them: the real binary
// runs with stdin and stderr on a pseudo-terminal (stdout is a pipe, as in
// `... -o id | xargs`), and the test types keystrokes after the screen
// shows the question. NO_COLOR is set: what the test reads is what a
// monochrome terminal shows.

// ptyProc is a tokenctl process on a pseudo-terminal.
type ptyProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	ptmx   *os.File
	stdout bytes.Buffer

	mu     sync.Mutex
	screen bytes.Buffer // everything written to the terminal
	vt     *vt.Emulator // what the terminal shows now
	update chan struct{}
	done   chan struct{}
}

func startPTY(t *testing.T, e *procEnv, args ...string) *ptyProc {
	t.Helper()
	return startOnPTY(t, e, false, args...)
}

// startOnPTY is startPTY with stdout on the terminal too when
// stdoutOnPTY (an interactive shell's command without a pipe).
func startOnPTY(t *testing.T, e *procEnv, stdoutOnPTY bool, args ...string) *ptyProc {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 50, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	p := &ptyProc{t: t, ptmx: ptmx, vt: vt.NewEmulator(120, 50), update: make(chan struct{}, 1), done: make(chan struct{})}
	// The emulator answers queries into a pipe: read and drop the answers
	// (this terminal never answers), so that it never blocks.
	go io.Copy(io.Discard, p.vt)
	p.cmd = exec.Command(filepath.Join(binDir, "tokenctl"), args...)
	p.cmd.Env = append(e.Env(), "CI=", "TERM=xterm-256color")
	p.cmd.Dir = e.Dir
	p.cmd.Stdin, p.cmd.Stderr, p.cmd.Stdout = tty, tty, &p.stdout
	if stdoutOnPTY {
		p.cmd.Stdout = tty
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			p.mu.Lock()
			p.screen.Write(buf[:n])
			p.vt.Write(buf[:n])
			p.mu.Unlock()
			select {
			case p.update <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		ptmx.Close()
		<-p.done
		p.vt.Close()
	})
	return p
}

// expect waits until the screen shows s, as a person would see it: the
// bytes go through a terminal emulator, because a renderer redraws only the
// cells that changed (a field's bar, ┃, that stays in its column is not sent
// again). The deadline only guards against a hang; nothing is timed.
func (p *ptyProc) expect(s string) {
	p.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if strings.Contains(p.shown(), s) {
			return
		}
		select {
		case <-p.update:
		case <-p.done:
			if !strings.Contains(p.shown(), s) {
				p.t.Fatalf("the process ended before the screen showed %q; screen:\n%s", s, p.shown())
			}
		case <-deadline:
			p.t.Fatalf("the screen never showed %q; screen:\n%s", s, p.shown())
		}
	}
}

// shown is what the terminal shows now.
func (p *ptyProc) shown() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.vt.String()
}

// text is the screen output so far, escape sequences removed.
func (p *ptyProc) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return stripANSI(p.screen.String())
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != 0x1b {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '[' {
			i += 2
			for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
				i++
			}
			continue
		}
		i++
	}
	return b.String()
}

func (p *ptyProc) send(keys string) {
	p.t.Helper()
	if _, err := p.ptmx.Write([]byte(keys)); err != nil {
		p.t.Fatal(err)
	}
}

// wait returns the exit code.
func (p *ptyProc) wait() int {
	p.t.Helper()
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second): // a guard against a hang, not a measurement
		p.cmd.Process.Kill()
		p.t.Fatalf("the process did not end; screen:\n%s", p.text())
	}
	// The process has ended: read what it wrote last (the terminal side
	// reports EOF once the last descriptor of its end is closed).
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("the terminal was not closed; screen:\n%s", p.text())
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		p.t.Fatal(err)
	}
	return 0
}

const (
	keyEnter = "\r"
	keyEsc   = "\x1b"
	keyDown  = "\x1b[B"
	keyCtrlC = "\x03"
)

// TestPTYCreateForm: `token create` with nothing given asks the name and
// the passphrase in one form; a weak passphrase and a mismatched repeat are
// refused inline; the token is created with what was typed, and the
// passphrase never appears on the screen.
func TestPTYCreateForm(t *testing.T) {
	e := newProcEnv(t)
	e.Set("TOKENCTL_PROFILE", "sandbox")
	const pass = "Typed-Pass-Phrase-42!"
	p := startPTY(t, e, "token", "create", "-o", "id")
	// Keys typed after Enter wait for the focus to move (the focused field
	// is drawn with a bar, ┃), as a person would see it move: huh moves
	// the focus asynchronously, so keys typed ahead would land in the old
	// field.
	p.expect("┃ Display name")
	p.expect("Registration passphrase") // the same screen: one form
	p.send("pty-token" + keyEnter)
	p.expect("┃ Registration passphrase")
	p.send(keyEnter) // "Type one"
	p.expect("┃ Passphrase")
	p.expect("Repeat the passphrase")
	p.send("short" + keyEnter)
	p.expect("must be 15 to 128 characters")
	p.send(strings.Repeat("\x7f", len("short")) + pass + keyEnter) // backspaces, then a good one
	p.expect("┃ Repeat the passphrase")
	p.send("Not-The-Same-42!" + keyEnter)
	p.expect("the passphrases differ")
	p.send(strings.Repeat("\x7f", len("Not-The-Same-42!")) + pass + keyEnter)
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, p.text())
	}
	id := strings.TrimSpace(p.stdout.String())
	if strings.Contains(p.text(), pass) || strings.Contains(p.text(), "Not-The-Same") {
		t.Fatal("a typed passphrase was echoed")
	}
	r := e.Run(t, "", "token", "get", id, "-o", "json", "--jq", ".display_name")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "pty-token" {
		t.Fatalf("created %q: %+v", id, r)
	}
}

// TestPTYConfirm: the delete confirmation shows the focused button without
// colour ([No], the default); Esc and No decline with exit 1, Ctrl-C is an
// interrupt (130), and y deletes.
func TestPTYConfirm(t *testing.T) {
	e := newProcEnv(t)
	e.Set("TOKENCTL_PROFILE", "sandbox")
	pf := filepath.Join(e.Dir, "pp")
	os.WriteFile(pf, []byte("Confirm-Pass-Phrase-1!\n"), 0o600)
	r := e.Run(t, "", "token", "create", "--display-name", "to-delete", "--passphrase-file", pf, "-o", "id")
	if r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	id := strings.TrimSpace(r.Stdout)

	for _, c := range []struct {
		keys string
		code int
		says string
	}{
		{keyEsc, 1, "cancelled: nothing deleted"},
		{keyEnter, 1, "declined: nothing deleted"},
		{keyCtrlC, 130, "interrupted"},
	} {
		p := startPTY(t, e, "token", "delete", id)
		p.expect("Delete registration token to-delete (" + id + ")? This cannot be undone.")
		p.expect("[No]")
		p.send(c.keys)
		if code := p.wait(); code != c.code {
			t.Fatalf("%q: exit %d, want %d; screen:\n%s", c.keys, code, c.code, p.text())
		}
		if !strings.Contains(p.text(), c.says) {
			t.Fatalf("%q: screen:\n%s", c.keys, p.text())
		}
		if r := e.Run(t, "", "token", "get", id); r.Code != 0 {
			t.Fatalf("%q deleted the token: %+v", c.keys, r)
		}
	}
	p := startPTY(t, e, "token", "delete", id)
	p.expect("[No]")
	p.send("\x1b[D") // left: focus moves to Yes
	p.expect("[Yes]")
	p.send(keyEnter)
	if code := p.wait(); code != 0 {
		t.Fatalf("yes: exit %d; screen:\n%s", code, p.text())
	}
	if r := e.Run(t, "", "token", "get", id); r.Code != 4 {
		t.Fatalf("after yes: %+v", r)
	}
}

// TestPTYProfileWizard: `profile set NEW` asks platform, server, user and
// the password's source (an environment variable), saves the profile and
// checks it against a sandbox.
func TestPTYProfileWizard(t *testing.T) {
	_, url, _ := startProcSandbox(t, sandbox.Options{})
	e := newProcEnv(t)
	e.Set("WIZ_PW", "tokenctl-sandbox")
	p := startPTY(t, e, "profile", "set", "lab")
	p.expect("┃ Platform")
	p.expect("> ssp")
	p.send(keyEnter)
	p.expect("┃ Server URL")
	p.send(url + keyEnter)
	p.expect("┃ User name")
	p.send("admin" + keyEnter)
	p.expect("┃ Password from")
	p.send(keyEnter) // an environment variable
	p.expect("┃ Environment variable")
	p.send("WIZ_PW" + keyEnter)
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s\nstdout:\n%s", code, p.text(), p.stdout.String())
	}
	if !strings.Contains(p.text(), "Checking it") || !strings.Contains(p.stdout.String(), "ok") {
		t.Fatalf("no check; screen:\n%s\nstdout:\n%s", p.text(), p.stdout.String())
	}
	cfg, err := os.ReadFile(e.ConfigPath())
	if err != nil || !strings.Contains(string(cfg), "password_env: WIZ_PW") || !strings.Contains(string(cfg), "server: "+url) {
		t.Fatalf("config (%v):\n%s", err, cfg)
	}
	if r := e.Run(t, "", "--profile", "lab", "token", "list"); r.Code != 0 {
		t.Fatalf("the new profile does not work: %+v", r)
	}
}

// TestPTYSignalEndsAPrompt: SIGTERM or SIGHUP (the terminal went away, an
// ssh session dropped) while a question is on screen ends tokenctl with
// exit 130, as everywhere else; the prompt kept waiting, for ever once its
// terminal was gone.
func TestPTYSignalEndsAPrompt(t *testing.T) {
	e := newProcEnv(t)
	e.Set("TOKENCTL_PROFILE", "sandbox")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		p := startPTY(t, e, "token", "create")
		p.expect("Display name")
		if err := p.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		if code := p.wait(); code != 130 {
			t.Fatalf("%v during the form: exit %d, want 130; screen:\n%s", sig, code, p.text())
		}
		if r := e.Run(t, "", "token", "list", "-o", "id"); r.Code != 0 || r.Stdout != "" {
			t.Fatalf("%v: something was created: %+v", sig, r)
		}
	}
}
