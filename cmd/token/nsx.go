package token

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// getNSX shows the roles (and user) of a token the caller already holds. The
// token itself is not echoed back: the output blanks it ("token": ""), as
// gets blank one-time secrets, and tables show its masked label.
func getNSX(opts *GetOptions) error {
	f := opts.Factory
	kind := nsxGetKind(opts.ID)
	o, err := f.OutputFor(kind, output.One)
	if err != nil {
		return exit.Usagef("%v (token get does not print the NSX token back: you supplied it; the exit code says whether it exists: 4 when it does not)", err)
	}
	ctx := cmdutil.Context(opts.Cmd)
	n, _, err := f.NSXClient(ctx)
	if err != nil {
		return err
	}
	raw, err := n.GetToken(ctx, opts.ID)
	if err != nil {
		return err
	}
	blanked, err := blankField(raw, "token")
	if err != nil {
		return err
	}
	return f.Printer(o).Object(blanked, kind)
}

// nsxGetKind prints what token get learns of an NSX token: its masked
// label (never the token), roles and user; no -o id, secret or manifest.
func nsxGetKind(token string) output.Kind {
	label := output.Mask(token)
	return output.Kind{
		Noun: "registration token",
		Columns: []output.Column{
			{Header: "TOKEN", Value: func(output.Item) string { return label }},
			output.Field("ROLES", "roles"),
			output.Field("USER", "user"),
		},
	}
}

// blankField replaces a secret field's value with "" and keeps the rest of
// the vendor's object.
func blankField(raw json.RawMessage, field string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("unexpected response (not the documented JSON): %w", err)
	}
	if _, ok := m[field]; ok {
		m[field] = json.RawMessage(`""`)
	}
	return output.MarshalJSON(m)
}

// deleteNSX revokes tokens by value.
func deleteNSX(opts *DeleteOptions) error {
	// An NSX token is its own id: never looked up by name.
	return deleteSecretTokens(opts, "registration token", "NSX tokens", func(ctx context.Context) (secretDeleter, cmdutil.NameLookup, error) {
		n, _, err := opts.Factory.NSXClient(ctx)
		return n, cmdutil.IDsOnly, err
	})
}
