//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// queryPattern matches every sequence that asks the terminal something: an
// OSC colour query (ESC ] N ; ?), a status or cursor report (ESC [ 5n, 6n),
// device attributes (ESC [ c, ESC [ > c, ESC [ = c), a mode report
// (DECRQM, ESC [ ? N $ p), the kitty keyboard query (ESC [ ? u), the
// terminal's version (ESC [ > q) and termcap (ESC P + q). Progress lines on
// a terminal's stderr may use other sequences (erase the line): those ask
// nothing.
var queryPattern = regexp.MustCompile(`\x1b\]\d+;\?|\x1b\[\d*n|\x1b\[[>=]?\d*c|\x1b\[\??[\d;]*\$p|\x1b\[\?u|\x1b\[>\d*q|\x1bP\+q`)

// queryWait is the bound on a command that must not wait for a terminal
// answer. A terminal query waits 5 s (termenv's OSCTimeout); a command that
// does not query ends in milliseconds. This bounds a hang; it is not a
// speed test.
const queryWait = 2500 * time.Millisecond

// pty is a pseudo-terminal that never answers: whatever the program writes
// to it is collected, nothing is sent back unless the test types it.
type pty struct {
	master, slave *os.File

	mu  sync.Mutex
	out bytes.Buffer
	// done is closed when the master reads EOF or EIO: every slave
	// descriptor is closed.
	done chan struct{}
}

// openPTY opens a pseudo-terminal of 80x24 through /dev/ptmx and starts
// collecting what is written to it.
func openPTY(t *testing.T) *pty {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil { // unlockpt
		m.Close()
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN) // ptsname
	if err != nil {
		m.Close()
		t.Fatalf("ptsname: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatalf("opening the pty's slave: %v", err)
	}
	if err := unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80}); err != nil {
		t.Fatalf("setting the window size: %v", err)
	}
	p := &pty{master: m, slave: s, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := m.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		s.Close()
		m.Close()
	})
	return p
}

// Output is everything written to the terminal so far.
func (p *pty) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor waits until the terminal shows s.
func (p *pty) waitFor(t *testing.T, s string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(p.Output(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal never showed %q; it shows:\n%q", s, p.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ptyRun is one tokenctl process run with the pty as its controlling
// terminal, in the foreground (as in an interactive shell), so that a
// terminal query would be sent and would wait.
type ptyRun struct {
	Code     int
	Elapsed  time.Duration
	Terminal string // what the process wrote to the terminal
	Stdout   string // stdout when it was not the terminal
	Stderr   string
}

// runOnPTY runs tokenctl with stdin and stderr on a new pty, and stdout on
// it too unless stdoutToPipe. interact, if set, runs while the process runs
// (to type answers).
func runOnPTY(t *testing.T, e *procEnv, stdoutToPipe bool, interact func(p *pty), args ...string) ptyRun {
	t.Helper()
	p := openPTY(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "tokenctl"), args...)
	cmd.Env = e.Env()
	cmd.Dir = e.Dir
	var stdout bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.slave, p.slave, p.slave
	if stdoutToPipe {
		cmd.Stdout = &stdout
	}
	// A session of its own with the pty as controlling terminal (fd 0 in
	// the child): the process is the terminal's foreground process group,
	// which is when termenv would query it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if interact != nil {
		interact(p)
	}
	err := cmd.Wait()
	elapsed := time.Since(start)
	// The child's descriptors are closed; closing ours lets the master
	// read to the end.
	p.slave.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatal("the pty's output did not end")
	}
	r := ptyRun{Elapsed: elapsed, Terminal: p.Output(), Stdout: stdout.String()}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("tokenctl %v: %v", args, err)
		}
		r.Code = ee.ExitCode()
	}
	return r
}

// ptyEnv is a process environment as an interactive shell has it: a
// terminal type that termenv would query, no CI, no colour (so that any
// escape sequence in the output is a query or a bug).
func ptyEnv(t *testing.T) *procEnv {
	e := newProcEnv(t)
	e.Set("TERM", "xterm-256color")
	e.Set("CI", "")
	e.Set("NO_COLOR", "1")
	return e
}

// TestNoTerminalQueriesAtATerminal runs commands that prompt for nothing
// under a terminal that never answers: nothing may be asked of it and
// nothing may wait for it; with stdout piped, stdout has no escape byte.
// Before the fix every command, `version` included, wrote ESC]11;? and
// ESC[6n to stdout and took 5 s.
func TestNoTerminalQueriesAtATerminal(t *testing.T) {
	t.Parallel()
	// What termenv (lipgloss v1, through bubbletea v1's package init) sent,
	// and what bubbletea v2 sends while a form runs: the pattern knows them.
	for _, q := range []string{"\x1b]11;?\x1b\\", "\x1b[6n", "\x1b[?2026$p", "\x1b[?u", "\x1b[c"} {
		if !queryPattern.MatchString(q) {
			t.Fatalf("queryPattern misses %q", q)
		}
	}
	if queryPattern.MatchString("\rfetched 1 of 1\r\x1b[K\x1b[1mbold\x1b[0m") {
		t.Fatal("queryPattern takes a progress line for a query")
	}
	e := ptyEnv(t)
	_, url, _ := startProcSandbox(t, sandbox.Options{StatePath: filepath.Join(e.Dir, "sandbox.json")})
	e.Set("BENCH_PW", sim.DefaultPassword)
	if r := e.Run(t, "", "profile", "set", "lab", "--platform", "ssp", "--server", url, "--username", "admin", "--password-env", "BENCH_PW"); r.Code != 0 {
		t.Fatalf("profile set: %d %s", r.Code, r.Stderr)
	}
	r := e.Run(t, "Terminal-Pass-Phrase-1!\n", "token", "create", "--display-name", "tty", "--passphrase-stdin", "-o", "id")
	if r.Code != 0 {
		t.Fatalf("token create: %d %s", r.Code, r.Stderr)
	}
	id := strings.TrimSpace(r.Stdout)

	for _, args := range [][]string{
		{"version"},
		{"token", "get", id, "-o", "json"},
		{"token", "get", id},
		{"token", "list"},
		{"token", "status", id, "-o", "json"},
		{"--profile", "sandbox", "sensor", "list"},
		{"--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runOnPTY(t, e, false, nil, args...)
			if r.Code != 0 {
				t.Fatalf("exit %d:\n%s", r.Code, r.Terminal)
			}
			if q := queryPattern.FindString(r.Terminal); q != "" {
				t.Errorf("the terminal was queried with %q:\n%q", q, r.Terminal)
			}
			if r.Elapsed > queryWait {
				t.Errorf("took %v: a command that asks nothing waited for the terminal", r.Elapsed)
			}
			piped := runOnPTY(t, e, true, nil, args...)
			if piped.Code != 0 {
				t.Fatalf("stdout piped: exit %d:\n%s", piped.Code, piped.Terminal)
			}
			if i := strings.IndexByte(piped.Stdout, 0x1b); i >= 0 {
				t.Errorf("an escape sequence reached stdout at byte %d:\n%q", i, piped.Stdout)
			}
			if q := queryPattern.FindString(piped.Terminal); q != "" || piped.Elapsed > queryWait {
				t.Errorf("stdout piped: query %q, %v:\n%q", q, piped.Elapsed, piped.Terminal)
			}
		})
	}
}

// TestPromptTouchesOnlyStdinAndStderr shows a real prompt (huh) on a
// terminal that never answers a query, with stdout piped as in
// `tokenctl ... -o id | next`: the prompt's drawing and any query go to
// stderr, the answer is read from stdin, and stdout carries only the
// result.
func TestPromptTouchesOnlyStdinAndStderr(t *testing.T) {
	t.Parallel()
	e := ptyEnv(t)
	_, url, _ := startProcSandbox(t, sandbox.Options{StatePath: filepath.Join(e.Dir, "sandbox.json")})
	if r := e.Run(t, "", "profile", "set", "asks", "--platform", "ssp", "--server", url, "--username", "admin"); r.Code != 0 {
		t.Fatalf("profile set: %d %s", r.Code, r.Stderr)
	}
	e.Set("TOKENCTL_PASSWORD", sim.DefaultPassword)
	r := e.Run(t, "Terminal-Pass-Phrase-1!\n", "token", "create", "--display-name", "prompted", "--passphrase-stdin", "-o", "id")
	if r.Code != 0 {
		t.Fatalf("token create: %d %s", r.Code, r.Stderr)
	}
	id := strings.TrimSpace(r.Stdout)
	e.Set("TOKENCTL_PASSWORD", "")

	res := runOnPTY(t, e, true, func(p *pty) {
		p.waitFor(t, "Password for admin", 10*time.Second)
		// Typed slowly enough to be keystrokes, not a paste.
		for _, c := range sim.DefaultPassword + "\r" {
			p.master.WriteString(string(c))
			time.Sleep(2 * time.Millisecond)
		}
	}, "token", "get", id, "-o", "id")
	if res.Code != 0 {
		t.Fatalf("exit %d; terminal:\n%q", res.Code, res.Terminal)
	}
	if res.Stdout != id+"\n" {
		t.Errorf("stdout = %q, want the id alone", res.Stdout)
	}
	if strings.Contains(res.Terminal, sim.DefaultPassword) {
		t.Errorf("the password was echoed to the terminal:\n%q", res.Terminal)
	}
	if !strings.Contains(res.Terminal, "Password for admin") {
		t.Errorf("the prompt was not drawn on the terminal (stderr):\n%q", res.Terminal)
	}
}
