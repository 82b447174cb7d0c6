package baremetal

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// ListOptions are `baremetal list`'s inputs.
type ListOptions struct {
	cmdutil.Verb

	cmdutil.ListFlags
	DisplayName string
}

// NewCmdList builds `baremetal list` (GetBaremetalServerList).
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List baremetal servers (ssp)",
		Long: `List the baremetal servers registered with the SSP (GetBaremetalServerList), streamed
page by page. JSON output is an array of the vendor's BaremetalServer objects (state, agent
version, OS, registration_token_id); -o id prints server ids.

The table adds each server's lcm status, connectivity and agent health, which the vendor
keeps in a separate view: for a table tokenctl also reads the servers' statuses
(QueryBaremetalServerDetails, every page) before listing. 'baremetal details' filters on
health, versions and more.`,
		Example: `  tokenctl baremetal list
  tokenctl baremetal list --display-name web-01 -o json
  tokenctl baremetal list --all -o id`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, listRun),
	}
	opts.ListFlags.Register(cmd)
	cmd.Flags().StringVar(&opts.DisplayName, "display-name", "", "only servers with this display_name")
	cmdutil.CompleteSortBy(cmd, nil, serverKind())
	return cmd
}

func listRun(opts *ListOptions) error {
	f := opts.Factory
	kind := serverKind()
	ctx, sc, o, err := opts.StartSSP(f, opts.Cmd, kind, nil, nil)
	if err != nil {
		return err
	}
	var statuses map[string]json.RawMessage
	if o.IsTable() {
		if statuses, err = statusFields(ctx, sc); err != nil {
			return err
		}
	}
	q := opts.SSPQuery(opts.Cmd, opts.DisplayName)
	return opts.ListFlags.Stream(f, o, kind, func(p client.Pager, add func(json.RawMessage) error) (client.PageResult, error) {
		return sc.ListBaremetalServers(ctx, q, p, func(raw json.RawMessage) error {
			if statuses == nil {
				return add(raw)
			}
			joined, err := join(raw, statuses)
			if err != nil {
				return err
			}
			return add(joined)
		})
	})
}

// statusFields reads every server's lcm status, connectivity and agent
// health (one status-detail query, every page), keyed by server id.
func statusFields(ctx context.Context, sc *ssp.Client) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	_, err := sc.QueryBaremetalServerDetails(ctx, ssp.ServerDetailsRequest{}, client.Pager{}, func(raw json.RawMessage) error {
		var s struct {
			ID           string          `json:"id"`
			LCM          string          `json:"lcm_status,omitempty"`
			Connectivity string          `json:"connectivity_status,omitempty"`
			Health       json.RawMessage `json:"agent_health,omitempty"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		var health struct {
			Overall string `json:"overall_agent_health,omitempty"`
		}
		_ = json.Unmarshal(s.Health, &health)
		out[s.ID] = cmdutil.RawOf(map[string]any{"lcm_status": s.LCM, "connectivity_status": s.Connectivity, "agent_health": health})
		return nil
	})
	return out, err
}

// tokenFields reads every server's registration_token_id (one list scan,
// every page), keyed by server id.
func tokenFields(ctx context.Context, sc *ssp.Client) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	_, err := sc.ListBaremetalServers(ctx, ssp.ListQuery{}, client.Pager{}, func(raw json.RawMessage) error {
		var s ssp.Server
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		out[s.ID] = cmdutil.RawOf(map[string]string{"registration_token_id": s.RegistrationTokenID})
		return nil
	})
	return out, err
}

// join adds the fields of extra[id] that raw lacks (a table row only; JSON
// output stays the vendor's object).
func join(raw json.RawMessage, extra map[string]json.RawMessage) (json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	var id string
	_ = json.Unmarshal(obj["id"], &id)
	var add map[string]json.RawMessage
	if e, ok := extra[id]; ok {
		_ = json.Unmarshal(e, &add)
	}
	for k, v := range add {
		if _, have := obj[k]; !have {
			obj[k] = v
		}
	}
	return cmdutil.RawOf(obj), nil
}
