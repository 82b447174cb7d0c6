package authtoken

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// DeleteOptions are `authtoken delete`'s inputs.
type DeleteOptions struct {
	cmdutil.Verb

	IDs         []string
	Concurrency int
	SDWANIDs    cmdutil.SDWANIDs
}

// NewCmdDelete builds `authtoken delete`.
func NewCmdDelete(f *cmdutil.Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:     "delete ID... --yes",
		Aliases: []string{"rm"},
		Short:   "Delete auth tokens (sdwan)",
		Long: `Delete auth tokens by id; a deleted token stops authenticating at once. Asks for
confirmation on a terminal; elsewhere --yes is required. An id that is already gone counts
as deleted. "-" reads ids from stdin, one per line; an empty stdin deletes nothing and exits 0. A system-owned token cannot be deleted
(the server answers AUTH_TOKEN_SYSTEM_OPERATIONS_NOT_ALLOWED).

The server answers with the deleted object; its x_auth_token is never shown.`,
		Example: `  tokenctl authtoken delete 17000000000000123 --yes
  tokenctl authtoken list -o json --jq '.[] | select(.is_system_owned | not) | .id' | tokenctl authtoken delete - --yes`,
		Args: cmdutil.MinArgs(1, "ID"),
		RunE: cmdutil.RunIDList(opts, &opts.IDs, runF, deleteRun),
	}
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "how many deletes run at once")
	addIDFlags(cmd, &opts.SDWANIDs)
	cmd.ValidArgsFunction = completeIDs(f)
	return cmd
}

func deleteRun(opts *DeleteOptions) error {
	f := opts.Factory
	o, err := noSecretOutput(f, opts.Cmd, cmdutil.DeletedKind("auth token"), output.Many)
	if err != nil {
		return err
	}
	if err := exit.Problems(cmdutil.ConcurrencyProblems(opts.Concurrency)); err != nil {
		return err
	}
	ns, err := f.ConfirmTargets(opts.Cmd, cmdutil.Destructive{
		Verb: "Delete", Noun: "auth token",
		Consequence: "A deleted token stops authenticating at once; this cannot be undone.", Done: "deleted",
	}, opts.IDs, nil)
	if err != nil || len(ns) == 0 {
		return err
	}
	ctx := cmdutil.Context(opts.Cmd)
	sc, _, err := f.SDWANClient(ctx, opts.SDWANIDs)
	if err != nil {
		return err
	}
	return f.DeleteEach(ctx, o, opts.IDs, opts.Concurrency, "auth token", func(id string) string { return id },
		func(ctx context.Context, id string) (cmdutil.Deleted, error) {
			_, gone, err := sc.DeleteAuthToken(ctx, id)
			return cmdutil.Deleted{ID: id, Gone: gone}, err
		})
}
