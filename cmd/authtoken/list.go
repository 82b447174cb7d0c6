package authtoken

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// ListOptions are `authtoken list`'s inputs.
type ListOptions struct {
	cmdutil.Verb

	IDs cmdutil.SDWANIDs
}

// NewCmdList builds `authtoken list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the operator's auth tokens, secrets blanked (sdwan)",
		Long: `List the operator's auth tokens, expired ones included. JSON output is an array of the
vendor's items ([] when empty). The vendor documents no paging for this list.

x_auth_token is never shown: a server that sends it gets it blanked (""). The secret
appears only in the output of the create that made it.`,
		Example: `  tokenctl authtoken list
  tokenctl authtoken list -o json --jq '.[] | select(.is_system_owned | not) | .id'`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, listRun),
	}
	addIDFlags(cmd, &opts.IDs)
	return cmd
}

func listRun(opts *ListOptions) error {
	f := opts.Factory
	ctx, sc, o, err := startRead(f, opts.Cmd, opts.IDs, output.Many)
	if err != nil {
		return err
	}
	l := f.Printer(o).List(authTokenKind(false))
	_, err = sc.ListAuthTokens(ctx, func(raw json.RawMessage) error {
		blanked, err := sdwan.BlankSecret(raw)
		if err != nil {
			return err
		}
		return l.Add(blanked)
	})
	if err != nil {
		return err
	}
	return l.Close()
}
