package apply

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/reconcile"
)

// ApplyOptions are `tokenctl apply`'s inputs.
type ApplyOptions struct {
	cmdutil.Verb

	File        string
	Prune       bool
	Concurrency int
}

// NewCmdApply builds `tokenctl apply`; runF replaces the run (tests).
func NewCmdApply(f *cmdutil.Factory, runF func(*ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|- [--prune]",
		Short: "Make the server as the documents say (ssp, agent); idempotent",
		Long: `Converge the server to declarative documents: create, replace, update (and with --prune
delete) what differs, and leave the rest alone, so running apply twice changes nothing the
second time. The plan is computed from reads first ("tokenctl diff" prints it); apply then
carries it out, --concurrency tasks at a time (a pool, an agent token, a feature call of at
most 25 sensors), with a progress bar on a terminal.

One line per object acted on: created, replaced, updated, deleted, unchanged (a document can
give several), or failed / not_sent with the error on stderr. -o json prints the same as an
array of {"source", "kind", "name", "id", "replaces", "action", "outcome", "ok", "reasons",
"changes", "count", "error"}. A replaced token does not delete the old one unless --prune is
given; a pool's new token is created before any of its old ones is deleted, and a failed
create deletes nothing. Exit 0 when everything succeeded, 8 when some steps failed and others
were done (run apply again: it acts only on what still differs), else the failure's code.

apply hands over nothing secret: the passphrase is yours, and a new token's registration
manifest comes from "tokenctl token status ID -o manifest". An agent token's uuid (its
secret) is masked; "tokenctl token list" shows it.

--dry-run prints the plan (on stderr; -o json on stdout) and sends nothing but reads, with
diff's exit codes: 0 in sync, 9 differences.

` + documentsHelp,
		Example: `  tokenctl apply -f examples/apply/
  tokenctl apply -f tokens.yaml --prune
  tokenctl apply -f tokens.yaml -o json --jq '.[] | select(.outcome == "created") | .id'
  cat pools.yaml | tokenctl apply -f -`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, applyRun),
	}
	documentFlags(cmd, &opts.File, &opts.Prune)
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "how many tasks run at once (a pool, an agent token, a feature call of at most 25 sensors)")
	return cmd
}

func applyRun(opts *ApplyOptions) error {
	f := opts.Factory
	if err := exit.Problems(cmdutil.ConcurrencyProblems(opts.Concurrency)); err != nil {
		return err
	}
	dryRun := f.Bool(cmdutil.FlagDryRun)
	// A dry run creates nothing, so it needs no passphrase.
	l, err := load(f, opts.Cmd, opts.File, !dryRun)
	if err != nil {
		return err
	}
	ctx := cmdutil.Context(opts.Cmd)
	p, c, err := plan(ctx, f, l, opts.Prune)
	if err != nil {
		return err
	}
	if dryRun {
		if l.out.IsTable() {
			writePlan(f.IOStreams.ErrOut, p)
		} else if err := printList(f, l.out, p.Steps); err != nil {
			return err
		}
		return differences(p)
	}
	var pr *cmdutil.Progress
	results := reconcile.Execute(ctx, c, p, reconcile.ExecOptions{
		Concurrency: opts.Concurrency,
		OnStart:     func(n int) { pr = f.NewProgress("applied", n) },
		OnTask:      func(ok bool) { pr.Item(ok) },
	})
	pr.Finish()
	for _, r := range results {
		if !r.OK {
			fmt.Fprintf(f.IOStreams.ErrOut, "%s: %s %s: %v\n", r.Source, r.Kind, show(r.Name), r.Err)
		}
	}
	if l.out.IsTable() {
		writeResults(f.IOStreams.Out, results)
	} else if err := printList(f, l.out, results); err != nil {
		return err
	}
	f.Notice("%s", resultSummary(results))
	return outcome(results)
}

// writeResults prints one line per object:
//
//	created    SensorToken edge-01 3f2a...  [tokens.yaml#1]
//	replaced   SensorToken edge-02 9b1c... (was 5678...): EXPIRED  [tokens.yaml#2]
func writeResults(w io.Writer, results []reconcile.Result) {
	for _, r := range results {
		fmt.Fprintf(w, "%-10s %s\n", r.Outcome, describe(r.Kind, r.Name, r.ID, r.Replaces, r.Count, r.Reasons, r.Source))
		if r.OK && r.Outcome != reconcile.Kept {
			writeChanges(w, r.Changes)
		}
	}
}

// resultSummary counts the outcomes: "1 created, 2 unchanged".
func resultSummary(results []reconcile.Result) string {
	counts := map[reconcile.Outcome]int{}
	for _, r := range results {
		counts[r.Outcome]++
	}
	var parts []string
	for _, o := range []reconcile.Outcome{reconcile.Created, reconcile.Replaced, reconcile.Updated, reconcile.Deleted, reconcile.Kept, reconcile.Failed, reconcile.NotSent} {
		if n := counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(o), "_", " ")))
		}
	}
	s := strings.Join(parts, ", ")
	if counts[reconcile.Failed]+counts[reconcile.NotSent] > 0 {
		s += "; run apply again to finish: it acts only on what still differs"
	}
	return s
}

// outcome is apply's exit: nil when every step succeeded, 8 when some
// failed and others changed something, else the first failure's code.
func outcome(results []reconcile.Result) error {
	acted, failed := 0, 0
	var first error
	for _, r := range results {
		switch {
		case !r.OK:
			failed++
			if first == nil {
				first = r.Err
			}
		case r.Acted():
			acted++
		}
	}
	switch {
	case failed == 0:
		return nil
	case acted > 0:
		return exit.ErrPartial
	default:
		return &exit.SilentError{Code: exit.CodeOf(first)}
	}
}
