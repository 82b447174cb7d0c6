package token

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
)

// CreateOptions are `token create`'s inputs.
type CreateOptions struct {
	Factory *cmdutil.Factory
	Cmd     *cobra.Command

	Type        string // ssp: sensor|baremetal; nsx: sensor
	File        string // -f FILE|-
	Concurrency int

	// ssp
	DisplayName      string
	Description      string
	AllowedInstances int64
	Passphrase       PassphraseFlags
}

// createFlags says which platforms each platform-specific flag applies to.
var createFlags = map[string][]string{
	"display-name":        {config.SSP},
	"description":         {config.SSP},
	"allowed-instances":   {config.SSP},
	"passphrase-stdin":    {config.SSP},
	"passphrase-file":     {config.SSP},
	"generate-passphrase": {config.SSP},
}

// NewCmdCreate builds `token create`; runF replaces the run (tests).
func NewCmdCreate(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "create [-f FILE|-]",
		Short: "Create registration tokens (ssp, nsx) or an agent token (agent)",
		Long: `Create a token from flags, or one token per document of a YAML or JSON manifest
(-f FILE, or -f - for stdin). Manifest fields are the vendor's request fields (snake_case);
flags override them. Several documents create several tokens concurrently, each with its
own result.

ssp: a sensor (default) or baremetal registration token. The passphrase never comes from a
plain flag: use --passphrase-stdin, --passphrase-file, TOKENCTL_PASSPHRASE, a manifest,
--generate-passphrase (written to --passphrase-file, 0600, never overwritten), or a prompt.
-o manifest prints only the registration manifest, for piping to an installer.`,
		Example: `  tokenctl --profile sandbox token create --display-name demo --generate-passphrase --passphrase-file pp.txt -o manifest
  printf '%s\n' "$PASSPHRASE" | tokenctl token create --display-name edge-01 --passphrase-stdin
  tokenctl token create -f tokens.yaml -o json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Cmd = cmd
			if runF != nil {
				return runF(opts)
			}
			return createRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Type, "type", "", "ssp: sensor or baremetal (default sensor, or the profile's token_type)")
	fl.StringVarP(&opts.File, "file", "f", "", "manifest file of one or more YAML/JSON documents; - reads stdin")
	fl.IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "how many documents of a manifest are created at once")
	fl.StringVar(&opts.DisplayName, "display-name", "", "ssp: display_name of the token")
	fl.StringVar(&opts.Description, "description", "", "ssp: description of the token")
	fl.Int64Var(&opts.AllowedInstances, "allowed-instances", 0, "ssp: allowed_instance_count, how many appliances may register with the token")
	fl.BoolVar(&opts.Passphrase.Stdin, "passphrase-stdin", false, "ssp: read the passphrase from the first line of stdin")
	fl.StringVar(&opts.Passphrase.File, "passphrase-file", "", "ssp: read the passphrase from this file, or write the generated one to it")
	fl.BoolVar(&opts.Passphrase.Generate, "generate-passphrase", false, "ssp: generate a passphrase that meets the vendor's rules")
	cmdutil.CompleteFlag(cmd, "type", cmdutil.FixedValues(tokenTypes...))
	return cmd
}

func createRun(opts *CreateOptions) error {
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	if err := cmdutil.OnlyFor(opts.Cmd, p.Platform, createFlags); err != nil {
		return err
	}
	switch p.Platform {
	case config.SSP:
		return createSSP(opts, p)
	default:
		return cmdutil.Unsupported(opts.Cmd, p.Platform, config.SSP, config.NSX, config.Agent)
	}
}
