package baremetal

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// GetOptions are `baremetal get`'s inputs.
type GetOptions struct {
	Factory *cmdutil.Factory
	Cmd     *cobra.Command

	ID string
}

// NewCmdGet builds `baremetal get ID` (GetBaremetalServer).
func NewCmdGet(f *cmdutil.Factory, runF func(*GetOptions) error) *cobra.Command {
	opts := &GetOptions{Factory: f}
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
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Cmd = cmd
			id, err := f.OneID(cmd, args)
			if err != nil {
				return err
			}
			opts.ID = id
			if runF != nil {
				return runF(opts)
			}
			return getRun(opts)
		},
	}
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteBaremetalServerIDs)
	return cmd
}

func getRun(opts *GetOptions) error {
	f := opts.Factory
	return showServer(f, opts.Cmd, opts.ID, serverKind(), func(ctx context.Context, sc *ssp.Client, id string, table bool) (json.RawMessage, error) {
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
	})
}

// showServer is the run of the one-server reads: check the argument and -o
// before anything is sent, connect, resolve a name, fetch, print.
func showServer(f *cmdutil.Factory, cmd *cobra.Command, arg string, kind output.Kind,
	fetch func(ctx context.Context, sc *ssp.Client, id string, table bool) (json.RawMessage, error)) error {
	if err := f.SSPOnly(cmd); err != nil {
		return err
	}
	o, err := f.OutputFor(kind, output.One)
	if err != nil {
		return err
	}
	if err := exit.Problems(checkServerArgs([]string{arg})); err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(cmd)
	if err != nil {
		return err
	}
	ids, err := resolveServers(ctx, f, sc, []string{arg})
	if err != nil {
		return err
	}
	raw, err := fetch(ctx, sc, ids[0], o.IsTable())
	if err != nil {
		return err
	}
	return f.Printer(o).Object(raw, kind)
}
