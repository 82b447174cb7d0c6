package sensor

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// GetOptions are `sensor get`'s inputs.
type GetOptions = cmdutil.IDOptions

// NewCmdGet builds `sensor get ID` (GET /sensors/appliances/{id}).
func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show one sensor (ssp)",
		Long: `Show one sensor (GetSensorById): name, description, the token it registered with, its
certificate and _revision. "-" as ID reads it from stdin. ID may also be the sensor's
display_name, looked up with one scan of the sensor list (several sensors of that name:
exit 2, listing them; none: exit 4); so may the ID of sensor status, features, update and
delete.`,
		Example: `  tokenctl sensor get 8c147e21-7410-4f77-a3a6-e7aa6034992f -o json
  tokenctl sensor get ams-dc1-ndr-00003`,
		Args: cmdutil.ExactArgs("ID"),
		RunE: cmdutil.RunOneID(opts, &opts.ID, runF, showSensor(sensorKind(), (*ssp.Client).GetSensor)),
	}
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteSensorIDs)
	return cmd
}
