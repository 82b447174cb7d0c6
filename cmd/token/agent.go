package token

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/agent"
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
	ctx, ac, n, err := resolveAgentToken(f, opts.Cmd, opts.ID)
	if err != nil {
		return err
	}
	if n.Raw != nil { // found by name in the list just read
		return f.Printer(o).Object(n.Raw, agentTokenKind())
	}
	raw, _, err := ac.FindToken(ctx, n.ID)
	if err != nil {
		return err
	}
	return f.Printer(o).Object(raw, agentTokenKind())
}

// resolveAgentToken connects and resolves the token an argument names: a
// uuid, or a name found in the list (agentLookup).
func resolveAgentToken(f *cmdutil.Factory, cmd *cobra.Command, arg string) (context.Context, *agent.Client, cmdutil.Named, error) {
	ctx := cmdutil.Context(cmd)
	ac, _, err := f.AgentClient(ctx)
	if err != nil {
		return nil, nil, cmdutil.Named{}, err
	}
	n, err := f.ResolveID(ctx, arg, agentLookup(ac))
	return ctx, ac, n, err
}

// agentLookup resolves agent token arguments that are not uuids as names,
// with one list call. The uuids are secrets: every one listed is registered
// with the redactor, and messages show masked labels only.
func agentLookup(ac *agent.Client) cmdutil.NameLookup {
	return cmdutil.NameLookup{
		Noun:      "agent token",
		Secret:    true,
		NameField: "name",
		Scan: func(ctx context.Context, _ []string, add func(cmdutil.Named)) error {
			_, err := ac.ListTokens(ctx, func(raw json.RawMessage) error {
				var t agent.Token
				if err := json.Unmarshal(raw, &t); err != nil {
					return fmt.Errorf("unexpected response: a token is not the documented JSON: %w", err)
				}
				ac.HTTP().Redactor().AddSecret(t.UUID)
				add(cmdutil.Named{ID: t.UUID, Name: t.Name, Raw: append(json.RawMessage(nil), raw...)})
				return nil
			})
			return err
		},
	}
}

// deleteAgent tries the undocumented DELETE; a server without it gets the
// advice to take the token's permissions away instead. Names are looked up
// in the list.
func deleteAgent(opts *DeleteOptions) error {
	return deleteSecretTokens(opts, "agent token", "agent uuids", func(ctx context.Context) (secretDeleter, cmdutil.NameLookup, error) {
		ac, _, err := opts.Factory.AgentClient(ctx)
		return ac, agentLookup(ac), err
	})
}
