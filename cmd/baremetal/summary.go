package baremetal

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// SummaryOptions are `baremetal summary`'s inputs.
type SummaryOptions struct {
	cmdutil.Verb
}

// NewCmdSummary builds `baremetal summary` (GetBaremetalServerSummary).
func NewCmdSummary(f *cmdutil.Factory, runF func(*SummaryOptions) error) *cobra.Command {
	opts := &SummaryOptions{Verb: cmdutil.Verb{Factory: f}}
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
		RunE: cmdutil.Run(opts, runF, func(opts *SummaryOptions) error {
			return f.ShowSSP(opts.Cmd, summaryKind(), (*ssp.Client).GetBaremetalServerSummary)
		}),
	}
	return cmd
}
