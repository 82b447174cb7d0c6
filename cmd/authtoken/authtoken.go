// Package authtoken is `tokenctl authtoken`: Prisma SD-WAN operator auth
// tokens, on the legacy and the unified API (the profile's api_generation).
package authtoken

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// NewCmdAuthtoken builds `tokenctl authtoken`.
func NewCmdAuthtoken(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group(&cobra.Command{
		Use:   "authtoken <command>",
		Short: "Manage Prisma SD-WAN operator auth tokens (sdwan)",
		Long: `Manage the auth tokens of a Prisma SD-WAN operator: static X-Auth-Token secrets with
roles and an expiry, for scripts and integrations.

The profile's api_generation picks the API: legacy (/v2.x/api/tenants/{tenant}/operators/
{operator}/authtokens, authenticated with a static X-Auth-Token) or unified (/sdwan/v2.x/api/
operators/{operator}/authtokens, OAuth2 client credentials with a TSG id, Bearer). api_version
is v2.1 by default, v2.0 selectable.

The tenant and operator ids come from --tenant/--operator, else the profile's tenant_id and
operator_id, else the cache ($XDG_STATE_HOME/tokenctl/cache.json, per server and credential),
else the API's profile call, whose answer is cached.

A new token's secret (x_auth_token) is shown once, by authtoken create; list, get and delete
never show it.`,
		Example: `  export TOKEN=$(tokenctl authtoken create --role tenant_viewonly --expires 30d -o secret)
  tokenctl --profile sandbox --platform sdwan authtoken list
  tokenctl authtoken delete 17000000000000123 --yes`,
	},
		NewCmdCreate(f, nil),
		NewCmdList(f, nil),
		NewCmdGet(f, nil),
		NewCmdDelete(f, nil),
	)
}

// addIDFlags registers --tenant and --operator.
func addIDFlags(cmd *cobra.Command, ids *cmdutil.SDWANIDs) {
	// An empty value would fall back to discovery unnoticed: refuse it.
	cmdutil.NonEmptyStringVar(cmd.Flags(), &ids.TenantID, "tenant", "tenant id (legacy API; default: the profile's tenant_id, else discovered)")
	cmdutil.NonEmptyStringVar(cmd.Flags(), &ids.OperatorID, "operator", "operator id (default: the profile's operator_id, else discovered)")
}

// noSecretOutput starts the verbs that never show a secret (list, get,
// delete): an sdwan profile, and -o checked for kind in shape, -o secret
// refused, before anything is sent.
func noSecretOutput(f *cmdutil.Factory, cmd *cobra.Command, kind output.Kind, shape output.Shape) (output.Options, error) {
	if _, err := f.ProfileOn(cmd, config.SDWAN); err != nil {
		return output.Options{}, err
	}
	o, err := f.OutputOptions()
	if err != nil {
		return o, err
	}
	if o.Format == output.Secret && !o.DropEnvFormat() {
		return o, exit.Usagef("-o secret: an auth token's x_auth_token is shown once, by `authtoken create`; `authtoken %s` never shows it", cmd.Name())
	}
	return o, o.Check(kind, shape)
}

// startRead starts the reads (get, list): noSecretOutput, then the
// connection.
func startRead(f *cmdutil.Factory, cmd *cobra.Command, ids cmdutil.SDWANIDs, shape output.Shape) (context.Context, *sdwan.Client, output.Options, error) {
	o, err := noSecretOutput(f, cmd, authTokenKind(false), shape)
	if err != nil {
		return nil, nil, o, err
	}
	ctx := cmdutil.Context(cmd)
	sc, _, err := f.SDWANClient(ctx, ids)
	return ctx, sc, o, err
}

// authTokenKind prints auth tokens; withSecret adds the x_auth_token column
// and -o secret (create only).
func authTokenKind(withSecret bool) output.Kind {
	k := output.Kind{
		Noun:    "auth token",
		IDField: "id",
		Columns: []output.Column{
			output.Field("ID", "id"),
			output.TextField("ROLES", "roles"),
			output.TextField("CUSTOM ROLES", "custom_roles"),
			output.TimeField("EXPIRES", "expires_utc_ms"),
			output.Field("SYSTEM OWNED", "is_system_owned"),
		},
	}
	if withSecret {
		k.SecretField = "x_auth_token"
		k.Columns = append(k.Columns, output.Field("X_AUTH_TOKEN", "x_auth_token"))
	}
	return k
}
