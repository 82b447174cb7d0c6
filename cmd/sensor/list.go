package sensor

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// ListOptions are `sensor list`'s inputs.
type ListOptions struct {
	cmdutil.Verb

	cmdutil.ListFlags
	DisplayName string
}

// NewCmdList builds `sensor list` (GET /sensors/appliances).
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the registered sensors (ssp)",
		Long: `List the sensors registered with the SSP (ListSensors): name, id, the token each
registered with, and when. For health, software version and features, use
"tokenctl sensor details", which lists the same sensors with everything the SSP knows.

JSON output is an array of the vendor's Sensor objects ([] when empty), streamed. Every
sensor, page by page with flat memory (a script never acts on part of the fleet by
accident); --limit N stops after N sensors without fetching further pages. --all is
accepted and changes nothing. A server that sends the same full page again ends the list
with exit 1 rather than a loop.`,
		Example: `  tokenctl sensor list
  tokenctl sensor list -o id > sensor-ids.txt
  tokenctl sensor list --display-name ams-dc1-ndr-00003 -o json`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, listRun),
	}
	opts.ListFlags.Register(cmd)
	cmd.Flags().StringVar(&opts.DisplayName, "display-name", "", "only sensors with this display_name")
	cmdutil.CompleteSortBy(cmd, ssp.SensorListSortFields, sensorKind())
	return cmd
}

func listRun(opts *ListOptions) error {
	// The server sorts by the Sensor's top-level fields (the vendor's
	// sort_by rule); a column's name (name, registered, ...) tokenctl sorts;
	// anything else is refused before a request.
	kind := sensorKind()
	ctx, sc, o, err := opts.StartSSP(opts.Factory, opts.Cmd, kind, ssp.SensorListSortFields, nil)
	if err != nil {
		return err
	}
	q := opts.SSPQuery(opts.Cmd, opts.DisplayName)
	return opts.Stream(opts.Factory, o, kind, func(p client.Pager, add func(json.RawMessage) error) (client.PageResult, error) {
		return sc.ListSensors(ctx, q, p, add)
	})
}
