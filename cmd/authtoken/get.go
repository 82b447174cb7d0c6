package authtoken

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// GetOptions are `authtoken get`'s inputs.
type GetOptions struct {
	cmdutil.Verb

	ID  string
	IDs cmdutil.SDWANIDs
}

// NewCmdGet builds `authtoken get`.
func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show one auth token, secret blanked (sdwan)",
		Long: `Show one auth token by id ("-" reads the id from stdin). An unknown id is exit 4.

x_auth_token is never shown: a server that sends it gets it blanked (""). The secret
appears only in the output of the create that made it.`,
		Example: `  tokenctl authtoken get 17000000000000123 -o json`,
		Args:    cmdutil.ExactArgs("ID"),
		RunE:    cmdutil.RunOneID(opts, &opts.ID, runF, getRun),
	}
	addIDFlags(cmd, &opts.IDs)
	cmd.ValidArgsFunction = cmdutil.FirstArg(completeIDs(f))
	return cmd
}

func getRun(opts *GetOptions) error {
	f := opts.Factory
	ctx, sc, o, err := startRead(f, opts.Cmd, opts.IDs, output.One)
	if err != nil {
		return err
	}
	raw, err := sc.GetAuthToken(ctx, opts.ID)
	if err != nil {
		return err
	}
	blanked, err := sdwan.BlankSecret(raw)
	if err != nil {
		return err
	}
	return f.Printer(o).Object(blanked, authTokenKind(false))
}
