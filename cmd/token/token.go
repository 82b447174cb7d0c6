// Package token is `tokenctl token`: registration tokens on SSP and NSX,
// agent tokens on agent-config. The profile's platform decides the API.
package token

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
)

// NewCmdToken builds `tokenctl token`.
func NewCmdToken(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group(&cobra.Command{
		Use:   "token <command>",
		Short: "Manage registration tokens (ssp, nsx) and agent tokens (agent)",
		Example: `  tokenctl token create --display-name edge-01 --generate-passphrase --passphrase-file edge-01.pp
  tokenctl token list --status AVAILABLE
  tokenctl token delete 366a0c3f-6a06-4c46-8de1-476ec7858c64 --yes`,
		Long: `Manage registration tokens on SSP (sensor and baremetal) and NSX, and agent tokens on
agent-config. The current profile's platform decides which API each verb speaks.`,
	},
		NewCmdCreate(f, nil),
		NewCmdList(f, nil),
		NewCmdGet(f, nil),
		NewCmdDelete(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdStatus(f, nil),
		NewCmdWait(f, nil),
	)
}
