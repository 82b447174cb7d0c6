package profile

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// masked replaces an inline secret in `profile show`.
const masked = "********"

// NewCmdShow builds `profile show`.
func NewCmdShow(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "show [NAME]",
		Short: "Show a profile (the current one by default), secrets masked",
		Example: `  tokenctl profile show
  tokenctl profile show prod -o yaml`,
		Args: cmdutil.MaxArgs(1, "NAME"),

		ValidArgsFunction: cmdutil.FirstArg(f.CompleteProfiles),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := output.Kind{Noun: "profile", IDField: "name"}
			o, err := f.OutputFor(kind, output.One)
			if err != nil {
				return err
			}
			cf, err := f.Config()
			if err != nil {
				return err
			}
			name := cf.CurrentProfile
			if len(args) == 1 {
				name = args[0]
			} else if n, _, ok := f.Lookup(cmdutil.FlagProfile); ok {
				name = n
			}
			if name == "" {
				return config.NoProfileError()
			}
			var p config.Profile
			if name == config.SandboxProfile {
				p = config.Profile{Platform: "ssp (or --platform)", Server: "(in-process emulator)", Auth: config.AuthBasic, Username: "admin"}
			} else {
				pp, ok := cf.Profiles[name]
				if !ok {
					return exit.Errorf(exit.NotFound, "profile %q not found; see `tokenctl profile list`", name)
				}
				p = *pp
			}
			for _, s := range []*string{&p.Password, &p.Token, &p.ClientSecret} {
				if *s != "" {
					*s = masked
				}
			}
			// A hand-edited file may hold credentials in a URL, which
			// tokenctl refuses to use; never show them.
			p.Server, p.AuthURL = config.RedactURL(p.Server), config.RedactURL(p.AuthURL)
			// The JSON names are the config file's field names.
			var fields map[string]any
			_ = json.Unmarshal(cmdutil.RawOf(p), &fields)
			fields["name"] = name
			fields["current"] = name == cf.CurrentProfile
			if o.IsTable() {
				var pairs [][2]string
				pairs = append(pairs, [2]string{"name", name})
				for _, k := range profileFieldOrder {
					if v, ok := fields[k]; ok && v != "" && v != false {
						pairs = append(pairs, [2]string{k, fmt.Sprint(v)})
					}
				}
				pairs = append(pairs, [2]string{"current", fmt.Sprint(name == cf.CurrentProfile)})
				return output.KeyValues(f.IOStreams.Out, pairs)
			}
			return f.Printer(o).Object(cmdutil.RawOf(fields), kind)
		},
	}
}

// profileFieldOrder is the order `profile show` lists fields in.
var profileFieldOrder = []string{
	"platform", "server", "auth", "username", "password", "password_env", "password_command",
	"token", "token_env", "token_command", "client_id", "client_secret", "client_secret_env",
	"client_secret_command", "tsg_id", "auth_url", "cert_file", "key_file", "ca_file", "insecure",
	"thumbprint", "timeout", "token_type", "api_generation", "api_version", "tenant_id", "operator_id",
}
