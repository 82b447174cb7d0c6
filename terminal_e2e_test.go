//go:build linux || darwin

package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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

// ptyRun is one finished tokenctl process run on a pseudo-terminal that
// never answers (the test types nothing).
type ptyRun struct {
	Code     int
	Elapsed  time.Duration
	Terminal string // everything written to the terminal, raw
	Stdout   string // stdout, when it was a pipe
}

func runOnPTY(t *testing.T, e *procEnv, stdoutOnPTY bool, args ...string) ptyRun {
	t.Helper()
	start := time.Now()
	p := startOnPTY(t, e, stdoutOnPTY, args...)
	code := p.wait()
	r := ptyRun{Code: code, Elapsed: time.Since(start), Stdout: p.stdout.String()}
	p.mu.Lock()
	r.Terminal = p.screen.String()
	p.mu.Unlock()
	return r
}

// TestNoTerminalQueriesAtATerminal runs commands that prompt for nothing in
// the foreground of a terminal that never answers, as an interactive shell
// runs them: nothing may be asked of it and nothing may wait for it; with
// stdout piped, stdout has no escape byte. Before the fix every command,
// `version` included, wrote ESC]11;? and ESC[6n to stdout (bubbletea v1's
// package init, through termenv) and took 5 s.
func TestNoTerminalQueriesAtATerminal(t *testing.T) {
	t.Parallel()
	// What termenv sent, and what bubbletea v2 sends while a form runs: the
	// pattern knows them, and tells them from a progress line.
	for _, q := range []string{"\x1b]11;?\x1b\\", "\x1b[6n", "\x1b[?2026$p", "\x1b[?u", "\x1b[c"} {
		if !queryPattern.MatchString(q) {
			t.Fatalf("queryPattern misses %q", q)
		}
	}
	if queryPattern.MatchString("\rfetched 1 of 1\r\x1b[K\x1b[1mbold\x1b[0m") {
		t.Fatal("queryPattern takes a progress line for a query")
	}

	e := newProcEnv(t)
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
			r := runOnPTY(t, e, true, args...)
			if r.Code != 0 {
				t.Fatalf("exit %d:\n%s", r.Code, r.Terminal)
			}
			if q := queryPattern.FindString(r.Terminal); q != "" {
				t.Errorf("the terminal was queried with %q:\n%q", q, r.Terminal)
			}
			if r.Elapsed > queryWait {
				t.Errorf("took %v: a command that asks nothing waited for the terminal", r.Elapsed)
			}
			piped := runOnPTY(t, e, false, args...)
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

// TestPasswordPromptTouchesOnlyStdinAndStderr shows a real prompt (huh) on
// a terminal that never answers a query, with stdout piped as in
// `tokenctl ... -o id | next`: the prompt is drawn on stderr, the answer is
// read from stdin, the password is not echoed, and stdout carries only the
// result.
func TestPasswordPromptTouchesOnlyStdinAndStderr(t *testing.T) {
	t.Parallel()
	e := newProcEnv(t)
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

	p := startPTY(t, e, "token", "get", id, "-o", "id")
	p.expect("Password for admin")
	p.send(sim.DefaultPassword + keyEnter)
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d; screen:\n%s", code, p.text())
	}
	if got := p.stdout.String(); got != id+"\n" {
		t.Errorf("stdout = %q, want the id alone", got)
	}
	if strings.Contains(p.text(), sim.DefaultPassword) {
		t.Errorf("the password was echoed to the terminal:\n%s", p.text())
	}
}
