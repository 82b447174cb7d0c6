package apply

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
)

// DiffOptions are `tokenctl diff`'s inputs.
type DiffOptions struct {
	cmdutil.Verb

	File  string
	Prune bool
}

// NewCmdDiff builds `tokenctl diff`; runF replaces the run (tests).
func NewCmdDiff(f *cmdutil.Factory, runF func(*DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "diff -f FILE|DIR|- [--prune]",
		Short: "Show what apply would change (ssp, agent); sends no change",
		Long: `Show what "tokenctl apply" would change to make the server as the documents say, without
changing anything: only reads are sent (lists and gets). Each object is one line:

  + create      a pool's display_name or an agent token's name has no token
  ~ replace     a pool's token is not usable (EXPIRED, USED, too few remaining, too short a
                life) or differs from the document (the fields are listed); a new token
  ~ update      an agent token's read/change, a sensor's features, MPS switches (field: old -> new)
  - delete      with --prune, the pool's other tokens
  = unchanged   as the document says

Exit 0 when nothing differs, 9 when something does (as diff(1) and kubectl diff do), other
codes on errors. -o json prints the plan as a JSON array of steps: {"source", "kind", "name",
"id", "action", "reasons", "changes": [{"field", "old", "new"}], "count"}. Passphrases are not
read: diff creates nothing.

` + documentsHelp,
		Example: `  tokenctl diff -f examples/apply/
  tokenctl diff -f tokens.yaml --prune -o json
  tokenctl diff -f tokens.yaml || tokenctl apply -f tokens.yaml     # apply only when something differs`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, diffRun),
	}
	documentFlags(cmd, &opts.File, &opts.Prune)
	return cmd
}

func diffRun(opts *DiffOptions) error {
	f := opts.Factory
	l, err := load(f, opts.Cmd, opts.File, false)
	if err != nil {
		return err
	}
	p, _, err := plan(cmdutil.Context(opts.Cmd), f, l, opts.Prune)
	if err != nil {
		return err
	}
	if l.out.IsTable() {
		writePlan(f.IOStreams.Out, p)
	} else if err := printList(f, l.out, p.Steps); err != nil {
		return err
	}
	return differences(p)
}
