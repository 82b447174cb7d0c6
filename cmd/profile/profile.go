// Package profile is `tokenctl profile`: the saved connections.
package profile

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
)

// NewCmdProfile builds `tokenctl profile`.
func NewCmdProfile(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group(&cobra.Command{
		Use:   "profile <command>",
		Short: "Manage profiles: saved connections to one server of one platform",
		Example: `  tokenctl profile set prod --platform ssp --server https://ssp.example.com --username admin --password-env SSP_PASSWORD
  tokenctl profile list
  tokenctl profile check prod`,
		Long: `A profile names one server of one platform, how to authenticate to it and how to trust
its certificate. Profiles live in $TOKENCTL_CONFIG, else $XDG_CONFIG_HOME/tokenctl/config.yaml
(mode 0600; a file others can read is refused). Secrets can stay out of the file:
password_env names an environment variable, password_command a command that prints it.

The built-in profile "sandbox" needs no configuration: it runs the emulator in-process.`,
	},
		NewCmdSet(f, nil),
		NewCmdList(f),
		NewCmdUse(f),
		NewCmdShow(f),
		NewCmdDelete(f),
		NewCmdCheck(f),
	)
}
