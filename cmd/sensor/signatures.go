package sensor

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// SignaturesOptions are `sensor signatures`'s inputs.
type SignaturesOptions = cmdutil.IDOptions

// NewCmdSignatures builds `sensor signatures ID`
// (GET /sensors/appliances/{id}/ids-signature-bundle).
func NewCmdSignatures(f *cmdutil.Factory, runF func(*SignaturesOptions) error) *cobra.Command {
	opts := &SignaturesOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "signatures ID",
		Short: "Show the IDS signature bundle a sensor runs (ssp)",
		Long: `Show the IDS signature bundle of a sensor: its version, how many signatures it holds,
its id and when it was built and installed (GetSensorApplianceIdsSignatureBundle).`,
		Example: `  tokenctl sensor signatures 8c147e21-7410-4f77-a3a6-e7aa6034992f`,
		Args:    cmdutil.ExactArgs("ID"),
		RunE:    cmdutil.RunOneID(opts, &opts.ID, runF, showSensor(signaturesKind(), (*ssp.Client).GetSensorSignatures)),
	}
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteSensorIDs)
	return cmd
}
