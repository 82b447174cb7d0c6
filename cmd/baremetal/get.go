package baremetal

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// GetOptions are `baremetal get`'s inputs.
type GetOptions = cmdutil.IDOptions

// NewCmdGet builds `baremetal get ID` (GetBaremetalServer).
func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "get ID|NAME",
		Short: "Show one baremetal server (ssp)",
		Long: `Show one baremetal server (GetBaremetalServer): name, state, OS, CPU cores, agent version
and the registration token it registered with. JSON output is the vendor's BaremetalServer;
the table adds its lcm status, connectivity and health from its status. "-" as ID reads it
from stdin; a display_name is looked up.`,
		Example: `  tokenctl baremetal get 0b7e5a53-4d0f-4c8e-9d3a-6f1f2a7c9e11 -o json
  tokenctl baremetal get web-01`,
		Args: cmdutil.ExactArgs("ID"),
		RunE: cmdutil.RunOneID(opts, &opts.ID, runF, showServer(serverKind(), getServer)),
	}
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteBaremetalServerIDs)
	return cmd
}

// getServer reads a BaremetalServer; for a table, with its lcm status,
// connectivity and health from its status.
func getServer(ctx context.Context, sc *ssp.Client, id string, table bool) (json.RawMessage, error) {
	raw, err := sc.GetBaremetalServer(ctx, id)
	if err != nil || !table {
		return raw, err
	}
	st, err := sc.GetBaremetalServerStatus(ctx, id)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(st, &fields); err != nil {
		return nil, err
	}
	return join(raw, map[string]json.RawMessage{id: cmdutil.RawOf(map[string]json.RawMessage{
		"lcm_status": fields["lcm_status"], "connectivity_status": fields["connectivity_status"], "agent_health": fields["agent_health"]})})
}

// showServer is the run of the one-server reads (get, status): the
// argument is checked before anything is sent, then it is an id or a
// display name.
func showServer(kind output.Kind, fetch cmdutil.SSPFetch) func(*cmdutil.IDOptions) error {
	return func(opts *cmdutil.IDOptions) error {
		return opts.Factory.ShowSSPByID(opts.Cmd, kind, opts.ID, checkServerArgs([]string{opts.ID}), serverLookup, fetch)
	}
}
