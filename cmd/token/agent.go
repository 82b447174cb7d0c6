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
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	if (o.Format == output.Manifest || o.Format == output.Secret) && !o.DropEnvFormat() {
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
	if o.Format == output.Manifest && !o.DropEnvFormat() {
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
	return deleteSecretTokens(opts, "agent token", "agent uuids", func(ctx context.Context) (secretDeleter, error) {
		ac, _, err := opts.Factory.AgentClient(ctx)
		return ac, err
	})
}
