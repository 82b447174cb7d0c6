package sensor

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// DeleteOptions are `sensor delete`'s inputs.
type DeleteOptions struct {
	cmdutil.Verb

	IDs         []string
	Concurrency int
}

// vmNotice says what the vendor's DeleteSensor does not do.
const vmNotice = "The appliance VM itself is not removed: the SSP only de-registers the sensor; delete the VM from your infrastructure (e.g. vCenter) separately."

// NewCmdDelete builds `sensor delete ID...` (DELETE /sensors/appliances/{id}).
func NewCmdDelete(f *cmdutil.Factory, runF func(*DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:     "delete ID... --yes",
		Aliases: []string{"rm"},
		Short:   "De-register sensors (ssp; the appliance VM must be removed separately)",
		Long: `De-register sensors from the SSP (DeleteSensor). The vendor's call does not remove the
appliance VM: delete it from your infrastructure separately.

Each ID is a sensor id or a display_name (all names are looked up with one scan of the
sensor list; a name with several sensors is refused, exit 2, listing them).

Asks for confirmation on a terminal; elsewhere --yes is required. A sensor that is already
gone counts as deleted (the vendor's delete is idempotent). "-" reads ids from stdin; an
empty stdin de-registers nothing and exits 0.`,
		Example: `  tokenctl sensor delete 8c147e21-7410-4f77-a3a6-e7aa6034992f --yes
  tokenctl sensor details --registration-status failed -o id | tokenctl sensor delete - --yes`,
		Args: cmdutil.MinArgs(1, "ID"),
		RunE: cmdutil.RunIDList(opts, &opts.IDs, runF, deleteRun),
	}
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "how many deletes run at once")
	cmd.ValidArgsFunction = f.CompleteSensorIDs
	return cmd
}

func deleteRun(opts *DeleteOptions) error {
	f := opts.Factory
	if err := f.SSPOnly(opts.Cmd); err != nil {
		return err
	}
	o, err := f.OutputFor(cmdutil.DeletedKind("sensor"), output.Many)
	if err != nil {
		return err
	}
	if err := exit.Problems(cmdutil.ConcurrencyProblems(opts.Concurrency)); err != nil {
		return err
	}
	var sc *ssp.Client
	ns, err := f.ConfirmTargets(opts.Cmd, cmdutil.Destructive{
		Verb: "De-register", Noun: "sensor",
		Consequence: "The appliance VMs stay and must be removed separately.", Done: "de-registered",
		Name: func(ctx context.Context, id string) string {
			raw, err := sc.GetSensor(ctx, id)
			if err != nil {
				return ""
			}
			var s struct {
				DisplayName string `json:"display_name"`
			}
			json.Unmarshal(raw, &s)
			return s.DisplayName
		},
	}, opts.IDs, func() (_ cmdutil.NameLookup, err error) {
		_, sc, err = f.SSPClient(opts.Cmd)
		return sensorLookup(sc), err
	})
	if err != nil || len(ns) == 0 {
		return err
	}
	ctx := cmdutil.Context(opts.Cmd)
	err = f.DeleteEach(ctx, o, cmdutil.IDsOf(ns), opts.Concurrency, "sensor", func(id string) string { return id },
		func(ctx context.Context, id string) (cmdutil.Deleted, error) {
			gone, err := sc.DeleteSensor(ctx, id)
			return cmdutil.Deleted{ID: id, Gone: gone}, err
		})
	if !f.DryRun() && (exit.CodeOf(err) == exit.OK || exit.CodeOf(err) == exit.Partial) {
		f.Notice("%s", vmNotice)
	}
	return err
}
