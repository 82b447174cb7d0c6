package sensor

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// SignaturesOptions are `sensor signatures`'s inputs.
type SignaturesOptions struct {
	Factory *cmdutil.Factory
	Cmd     *cobra.Command

	ID string
}

// NewCmdSignatures builds `sensor signatures ID`
// (GET /sensors/appliances/{id}/ids-signature-bundle).
func NewCmdSignatures(f *cmdutil.Factory, runF func(*SignaturesOptions) error) *cobra.Command {
	opts := &SignaturesOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "signatures ID",
		Short: "Show the IDS signature bundle a sensor runs (ssp)",
		Long: `Show the IDS signature bundle of a sensor: its version, how many signatures it holds,
its id and when it was built and installed (GetSensorApplianceIdsSignatureBundle).`,
		Example: `  tokenctl sensor signatures 8c147e21-7410-4f77-a3a6-e7aa6034992f`,
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
			return showSensor(f, cmd, opts.ID, signaturesKind(), func(ctx context.Context, sc *ssp.Client, id string) (json.RawMessage, error) {
				return sc.GetSensorSignatures(ctx, id)
			})
		},
	}
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteSensorIDs)
	return cmd
}
