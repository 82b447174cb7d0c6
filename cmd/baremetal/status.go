package baremetal

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// StatusOptions are `baremetal status`'s inputs.
type StatusOptions = cmdutil.IDOptions

// NewCmdStatus builds `baremetal status ID` (GetBaremetalServerStatus).
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "status ID|NAME",
		Short: "Show a baremetal server's lcm status, connectivity and health (ssp)",
		Long: `Show a baremetal server's status (GetBaremetalServerStatus): its lifecycle (lcm) status
(ACCEPTED, RUNNING, SUCCESS, FAILED, FREE, ABORTED), operation (INSTALL, UPGRADE, UNINSTALL,
...) and error, connectivity, overall agent health (OK, DISCONNECTED, DEGRADED), agent
version and last operation. JSON output is the vendor's BaremetalServerStatus, with the
interfaces, controller and per-service connectivity. "-" as ID reads it from stdin; a
display_name is looked up.`,
		Example: `  tokenctl baremetal status web-01
  tokenctl baremetal status 0b7e5a53-4d0f-4c8e-9d3a-6f1f2a7c9e11 -o json --jq .lcm_error`,
		Args: cmdutil.ExactArgs("ID"),
		RunE: cmdutil.RunOneID(opts, &opts.ID, runF, showServer(statusKind(), cmdutil.SSPGet((*ssp.Client).GetBaremetalServerStatus))),
	}
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteBaremetalServerIDs)
	return cmd
}
