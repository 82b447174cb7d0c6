package sensor

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// StatusOptions are `sensor status`'s inputs.
type StatusOptions = cmdutil.IDOptions

// NewCmdStatus builds `sensor status ID` (GET /sensors/appliances/{id}/status).
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a sensor's registration status and component health (ssp)",
		Long: `Show a sensor's registration status, overall health and the health of its sniffing
pipeline, uploading daemon and RAPID file analysis, with its uptime (GetSensorStatus).
ID is a sensor id or display_name (see "sensor get").`,
		Example: `  tokenctl sensor status 8c147e21-7410-4f77-a3a6-e7aa6034992f`,
		Args:    cmdutil.ExactArgs("ID"),
		RunE:    cmdutil.RunOneID(opts, &opts.ID, runF, showSensor(statusKind(), (*ssp.Client).GetSensorStatus)),
	}
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteSensorIDs)
	return cmd
}
