package token

import (
	"context"
	"fmt"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// listAgent prints the token list: the vendor's array, uuids included (the
// list is an administrator's view, and the uuid is what the other verbs
// take as ID).
func listAgent(opts *ListOptions) error {
	f := opts.Factory
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	if o.Format == output.Manifest || o.Format == output.Secret {
		return exit.Usagef("-o %s prints one object; it does not apply to a list", o.Format)
	}
	ctx := cmdutil.Context(opts.Cmd)
	ac, _, err := f.AgentClient(ctx)
	if err != nil {
		return err
	}
	l := f.Printer(o).List(agentTokenKind())
	if _, err := ac.ListTokens(ctx, l.Add); err != nil {
		return err
	}
	return l.Close()
}

// getAgent finds one token in the list (the API has no single-token call).
func getAgent(opts *GetOptions) error {
	f := opts.Factory
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	if o.Format == output.Manifest {
		return exit.Usagef("-o manifest: agent tokens have no manifest")
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
	f := opts.Factory
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	switch o.Format {
	case output.Manifest, output.Secret:
		return exit.Usagef("-o %s does not apply to token delete", o.Format)
	case output.ID:
		return exit.Usagef("-o id: agent uuids are secrets, and token delete does not print them back; -o json gives per-token results with masked labels")
	}
	if err := f.Confirm(fmt.Sprintf("Delete %d agent token(s) %s?", len(opts.IDs), maskedList(opts.IDs))); err != nil {
		return err
	}
	ctx := cmdutil.Context(opts.Cmd)
	ac, _, err := f.AgentClient(ctx)
	if err != nil {
		return err
	}
	for _, id := range opts.IDs {
		ac.HTTP().Redactor().AddSecret(id)
	}
	return f.DeleteEach(ctx, o, opts.IDs, opts.Concurrency, "agent token", output.Mask,
		func(ctx context.Context, id string) (cmdutil.Deleted, error) {
			gone, err := ac.DeleteToken(ctx, id)
			return cmdutil.Deleted{ID: output.Mask(id), Gone: gone}, err
		})
}
