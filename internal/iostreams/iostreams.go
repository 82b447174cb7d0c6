// Package iostreams knows where tokenctl's input and output go and whether a
// person is at the other end of them.
package iostreams

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"
)

// IOStreams are the three standard streams and what they are connected to.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	stdinTTY  bool
	stdoutTTY bool
	stderrTTY bool
	// stdout is the process's stdout (nil in tests), for its size.
	stdout *os.File

	// NoInput is set by --no-input; CI in the environment has the same effect.
	NoInput bool
}

// System returns the process's streams.
func System() *IOStreams {
	return &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		stdinTTY:  isTerminal(os.Stdin),
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		stdout:    os.Stdout,
	}
}

func ciSet() bool {
	v, ok := os.LookupEnv("CI")
	if !ok {
		return false
	}
	v = strings.ToLower(strings.TrimSpace(v))
	return v != "" && v != "0" && v != "false"
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Test returns streams backed by buffers, none of them a terminal.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTTY marks the streams as terminals or not (tests).
func (s *IOStreams) SetTTY(stdin, stdout, stderr bool) {
	s.stdinTTY, s.stdoutTTY, s.stderrTTY = stdin, stdout, stderr
}

// IsStdinTTY reports whether stdin is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.stdinTTY }

// IsStdoutTTY reports whether stdout is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.stdoutTTY }

// IsStderrTTY reports whether stderr is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.stderrTTY }

// ColorEnabled reports whether tables may colour their cells: never with
// NO_COLOR set (non-empty); always with CLICOLOR_FORCE set (non-empty and
// not "0"); otherwise when stdout is a terminal. Deciding costs no terminal
// query: colours are fixed ANSI codes every terminal knows.
func (s *IOStreams) ColorEnabled() bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	if v := os.Getenv("CLICOLOR_FORCE"); v != "" && v != "0" {
		return true
	}
	return s.stdoutTTY
}

// TerminalWidth is the width tables fit into: $COLUMNS when it is a
// positive number, else the size of stdout when it is a terminal (asked of
// the kernel, not of the terminal), else 0: no limit.
func (s *IOStreams) TerminalWidth() int {
	if v, err := strconv.Atoi(strings.TrimSpace(os.Getenv("COLUMNS"))); err == nil && v > 0 {
		return v
	}
	if s.stdoutTTY && s.stdout != nil {
		if w, _, err := term.GetSize(int(s.stdout.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 0
}

// CanPrompt reports whether tokenctl may ask a question: stdin and stderr
// are terminals (stdout may be piped, as in `-o manifest | ssh host ...`),
// and neither --no-input nor CI says no.
func (s *IOStreams) CanPrompt() bool {
	return s.stdinTTY && s.stderrTTY && !s.NoInput && !ciSet()
}

// ReadSecretLine reads one line from stdin for --*-stdin flags: everything up
// to the first newline, without the line ending. Empty input is an error for
// the caller to report.
func (s *IOStreams) ReadSecretLine() (string, error) {
	data, err := io.ReadAll(io.LimitReader(s.In, 64<<10))
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimRight(line, "\r"), nil
}
