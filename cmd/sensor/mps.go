package sensor

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// NewCmdMPS builds `sensor mps` with `get` and `set`.
func NewCmdMPS(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group(&cobra.Command{
		Use:   "mps <command>",
		Short: "Show or set which file types sensors extract for malware analysis (ssp)",
		Example: `  tokenctl sensor mps get
  tokenctl sensor mps set --media-file-type=false`,
		Long: `The SSP-wide malware-prevention (MPS) configuration: which of the seven file categories
(document, executable, media, archive, data, script, other) sensors extract and send for
analysis. It applies to every sensor with MPS reporting on (see "sensor features set --mps").`,
	}, NewCmdMPSGet(f, nil), NewCmdMPSSet(f, nil))
}

// MPSGetOptions are `sensor mps get`'s inputs.
type MPSGetOptions struct {
	cmdutil.Verb
}

// NewCmdMPSGet builds `sensor mps get` (GET /sensors/mps-global-config).
func NewCmdMPSGet(f *cmdutil.Factory, runF func(*MPSGetOptions) error) *cobra.Command {
	opts := &MPSGetOptions{Verb: cmdutil.Verb{Factory: f}}
	return &cobra.Command{
		Use:     "get",
		Short:   "Show the MPS file types sensors extract (ssp)",
		Long:    `Show the seven MPS file-type switches (GetSensorGlobalConfigMps).`,
		Example: `  tokenctl sensor mps get -o json`,
		Args:    cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, func(opts *MPSGetOptions) error {
			return f.ShowSSP(opts.Cmd, mpsKind(), (*ssp.Client).GetMPSGlobal)
		}),
	}
}

// MPSSetOptions are `sensor mps set`'s inputs.
type MPSSetOptions struct {
	cmdutil.Verb

	// FileTypes holds a flag value per vendor field (document_file_type ...).
	FileTypes map[string]*bool
}

// mpsFlag is the flag of a vendor field: --document-file-type for
// document_file_type.
func mpsFlag(field string) string { return strings.ReplaceAll(field, "_", "-") }

// NewCmdMPSSet builds `sensor mps set` (GET, then PUT
// /sensors/mps-global-config with all seven switches).
func NewCmdMPSSet(f *cmdutil.Factory, runF func(*MPSSetOptions) error) *cobra.Command {
	opts := &MPSSetOptions{Verb: cmdutil.Verb{Factory: f}, FileTypes: map[string]*bool{}}
	cmd := &cobra.Command{
		Use:   "set [--document-file-type=true|false ...]",
		Short: "Switch MPS file types on or off (ssp)",
		Long: `Switch MPS file categories on or off (UpdateSensorGlobalConfigMps). The vendor's call
replaces all seven switches at once, so tokenctl reads the current configuration, changes
only the switches given as flags and writes all seven back. The configuration has no
_revision: a change someone else makes between the read and the write is overwritten.`,
		Example: `  tokenctl sensor mps set --media-file-type=false --other-file-type=false
  tokenctl sensor mps set --executable-file-type`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, mpsSetRun),
	}
	for _, ft := range ssp.MPSFileTypes {
		v := new(bool)
		opts.FileTypes[ft] = v
		cmd.Flags().BoolVar(v, mpsFlag(ft), false, ft+": extract "+shortFileType(ft)+" files for analysis (=false: do not)")
	}
	return cmd
}

func mpsSetRun(opts *MPSSetOptions) error {
	f := opts.Factory
	if err := f.SSPOnly(opts.Cmd); err != nil {
		return err
	}
	kind := mpsKind()
	o, err := f.OutputFor(kind, output.One)
	if err != nil {
		return err
	}
	change := map[string]bool{}
	for _, ft := range ssp.MPSFileTypes {
		if cmdutil.Changed(opts.Cmd, mpsFlag(ft)) {
			change[ft] = *opts.FileTypes[ft]
		}
	}
	if len(change) == 0 {
		return exit.Usagef("nothing to change: give at least one of --%s", strings.Join(mpsFlags(), ", --"))
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	raw, err := sc.UpdateMPSGlobal(ctx, change)
	if err != nil {
		return err
	}
	f.Notice("Updated the MPS global configuration.")
	return f.Printer(o).Object(raw, kind)
}

func mpsFlags() []string {
	out := make([]string, len(ssp.MPSFileTypes))
	for i, ft := range ssp.MPSFileTypes {
		out[i] = mpsFlag(ft)
	}
	return out
}
