package cmdutil

import (
	"fmt"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/wait"
)

// WaitFlags are --wait-timeout and --interval, shared by `token wait` and
// every --wait (DESIGN.md, Waiting). --timeout stays the limit of one HTTP
// request.
type WaitFlags struct {
	Timeout  time.Duration
	Interval time.Duration
}

// Register adds --wait-timeout and --interval.
func (w *WaitFlags) Register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.DurationVar(&w.Timeout, "wait-timeout", wait.DefaultTimeout, "how long to wait before giving up with exit 124")
	fl.DurationVar(&w.Interval, "interval", wait.DefaultInterval, "time between polls; it doubles while nothing changes, up to 6 times this")
}

// Validate checks the values; waiting says whether the command will wait
// (a --wait given), since the two flags mean nothing otherwise.
func (w *WaitFlags) Validate(cmd *cobra.Command, waiting bool) []exit.Problem {
	var ps []exit.Problem
	if w.Timeout <= 0 {
		ps = append(ps, exit.Problem{Field: "--wait-timeout", Rule: "must be a positive duration such as 30m"})
	}
	if w.Interval <= 0 {
		ps = append(ps, exit.Problem{Field: "--interval", Rule: "must be a positive duration such as 5s"})
	}
	if !waiting {
		for _, name := range []string{"wait-timeout", "interval"} {
			if Changed(cmd, name) {
				ps = append(ps, exit.Problem{Field: "--" + name, Rule: "applies only with --wait"})
			}
		}
	}
	return ps
}

// StatusLine is a one-line status redrawn in place on a terminal's stderr
// (never when stderr is not a terminal, or with --quiet). A nil *StatusLine
// does nothing. Safe for concurrent use.
type StatusLine struct {
	mu    sync.Mutex
	f     *Factory
	drawn bool
}

// NewStatusLine returns a status line, or nil when none should be drawn.
func (f *Factory) NewStatusLine() *StatusLine {
	if !f.IOStreams.IsStderrTTY() || f.Bool(FlagQuiet) {
		return nil
	}
	return &StatusLine{f: f}
}

// Set redraws the line; args are escaped (they carry the server's words:
// token statuses, error messages).
func (s *StatusLine) Set(format string, args ...any) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.f.IOStreams.ErrOut, "\r\033[K"+format, escape.Args(args)...)
	s.drawn = true
}

// Clear erases the line.
func (s *StatusLine) Clear() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn {
		fmt.Fprint(s.f.IOStreams.ErrOut, "\r\033[K")
		s.drawn = false
	}
}
