package baremetal

import (
	"encoding/json"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// DetailsOptions are `baremetal details`'s inputs.
type DetailsOptions struct {
	cmdutil.Verb

	cmdutil.ListFlags
	SiteIDs           []string
	DisplayNames      []string
	OSDetails         []string
	AgentVersions     []string
	AgentHealth       []string
	LastOperationInfo []string
}

// NewCmdDetails builds `baremetal details` (QueryBaremetalServerDetails).
func NewCmdDetails(f *cmdutil.Factory, runF func(*DetailsOptions) error) *cobra.Command {
	opts := &DetailsOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "details",
		Short: "List baremetal servers with lcm status, health and versions, filtered (ssp)",
		Long: `List baremetal servers with their statuses (QueryBaremetalServerDetails): lcm status,
operation and error, connectivity, agent health, OS details, agent version, last operation.
Every filter of the vendor's query is a flag; each takes several values (repeat the flag or
separate with commas), which combine with OR; different filters combine with AND.

The query is a POST that changes nothing; it is retried like any read. JSON output is an
array of the vendor's BaremetalServerStatus objects, streamed; -o id prints server ids. The
table adds each server's registration token, which the vendor keeps in the server list
(read once, every page, for a table).`,
		Example: `  tokenctl baremetal details --agent-health DISCONNECTED,DEGRADED
  tokenctl baremetal details --last-operation-info UPGRADE_FAILED -o id
  tokenctl baremetal details --display-name web-01 --display-name web-02 -o json`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, detailsRun),
	}
	opts.ListFlags.Register(cmd)
	fl := cmd.Flags()
	fl.StringSliceVar(&opts.SiteIDs, "site-ids", nil, "site_ids: only servers of these sites")
	fl.StringSliceVar(&opts.DisplayNames, "display-name", nil, "display_name: only servers with these names")
	fl.StringSliceVar(&opts.OSDetails, "os-details", nil, "os_details: only servers with these OS names and versions")
	fl.StringSliceVar(&opts.AgentVersions, "agent-version", nil, "agent_version: only servers running these agent versions")
	fl.StringSliceVar(&opts.AgentHealth, "agent-health", nil, "agent_health: "+strings.Join(ssp.AgentHealthValues, ", "))
	fl.StringSliceVar(&opts.LastOperationInfo, "last-operation-info", nil, "last_operation_info: "+strings.Join(ssp.LastOperationValues, ", "))
	cmdutil.CompleteFlag(cmd, "agent-health", cmdutil.FixedValues(ssp.AgentHealthValues...))
	cmdutil.CompleteSortBy(cmd, nil, serverKind())
	cmdutil.CompleteFlag(cmd, "last-operation-info", cmdutil.FixedValues(ssp.LastOperationValues...))
	return cmd
}

// flagOfField names the flag of each request field in problems.
var flagOfField = map[string]string{
	"site_ids": "--site-ids", "display_name": "--display-name", "os_details": "--os-details",
	"agent_version": "--agent-version", "agent_health": "--agent-health", "last_operation_info": "--last-operation-info",
}

func detailsRun(opts *DetailsOptions) error {
	f := opts.Factory
	kind := serverKind()
	upper := func(vs []string) []string {
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = strings.ToUpper(strings.TrimSpace(v))
		}
		return out
	}
	req := ssp.ServerDetailsRequest{
		SiteIDs: opts.SiteIDs, DisplayName: opts.DisplayNames, OSDetails: opts.OSDetails, AgentVersion: opts.AgentVersions,
		AgentHealth: upper(opts.AgentHealth), LastOperationInfo: upper(opts.LastOperationInfo),
	}
	var problems []exit.Problem
	for _, p := range req.Validate() {
		p.Field = flagOfField[p.Field] + " (" + p.Field + ")"
		problems = append(problems, p)
	}
	ctx, sc, o, err := opts.StartSSP(f, opts.Cmd, kind, nil, problems)
	if err != nil {
		return err
	}
	// After StartSSP: a column's --sort-by is tokenctl's to sort.
	req.SortBy, req.SortAscending = opts.ServerSortBy(), opts.Ascending(opts.Cmd)
	var tokens map[string]json.RawMessage
	if o.IsTable() {
		if tokens, err = tokenFields(ctx, sc); err != nil {
			return err
		}
	}
	return opts.ListFlags.Stream(f, o, kind, func(p client.Pager, add func(json.RawMessage) error) (client.PageResult, error) {
		return sc.QueryBaremetalServerDetails(ctx, req, p, func(raw json.RawMessage) error {
			if tokens == nil {
				return add(raw)
			}
			joined, err := join(raw, tokens)
			if err != nil {
				return err
			}
			return add(joined)
		})
	})
}
