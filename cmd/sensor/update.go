package sensor

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// UpdateOptions are `sensor update`'s inputs.
type UpdateOptions struct {
	cmdutil.Verb

	ID          string
	DisplayName string
	Description string
	Revision    int64
}

// NewCmdUpdate builds `sensor update ID` (GET, then PUT
// /sensors/appliances/{id} with the _revision read).
func NewCmdUpdate(f *cmdutil.Factory, runF func(*UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Rename a sensor or change its description (ssp)",
		Long: `Change a sensor's display_name and/or description, the only fields the vendor lets
change (UpdateSensor). tokenctl reads the sensor, changes what the flags say and writes it
back with the _revision it read; if someone changed the sensor in between, the SSP refuses
(412) and tokenctl exits 5: run the command again.

ID is the sensor's id, or its display_name, looked up with one scan of the sensor list
(several sensors of that name: exit 2, listing them; none: exit 4).

--revision N sends N instead of the revision just read: the update then succeeds only if
the sensor is still at revision N (for example, the _revision of an earlier
"sensor get -o json").`,
		Example: `  tokenctl sensor update 8c147e21-7410-4f77-a3a6-e7aa6034992f --display-name edge-ams-01
  tokenctl sensor update 8c147e21-7410-4f77-a3a6-e7aa6034992f --description 'rack 12' --revision 3`,
		Args: cmdutil.ExactArgs("ID"),
		RunE: cmdutil.RunOneID(opts, &opts.ID, runF, updateRun),
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.DisplayName, "display-name", "", "new display_name (1 to 255 characters)")
	fl.StringVar(&opts.Description, "description", "", "new description (up to 1024 characters; '' clears it)")
	fl.Int64Var(&opts.Revision, "revision", 0, "update only if the sensor is still at this _revision")
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteSensorIDs)
	return cmd
}

func updateRun(opts *UpdateOptions) error {
	f := opts.Factory
	if err := f.SSPOnly(opts.Cmd); err != nil {
		return err
	}
	kind := sensorKind()
	o, err := f.OutputFor(kind, output.One)
	if err != nil {
		return err
	}
	var ch ssp.SensorChange
	if cmdutil.Changed(opts.Cmd, "display-name") {
		ch.DisplayName = &opts.DisplayName
	}
	if cmdutil.Changed(opts.Cmd, "description") {
		ch.Description = &opts.Description
	}
	if cmdutil.Changed(opts.Cmd, "revision") {
		ch.Revision = &opts.Revision
	}
	if ch.DisplayName == nil && ch.Description == nil {
		return exit.Usagef("nothing to change: give --display-name and/or --description")
	}
	problems := ch.Validate()
	for i := range problems {
		problems[i].Field = "--" + map[string]string{"display_name": "display-name", "description": "description"}[problems[i].Field]
	}
	if ch.Revision != nil && *ch.Revision < 0 {
		problems = append(problems, exit.Problem{Field: "--revision", Rule: "must not be negative"})
	}
	if err := exit.Problems(problems); err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	n, err := f.ResolveID(ctx, opts.ID, sensorLookup(sc))
	if err != nil {
		return err
	}
	raw, err := sc.UpdateSensor(ctx, n.ID, ch)
	if err != nil {
		return explainConflict(err, n.ID)
	}
	f.Notice("Updated sensor %s.", n.ID)
	return f.Printer(o).Object(raw, kind)
}

// explainConflict turns the vendor's 412 (stale _revision) and 428 (missing
// _revision) into advice; the exit code stays 5 and the vendor's own error
// stays in the message.
func explainConflict(err error, id string) error {
	var ae *client.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.Status {
	case http.StatusPreconditionFailed:
		return exit.WithCode(exit.Conflict, fmt.Errorf("sensor %s was changed by someone else since it was read; run again to apply your change to the current version\n%w", id, err))
	case http.StatusPreconditionRequired:
		return exit.WithCode(exit.Conflict, fmt.Errorf("the SSP requires the sensor's _revision and did not accept the one sent\n%w", err))
	}
	return err
}
