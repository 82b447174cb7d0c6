package sensor

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// GetOptions are `sensor get`'s inputs.
type GetOptions struct {
	Factory *cmdutil.Factory
	Cmd     *cobra.Command

	ID string
}

// NewCmdGet builds `sensor get ID` (GET /sensors/appliances/{id}).
func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show one sensor (ssp)",
		Long: `Show one sensor (GetSensorById): name, description, the token it registered with, its
certificate and _revision. "-" as ID reads it from stdin.`,
		Example: `  tokenctl sensor get 8c147e21-7410-4f77-a3a6-e7aa6034992f -o json`,
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
			return f.ShowSSP(cmd, sensorKind(), func(ctx context.Context, sc *ssp.Client) (json.RawMessage, error) {
				return sc.GetSensor(ctx, opts.ID)
			})
		},
	}
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteSensorIDs)
	return cmd
}
