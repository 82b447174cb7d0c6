package sensor

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// StatusOptions are `sensor status`'s inputs.
type StatusOptions struct {
	Factory *cmdutil.Factory
	Cmd     *cobra.Command

	ID string
}

// NewCmdStatus builds `sensor status ID` (GET /sensors/appliances/{id}/status).
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a sensor's registration status and component health (ssp)",
		Long: `Show a sensor's registration status, overall health and the health of its sniffing
pipeline, uploading daemon and RAPID file analysis, with its uptime (GetSensorStatus).
ID is a sensor id or display_name (see "sensor get").`,
		Example: `  tokenctl sensor status 8c147e21-7410-4f77-a3a6-e7aa6034992f`,
		Args:    cmdutil.ExactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Cmd = cmd
			id, err := f.OneID(cmd, args)
			if err != nil {
				return err
			}
			opts.ID = id
			if runF != nil {
				return runF(opts)
			}
			return showSensor(f, cmd, opts.ID, statusKind(), func(ctx context.Context, sc *ssp.Client, id string) (json.RawMessage, error) {
				return sc.GetSensorStatus(ctx, id)
			})
		},
	}
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteSensorIDs)
	return cmd
}
