package token

import (
	"context"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// listAgent prints the token list: the vendor's array, uuids included (the
// list is an administrator's view, and the uuid is what the other verbs
// take as ID).
func listAgent(opts *ListOptions) error {
	f := opts.Factory
	kind := agentTokenKind()
	o, err := f.OutputFor(kind, output.Many)
	if err != nil {
		return err
	}
	// The API neither pages nor sorts: --sort-by is tokenctl's.
	if err := exit.Problems(opts.ListFlags.Validate(opts.Cmd, []string{}, kind)); err != nil {
		return err
	}
	ctx := cmdutil.Context(opts.Cmd)
	ac, _, err := f.AgentClient(ctx)
	if err != nil {
		return err
	}
	l := opts.ListFlags.Sorted(f.Printer(o).List(kind))
	if _, err := ac.ListTokens(ctx, l.Add); err != nil {
		return err
	}
	return l.Close()
}

// getAgent finds one token in the list (the API has no single-token call).
func getAgent(opts *GetOptions) error {
	f := opts.Factory
	o, err := f.OutputFor(agentTokenKind(), output.One)
	if err != nil {
		return err
	}
	ctx := cmdutil.Context(opts.Cmd)
	ac, _, err := f.AgentClient(ctx)
	if err != nil {
		return err
	}
	raw, _, err := ac.FindToken(ctx, opts.ID)
	if err != nil {
		return err
	}
	return f.Printer(o).Object(raw, agentTokenKind())
}

// deleteAgent tries the undocumented DELETE; a server without it gets the
// advice to take the token's permissions away instead.
func deleteAgent(opts *DeleteOptions) error {
	return deleteSecretTokens(opts, "agent token", "agent uuids", func(ctx context.Context) (secretDeleter, error) {
		ac, _, err := opts.Factory.AgentClient(ctx)
		return ac, err
	})
}
