package sensor

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// FeaturesOptions are `sensor features ID`'s inputs.
type FeaturesOptions = cmdutil.IDOptions

// NewCmdFeatures builds `sensor features ID`
// (GET /sensors/appliances/{id}/feature-config) and its `set` subcommand.
func NewCmdFeatures(f *cmdutil.Factory, runF func(*FeaturesOptions) error) *cobra.Command {
	opts := &FeaturesOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "features ID",
		Short: "Show a sensor's IDS, PCAP, flow and MPS settings; `features set` changes them (ssp)",
		Long: `Show which events a sensor reports (GetSensorFeatureConfig): IDS events (with or without
packet capture), network flows, and malware-prevention (MPS) file events with the file
types it extracts. ID is a sensor id or display_name (see "sensor get").
"tokenctl sensor features set" changes them on many sensors at once (ids only).`,
		Example: `  tokenctl sensor features 8c147e21-7410-4f77-a3a6-e7aa6034992f
  tokenctl sensor features set --ids enable_with_pcap --flows enable ID1 ID2`,
		Args: cmdutil.ExactArgs("ID"),
		RunE: cmdutil.RunOneID(opts, &opts.ID, runF, showSensor(featuresKind(), (*ssp.Client).GetSensorFeatures)),
	}
	cmd.AddCommand(NewCmdFeaturesSet(f, nil))
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteSensorIDs)
	return cmd
}
