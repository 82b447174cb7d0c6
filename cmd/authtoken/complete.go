package authtoken

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/output"
)

// completeIDs completes auth token ids from the current SD-WAN profile,
// described by roles and expiry. An auth token's id is not its secret (that
// is x_auth_token, which is never read here), so ids may be listed.
func completeIDs(f *cmdutil.Factory) cobra.CompletionFunc {
	return f.CompleteFromServer([]string{config.SDWAN}, func(ctx context.Context, c *client.Client, p *config.Resolved, cmd *cobra.Command) ([]cobra.Completion, error) {
		var ids cmdutil.SDWANIDs
		if fl := cmd.Flags().Lookup("tenant"); fl != nil {
			ids.TenantID = fl.Value.String()
		}
		if fl := cmd.Flags().Lookup("operator"); fl != nil {
			ids.OperatorID = fl.Value.String()
		}
		sc, _, err := cmdutil.NewSDWAN(c, p, ids)
		if err != nil {
			return nil, err
		}
		var out []cobra.Completion
		_, err = sc.ListAuthTokens(ctx, func(raw json.RawMessage) error {
			it, err := output.ParseItem(raw)
			if err != nil {
				return err
			}
			if id := it.String("id"); id != "" {
				desc := it.String("roles")
				if exp := it.MsTime("expires_utc_ms"); exp != "" {
					desc += ", expires " + exp
				}
				out = append(out, cobra.CompletionWithDesc(id, desc))
			}
			return nil
		})
		return out, err
	})
}
