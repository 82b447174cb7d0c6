package token

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// StatusOptions are `token status`'s inputs.
type StatusOptions struct {
	cmdutil.Verb

	ID          string
	Type        string
	Status      string
	DisplayName string
	cmdutil.ListFlags

	// -o install-script: the passphrase to embed, or where the host has it.
	Passphrase PassphraseFlags
	Script     ScriptFlags
}

// NewCmdStatus builds `token status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "status [ID]",
		Short: "Show a token's status, or the status of all tokens (ssp)",
		Long: `Show whether a registration token can still register appliances: its status
(AVAILABLE, EXPIRED, USED), usage, what remains available and when it expires ("in 12m" in
tables, local time with -o wide, epoch milliseconds in JSON). Without an ID, the status of
every token of --type.

ssp baremetal tokens: with an ID, the vendor's status call (status, remaining instances,
expiration and registration_manifest); without one, the statuses call, streamed
(--status AVAILABLE or EXPIRED). Sensor tokens: status, usage_count, number_available and
expiration from the token itself; without an ID, the token list (--status AVAILABLE,
EXPIRED or USED). An ID without --type is looked up as a sensor token, then as a
baremetal token. A display_name instead of an ID is looked up with one list scan: a pool
name resolves to its only AVAILABLE token; several candidates are refused (exit 2, listing
them), none is exit 4.

-o manifest prints the registration manifest of a live token and exits 5, printing
nothing, when the token is EXPIRED or USED.

-o install-script (baremetal) prints a POSIX sh script for the host instead: it writes the
manifest to a 0600 temporary file (removed on exit and on signals), runs the vendor's
'vdefend-cli install bms installer' unless the install path already holds it, then
'vdefend-cli install bms ssp --mf=FILE --pp=...', and writes a marker into the install path
(--install-path, default /opt/vmware/vdefend); with the marker there it exits 0 without
installing again ('sh -s -- --force' reinstalls; the marker is tokenctl's own guard, as the
vendor documents no status command). The SSP never returns a passphrase, so the script
carries one only when given here with --passphrase-file or --passphrase-stdin; otherwise
--host-passphrase-file PATH makes it read the passphrase on the host. vdefend-cli takes the
passphrase on its command line, where 'ps' on the host shows it while it runs.`,
		Example: `  tokenctl token status 366a0c3f-6a06-4c46-8de1-476ec7858c64
  tokenctl token status 366a0c3f-6a06-4c46-8de1-476ec7858c64 -o manifest > host.manifest
  tokenctl token status edge-pool -o manifest > host.manifest
  tokenctl token status 366a0c3f-6a06-4c46-8de1-476ec7858c64 -o install-script --passphrase-file pp | ssh host sudo sh
  tokenctl token status 366a0c3f-6a06-4c46-8de1-476ec7858c64 -o install-script --host-passphrase-file /etc/vdefend/pp | ssh host sudo sh
  tokenctl token status --status AVAILABLE -o json
  tokenctl token status --type baremetal --status EXPIRED -o id`,
		Args: cmdutil.MaxArgs(1, "ID"),
		RunE: cmdutil.RunArgs(opts, func(args []string) (err error) {
			if len(args) == 1 {
				opts.ID, err = f.OneID(opts.Cmd, args)
			}
			return err
		}, runF, statusRun),
	}
	cmd.Flags().StringVar(&opts.Type, "type", "", "sensor or baremetal (default: look the id up; without ID: sensor)")
	cmd.Flags().StringVar(&opts.Status, "status", "", "without ID: only tokens with this status (sensor: AVAILABLE, EXPIRED, USED; baremetal: AVAILABLE, EXPIRED)")
	cmd.Flags().StringVar(&opts.DisplayName, "display-name", "", "without ID: only tokens with this display_name")
	opts.ListFlags.Register(cmd)
	cmd.Flags().StringVar(&opts.Passphrase.File, "passphrase-file", "", "-o install-script: embed the passphrase read from this file")
	cmd.Flags().BoolVar(&opts.Passphrase.Stdin, "passphrase-stdin", false, "-o install-script: embed the passphrase read from the first line of stdin")
	opts.Script.Register(cmd)
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteTokenIDs)
	cmdutil.CompleteFlag(cmd, "type", cmdutil.FixedValues(tokenTypes...))
	cmdutil.CompleteFlag(cmd, "status", completeStatus)
	cmdutil.CompleteSortBy(cmd, sensorTokenSortFields, sensorStatusKind(), baremetalStatusKind())
	return cmd
}

func statusRun(opts *StatusOptions) error {
	f := opts.Factory
	p, err := f.ProfileOn(opts.Cmd, config.SSP)
	if err != nil {
		return err
	}
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	typ, explicit, err := sspType(opts.Type, p)
	if err != nil {
		return err
	}
	if opts.ID == "" {
		return statusAll(opts, o, typ)
	}
	// A sensor token's status has no install script; with the type
	// unknown, the id may be a baremetal token's.
	checkKind := baremetalStatusKind()
	if explicit && typ == ssp.Sensor {
		checkKind = sensorStatusKind()
	}
	if err := o.Check(checkKind, output.One); err != nil && !(o.Format == output.InstallScript && explicit) {
		return err
	}
	for _, flag := range []string{"status", "display-name", "all", "limit", "page-size", "sort-by", "asc"} {
		if cmdutil.Changed(opts.Cmd, flag) {
			return exit.Usagef("--%s applies to the status of all tokens; it does not apply with an ID", flag)
		}
	}
	passphrase, err := opts.scriptPassphrase(o, typ, explicit)
	if err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	sc.HTTP().Redactor().AddSecret(passphrase)
	found, err := lookupSSPToken(ctx, f, sc, opts.ID, typ, explicit, statusSSPToken)
	if err != nil {
		return err
	}
	kind := sensorStatusKind()
	if found.typ == ssp.Baremetal {
		kind = baremetalStatusKind()
	}
	switch {
	case o.Format == output.Manifest:
		return printManifestOf(f, o, found.raw, kind.Noun)
	case o.Format == output.InstallScript && found.typ != ssp.Baremetal && !o.DropEnvFormat():
		return exit.Usagef("-o install-script is for baremetal tokens; %s is a sensor registration token", opts.ID)
	case o.Format == output.InstallScript:
		return printInstallScript(f, o, found.raw, passphrase, opts.Script)
	}
	if found.typ == ssp.Baremetal {
		// TokenStatusInfo is the vendor's status view already.
		return f.Printer(o).Object(found.raw, kind)
	}
	view, err := sensorStatusView(found.raw)
	if err != nil {
		return err
	}
	return f.Printer(o).Object(view, kind)
}

// scriptPassphrase checks the -o install-script flags before anything is
// sent and returns the passphrase to embed ("" when the host reads it from
// --host-passphrase-file).
func (opts *StatusOptions) scriptPassphrase(o output.Options, typ string, explicit bool) (string, error) {
	problems := opts.Script.Problems(opts.Cmd, o.Format)
	given := opts.Passphrase.File != "" || opts.Passphrase.Stdin
	switch {
	case o.Format != output.InstallScript:
		if given {
			problems = append(problems, exit.Problem{Field: "--passphrase-file/--passphrase-stdin", Rule: "apply only with -o install-script"})
		}
	case explicit && typ != ssp.Baremetal:
		problems = append(problems, exit.Problem{Field: "--output", Rule: "-o install-script is for baremetal tokens (--type baremetal)"})
	case opts.Passphrase.File != "" && opts.Passphrase.Stdin:
		problems = append(problems, exit.Problem{Field: "--passphrase-stdin", Rule: "cannot be combined with --passphrase-file"})
	case given && opts.Script.HostPassphraseFile != "":
		problems = append(problems, exit.Problem{Field: "--host-passphrase-file", Rule: "cannot be combined with --passphrase-file or --passphrase-stdin: the script either carries the passphrase or reads it on the host"})
	case !given && opts.Script.HostPassphraseFile == "":
		problems = append(problems, exit.Problem{Field: "--host-passphrase-file", Rule: "-o install-script needs the passphrase (the SSP never returns it): --passphrase-file PATH or --passphrase-stdin to embed it, or --host-passphrase-file PATH for the script to read it on the host"})
	}
	if len(problems) > 0 || !given {
		return "", exit.Problems(problems)
	}
	p, err := opts.Passphrase.Resolve(opts.Factory)
	if err != nil {
		return "", err
	}
	if rule := ssp.CheckPassphrase(p); rule != "" {
		return "", exit.Problems([]exit.Problem{{Field: "passphrase", Rule: rule + " (it cannot be this token's)"}})
	}
	return p, nil
}

// sensorStatusView keeps the status fields of a sensor token (vendor names):
// status, usage_count, number_available and expiration from the GET.
func sensorStatusView(raw json.RawMessage) (json.RawMessage, error) {
	var v struct {
		ID              string `json:"id"`
		DisplayName     string `json:"display_name,omitempty"`
		Status          string `json:"status"`
		UsageCount      *int64 `json:"usage_count,omitempty"`
		NumberAvailable *int64 `json:"number_available,omitempty"`
		Expiration      *int64 `json:"expiration,omitempty"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return output.MarshalJSON(v)
}

// printManifestOf prints the registration manifest of a live token, or
// fails with exit 5 and nothing on stdout.
func printManifestOf(f *cmdutil.Factory, o output.Options, raw json.RawMessage, noun string) error {
	var info ssp.TokenInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return err
	}
	m, err := liveManifest(&info, noun)
	if err != nil {
		return err
	}
	return f.Printer(o).Exact(m)
}

func statusAll(opts *StatusOptions, o output.Options, typ string) error {
	f := opts.Factory
	if (o.Format == output.Manifest || o.Format == output.InstallScript) && !o.DropEnvFormat() {
		return exit.Usagef("-o %s needs a token ID", o.Format)
	}
	if err := o.Check(sensorStatusKind(), output.Many); err != nil {
		return err
	}
	// Sensor tokens: the token list, viewed as statuses. Baremetal tokens:
	// GET /baremetal/registration-tokens/statuses, for which the vendor
	// documents no sortable fields; its tokens_status takes AVAILABLE or
	// EXPIRED only.
	kind, sortable, problems := sensorStatusKind(), sensorTokenSortFields, sensorStatusProblems(opts.Status)
	list := func(ctx context.Context, sc *ssp.Client, q ssp.ListQuery, p client.Pager, add func(json.RawMessage) error) (client.PageResult, error) {
		return sc.ListSensorTokens(ctx, q, opts.Status, p, func(raw json.RawMessage) error {
			view, err := sensorStatusView(raw)
			if err != nil {
				return err
			}
			return add(view)
		})
	}
	if typ == ssp.Baremetal {
		kind, sortable, problems = baremetalStatusKind(), nil, nil
		if opts.Status != "" {
			if pr := cmdutil.EnumFlag("status", opts.Status, ssp.BaremetalStatusValues...); pr != nil {
				pr.Rule += " (the vendor's statuses call filters on these two only)"
				problems = append(problems, *pr)
			}
		}
		list = func(ctx context.Context, sc *ssp.Client, q ssp.ListQuery, p client.Pager, add func(json.RawMessage) error) (client.PageResult, error) {
			return sc.ListBaremetalTokenStatuses(ctx, q, opts.Status, p, add)
		}
	}
	if err := exit.Problems(append(opts.ListFlags.Validate(opts.Cmd, sortable, kind), problems...)); err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	q := opts.SSPQuery(opts.Cmd, opts.DisplayName)
	return opts.ListFlags.Stream(f, o, kind, func(p client.Pager, add func(json.RawMessage) error) (client.PageResult, error) {
		return list(ctx, sc, q, p, add)
	})
}

// completeStatus offers the --status values of the --type given (sensor
// tokens by default).
func completeStatus(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	values := []string{ssp.StatusAvailable, ssp.StatusExpired, ssp.StatusUsed}
	if fl := cmd.Flags().Lookup("type"); fl != nil && fl.Value.String() == ssp.Baremetal {
		values = ssp.BaremetalStatusValues
	}
	return values, cobra.ShellCompDirectiveNoFileComp
}
