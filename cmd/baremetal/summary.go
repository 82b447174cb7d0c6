package baremetal

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// SummaryOptions are `baremetal summary`'s inputs.
type SummaryOptions struct {
	Factory *cmdutil.Factory
	Cmd     *cobra.Command
}

// NewCmdSummary builds `baremetal summary` (GetBaremetalServerSummary).
func NewCmdSummary(f *cmdutil.Factory, runF func(*SummaryOptions) error) *cobra.Command {
	opts := &SummaryOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "summary",
		Short: "Count baremetal servers by health, lcm outcome and agent version (ssp)",
		Long: `Show the SSP's counts over all baremetal servers (GetBaremetalServerSummary): total,
agent health (OK, disconnected, degraded), operational status (success, failed, in
progress; upgrade and offboard failures) and versions (the latest agent version, how many
run it, how many need an upgrade). JSON output is the vendor's BaremetalServersSummary.`,
		Example: `  tokenctl baremetal summary
  tokenctl baremetal summary -o json --jq .version_stats.upgrade_needed_count`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Cmd = cmd
			if runF != nil {
				return runF(opts)
			}
			return f.ShowSSP(cmd, summaryKind(), func(ctx context.Context, sc *ssp.Client) (json.RawMessage, error) {
				return sc.GetBaremetalServerSummary(ctx)
			})
		},
	}
	return cmd
}
