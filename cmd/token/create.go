package token

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/wait"
)

// CreateOptions are `token create`'s inputs.
type CreateOptions struct {
	cmdutil.Verb

	Type         string // ssp: sensor|baremetal; nsx: sensor
	File         string // -f FILE|-
	Concurrency  int
	SkipExisting bool

	// ssp
	DisplayName      string
	Description      string
	AllowedInstances int64
	ExpiryMinutes    int64 // baremetal: expiry_time_since_creation_mins
	Passphrase       PassphraseFlags

	// ssp: -o install-script and --wait
	Script ScriptFlags
	Wait   string // used|registered|healthy
	Count  int
	cmdutil.WaitFlags

	// agent
	Name   string
	Read   bool
	Change bool
}

// createFlags says which platforms each platform-specific flag applies to.
var createFlags = map[string][]string{
	"display-name":         {config.SSP},
	"description":          {config.SSP},
	"allowed-instances":    {config.SSP},
	"expiry-minutes":       {config.SSP},
	"passphrase-stdin":     {config.SSP},
	"passphrase-file":      {config.SSP},
	"generate-passphrase":  {config.SSP},
	"host-passphrase-file": {config.SSP},
	"install-path":         {config.SSP},
	"wait":                 {config.SSP},
	"count":                {config.SSP},
	"wait-timeout":         {config.SSP},
	"interval":             {config.SSP},
	"type":                 {config.SSP, config.NSX},
	"file":                 {config.SSP, config.Agent},
	"concurrency":          {config.SSP, config.Agent},
	"skip-existing":        {config.SSP, config.Agent},
	"name":                 {config.Agent},
	"read":                 {config.Agent},
	"change":               {config.Agent},
}

// NewCmdCreate builds `token create`; runF replaces the run (tests).
func NewCmdCreate(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "create [-f FILE|-]",
		Short: "Create registration tokens (ssp, nsx) or an agent token (agent)",
		Long: `Create a token from flags, or one token per document of a YAML or JSON manifest
(-f FILE, or -f - for stdin). Manifest fields are the vendor's request fields (snake_case);
flags override them. Several documents create several tokens concurrently, each with its
own result.

A create from flags alone prints the vendor's object. A create from -f prints a result per
document, whatever their number (-o json: [{"source": "FILE#N", "outcome": "created",
"ok": true, "result": {...}}, ...]; outcome is created, exists, failed or unknown). -o id,
-o secret and -o manifest print one value and take a manifest of one document only.

--skip-existing makes creates safe to run again (ssp, agent): a document whose display_name
(agent: name) already has a usable token (ssp: AVAILABLE; agent: with at least the
permissions asked for) is reported as "exists" and not created; one list scan finds them
all. After a batch ended with exit 8, the same command with --skip-existing creates only
what is missing. With --skip-existing, --generate-passphrase --passphrase-file FILE takes the
passphrase from FILE when it exists (an earlier run generated it), so the tokens a re-run
still creates get the same passphrase as the others. An existing token's -o install-script
embeds the passphrase given to this command (the SSP never returns one): the same one the
token was made with, when the command is the same; when FILE is missing, a new passphrase is
generated that no existing token has: -o install-script then exits 5, other formats warn.
"unknown" means the server may have made the token although its answer
was lost or unreadable (exit 7 for a single create): look for it before creating again;
--skip-existing does.

ssp: a sensor (default) or baremetal registration token. The passphrase never comes from a
plain flag: use --passphrase-stdin, --passphrase-file, TOKENCTL_PASSPHRASE, a manifest,
--generate-passphrase (written to --passphrase-file, 0600, never overwritten), or a prompt.
-o manifest prints only the registration manifest, for piping to an installer; for a
baremetal token (created with 201, without a manifest) tokenctl then fetches the token's
status and prints its registration_manifest. -o install-script (baremetal) prints a POSIX sh
script for the host that runs the vendor's installer, vdefend-cli, with the manifest and
the passphrase just used (or, with --host-passphrase-file PATH, read on the host); see
'tokenctl token status --help' and docs/guides/provision-baremetal.md.

--wait used|registered|healthy prints the output, closes stdout so that a pipe's reader
(sh, ssh) goes ahead, then waits as 'tokenctl token wait' does (--count, --wait-timeout,
--interval; exit 0, 5 or 124), with progress and failed hosts on stderr:
  tokenctl token create --type baremetal ... -o install-script --wait healthy | ssh host sudo sh

nsx: a registration token with your own roles, or with --type sensor a sensor registration
token (roles ["sensor"]). NSX takes no request body and has no list call: the token is shown
once, so store it now (-o secret prints it alone).

agent: --name, --read and --change, or a manifest with the fields name, read and change.
The token's uuid is the secret agents pass; -o secret prints it alone.`,
		Example: `  tokenctl --profile sandbox token create --display-name demo --generate-passphrase --passphrase-file pp.txt -o manifest
  tokenctl token create --type baremetal --display-name web-01 --passphrase-file pp -o install-script --wait healthy | ssh web-01 sudo sh
  tokenctl token create --type baremetal -f host.yaml --passphrase-file pp -o manifest | ssh host sudo ./install.sh
  printf '%s\n' "$PASSPHRASE" | tokenctl token create --display-name edge-01 --passphrase-stdin
  tokenctl token create -f tokens.yaml -o json
  tokenctl token create -f tokens.yaml --skip-existing -o json
  TOKEN=$(tokenctl --profile nsx1 token create -o secret)
  tokenctl --profile bamboo token create --name ci-read-only --read`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, createRun),
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Type, "type", "", "ssp: sensor or baremetal (default sensor, or the profile's token_type); nsx: sensor")
	fl.StringVarP(&opts.File, "file", "f", "", "manifest file of one or more YAML/JSON documents; - reads stdin")
	fl.IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "how many documents of a manifest are created at once")
	fl.BoolVar(&opts.SkipExisting, "skip-existing", false, "ssp, agent: do not create a token whose display_name (agent: name) already has a usable one; report it as exists")
	fl.StringVar(&opts.DisplayName, "display-name", "", "ssp: display_name of the token")
	fl.StringVar(&opts.Description, "description", "", "ssp: description of the token")
	fl.Int64Var(&opts.AllowedInstances, "allowed-instances", 0, "ssp: allowed_instance_count, how many appliances may register with the token")
	fl.Int64Var(&opts.ExpiryMinutes, "expiry-minutes", 0, "ssp baremetal: expiry_time_since_creation_mins, the token's life in minutes (vendor default 30)")
	fl.BoolVar(&opts.Passphrase.Stdin, "passphrase-stdin", false, "ssp: read the passphrase from the first line of stdin")
	fl.StringVar(&opts.Passphrase.File, "passphrase-file", "", "ssp: read the passphrase from this file, or write the generated one to it")
	fl.BoolVar(&opts.Passphrase.Generate, "generate-passphrase", false, "ssp: generate a passphrase that meets the vendor's rules")
	opts.Script.Register(cmd)
	fl.StringVar(&opts.Wait, "wait", "", "ssp: after printing, close stdout and wait until the token is used, or its hosts registered or healthy")
	fl.IntVar(&opts.Count, "count", 1, "ssp, with --wait: how many hosts must reach the condition")
	opts.WaitFlags.Register(cmd)
	fl.StringVar(&opts.Name, "name", "", "agent: name of the token (informational)")
	fl.BoolVar(&opts.Read, "read", false, "agent: the token may read agent state")
	fl.BoolVar(&opts.Change, "change", false, "agent: the token may change agent state (enable/disable; needs --read to be useful)")
	cmdutil.CompleteFlag(cmd, "type", cmdutil.FixedValues(tokenTypes...))
	cmdutil.CompleteFlag(cmd, "wait", cmdutil.FixedValues(wait.Conditions...))
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
	case config.NSX:
		return createNSX(opts)
	case config.Agent:
		return createAgent(opts)
	default:
		return cmdutil.Unsupported(opts.Cmd, p.Platform, config.SSP, config.NSX, config.Agent)
	}
}
