package sensor

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/output"
)

// VersionsOptions are `sensor versions`'s inputs.
type VersionsOptions struct {
	cmdutil.Verb
}

// NewCmdVersions builds `sensor versions` (GET /sensors/version-summary).
func NewCmdVersions(f *cmdutil.Factory, runF func(*VersionsOptions) error) *cobra.Command {
	opts := &VersionsOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "versions",
		Short: "Count sensors per software version (ssp)",
		Long: `Count the sensors per software version (GetSensorVersionSummary). The vendor's call
takes no paging or filter parameters: the summary is one response. JSON output is an array
of the vendor's {software_version, count} items; -o id prints the versions.`,
		Example: `  tokenctl sensor versions
  tokenctl sensor details --software-versions '<5.2' -o id   # then find the old ones`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, versionsRun),
	}
	return cmd
}

func versionsRun(opts *VersionsOptions) error {
	f := opts.Factory
	if err := f.SSPOnly(opts.Cmd); err != nil {
		return err
	}
	kind := versionsKind()
	o, err := f.OutputFor(kind, output.Many)
	if err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	l := f.Printer(o).List(kind)
	if err := sc.SensorVersions(ctx, l.Add); err != nil {
		return err
	}
	return l.Close()
}
