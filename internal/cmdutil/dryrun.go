package cmdutil

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// DryRun reports --dry-run: every change is recorded and printed instead
// of sent (reads still happen), and no local file is written.
func (f *Factory) DryRun() bool { return f.Bool(FlagDryRun) }

// dryRun is the state of a dry run: the plan every client records its
// changes in, and the real stdout, which the command's own output reaches
// only until the first change is recorded.
type dryRun struct {
	plan *client.Plan
	out  io.Writer
}

// StartDryRun sets up --dry-run for the command about to run (the root
// command's pre-run): the HTTP clients record changes in one plan instead
// of sending them, each change is printed on stderr as it is recorded, and
// stdout is held back from the first change on, so that it carries the plan
// (-o json|yaml) or nothing, never the results of requests not sent.
func (f *Factory) StartDryRun(cmd *cobra.Command) error {
	if !f.DryRun() || f.dry != nil {
		return nil
	}
	for c := cmd; c != nil; c = c.Parent() {
		if why, ok := noDryRun[c.CommandPath()]; ok {
			return exit.Usagef("--dry-run: %s %s, and a dry run writes no file; run it without --dry-run", c.CommandPath(), why)
		}
	}
	d := &dryRun{plan: &client.Plan{}, out: f.IOStreams.Out}
	stderr := f.IOStreams.ErrOut
	d.plan.OnChange = func(ch client.Change) {
		var b strings.Builder
		fmt.Fprintf(&b, "dry run: would send %s %s (%s)\n", ch.Method, ch.URL, ch.Operation)
		if len(ch.Body) > 0 {
			fmt.Fprintf(&b, "  body: %s\n", ch.Body)
		}
		fmt.Fprintf(&b, "  %s\n", ch.Curl)
		io.WriteString(stderr, b.String())
	}
	f.IOStreams.Out = &heldStdout{w: d.out, plan: d.plan}
	f.dry = d
	return nil
}

// noDryRun are the commands (with their subcommands) whose changes are local files (and, for the
// installer stand-in, a registration it makes as a host would): a dry run
// refuses them rather than write or pretend. The reason completes
// "--dry-run: COMMAND ...".
var noDryRun = map[string]string{
	"tokenctl profile set":         "changes only the local config file",
	"tokenctl profile use":         "changes only the local config file",
	"tokenctl profile delete":      "changes only the local config file",
	"tokenctl sandbox serve":       "runs a server that keeps its state in a file",
	"tokenctl sandbox vdefend-cli": "stands in for the vendor's host installer, which writes the host's files and registers it",
}

// heldStdout passes writes through until the plan has a change, and drops
// them after: the command's output then describes requests never sent.
type heldStdout struct {
	mu   sync.Mutex
	w    io.Writer
	plan *client.Plan
}

func (h *heldStdout) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.plan.Len() > 0 {
		return len(p), nil
	}
	return h.w.Write(p)
}

// FinishDryRun ends a dry run after the command returned err: a command
// that stopped at a change it recorded (its next step needed the answer)
// succeeded; a summary goes to stderr and, with -o json|yaml (or --jq,
// --template), the plan as JSON to stdout. Other errors are returned as
// they are.
func (f *Factory) FinishDryRun(err error) error {
	d := f.dry
	if d == nil {
		return err
	}
	f.IOStreams.Out = d.out
	changes := d.plan.Changes()
	if client.IsNotSent(err) {
		if len(changes) > 0 {
			f.Notice("dry run: stopped at %s (what the command does next needs its answer)", changes[len(changes)-1].Operation)
		}
		err = nil
	}
	if len(changes) == 0 {
		if err == nil {
			f.Notice("dry run: nothing to change")
		}
		return err
	}
	f.Notice("dry run: %d change(s) not sent; nothing was changed", len(changes))
	o, oerr := f.OutputOptions()
	if oerr != nil || !(o.Format == output.JSON || o.Format == output.YAML) {
		return err
	}
	l := f.Printer(o).List(output.Kind{Noun: "change"})
	for _, ch := range changes {
		raw, merr := output.MarshalJSON(ch)
		if merr != nil {
			return merr
		}
		if aerr := l.Add(raw); aerr != nil {
			return aerr
		}
	}
	if cerr := l.Close(); cerr != nil && err == nil {
		return cerr
	}
	return err
}
