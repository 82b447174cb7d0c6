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
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	switch o.Format {
	case output.ID, output.Secret, output.Manifest:
		return exit.Usagef("-o %s: token get does not print the NSX token back (you supplied it); use -o json or the exit code (4 when the token does not exist)", o.Format)
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
	label := output.Mask(opts.ID)
	kind := output.Kind{
		Noun: "registration token",
		Columns: []output.Column{
			{Header: "TOKEN", Value: func(output.Item) string { return label }},
			output.Field("ROLES", "roles"),
			output.Field("USER", "user"),
		},
	}
	return f.Printer(o).Object(blanked, kind)
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
	return deleteSecretTokens(opts, "registration token", "NSX tokens", func(ctx context.Context) (secretDeleter, *cmdutil.NameLookup, error) {
		n, _, err := opts.Factory.NSXClient(ctx)
		return n, nil, err
	})
}
