package token

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// ListOptions are `token list`'s inputs.
type ListOptions struct {
	cmdutil.Verb

	Type string
	cmdutil.ListFlags
	DisplayName string
	Status      string
}

var listFlags = map[string][]string{
	"limit":        {config.SSP},
	"page-size":    {config.SSP},
	"sort-by":      {config.SSP, config.Agent},
	"asc":          {config.SSP, config.Agent},
	"display-name": {config.SSP},
	"status":       {config.SSP},
	"type":         {config.SSP},
}

// NewCmdList builds `token list`.
func NewCmdList(f *cmdutil.Factory, runF func(*ListOptions) error) *cobra.Command {
	opts := &ListOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List tokens (ssp, agent)",
		Long: `List tokens. JSON output is an array of the vendor's items ([] when empty), streamed.

ssp: every token, page by page (--limit N stops after N tokens; --all is accepted and
changes nothing). --type baremetal lists baremetal tokens (their status and manifest
are in "token status --type baremetal"). NSX has no list call: a token can only be
checked or revoked by value.

agent: the whole token list in one call (the API does not page), uuids included; -o id
prints one uuid per line. The API does not sort either: --sort-by name (or uuid, read,
change) is done by tokenctl.`,
		Example: `  tokenctl token list -o json
  tokenctl token list --status AVAILABLE --sort-by display_name --asc
  tokenctl token list --jq '.[] | select(.usage_count > 0) | .id'`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, listRun),
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Type, "type", "", "ssp: sensor or baremetal (default sensor, or the profile's token_type)")
	opts.ListFlags.Register(cmd)
	fl.StringVar(&opts.DisplayName, "display-name", "", "ssp: only tokens with this display_name")
	fl.StringVar(&opts.Status, "status", "", "ssp sensor tokens: only tokens with this token_status (AVAILABLE, EXPIRED, USED)")
	cmdutil.CompleteFlag(cmd, "type", cmdutil.FixedValues(tokenTypes...))
	cmdutil.CompleteFlag(cmd, "status", cmdutil.FixedValues(ssp.StatusAvailable, ssp.StatusExpired, ssp.StatusUsed))
	cmdutil.CompleteSortBy(cmd, sensorTokenSortFields, sensorTokenKind(), baremetalTokenKind(nil), agentTokenKind())
	return cmd
}

func listRun(opts *ListOptions) error {
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	if p.Platform == config.NSX {
		return exit.Usagef("NSX has no call that lists registration tokens: a token can only be checked (`token get TOKEN`) or revoked (`token delete TOKEN`) by its value")
	}
	if err := cmdutil.OnlyFor(opts.Cmd, p.Platform, listFlags); err != nil {
		return err
	}
	switch p.Platform {
	case config.SSP:
		return listSSP(opts, p)
	case config.Agent:
		return listAgent(opts)
	default:
		return cmdutil.Unsupported(opts.Cmd, p.Platform, config.SSP, config.Agent)
	}
}

// sensorStatusProblems checks the --status of a sensor token listing
// (token list, token status without ID).
func sensorStatusProblems(status string) []exit.Problem {
	if status != "" {
		if pr := cmdutil.EnumFlag("status", status, ssp.StatusAvailable, ssp.StatusExpired, ssp.StatusUsed); pr != nil {
			return []exit.Problem{*pr}
		}
	}
	return nil
}

// sensorTokenSortFields are the fields the vendor documents as sortable.
var sensorTokenSortFields = []string{"display_name", "remaining_instance_count", "usage_count", "status"}

func listSSP(opts *ListOptions, p *config.Resolved) error {
	f := opts.Factory
	typ, _, err := sspType(opts.Type, p)
	if err != nil {
		return err
	}
	kind := sspKind(typ)
	sortable, problems := sensorTokenSortFields, sensorStatusProblems(opts.Status)
	if typ == ssp.Baremetal {
		// The vendor documents no sortable fields for the baremetal list, and
		// the list has no status filter (the statuses call has).
		sortable, problems = nil, nil
		if cmdutil.Changed(opts.Cmd, "status") {
			problems = append(problems, exit.Problem{Field: "--status", Rule: "the baremetal token list has no status filter; use `tokenctl token status --type baremetal --status AVAILABLE|EXPIRED`"})
		}
		// The table's columns joined in from the statuses list (STATUS,
		// REMAINING, EXPIRES) have no sort key: neither the server nor
		// tokenctl can sort this list by them.
		for _, c := range baremetalTokenKind(map[string]baremetalState{}).Columns {
			if opts.SortBy != "" && c.SortKey == "" && strings.EqualFold(c.Header, opts.SortBy) {
				problems = append(problems, exit.Problem{Field: "--sort-by", Rule: fmt.Sprintf("%q: the baremetal token list cannot be sorted by a column joined from the statuses list; use `tokenctl token status --type baremetal --sort-by ...`", opts.SortBy)})
			}
		}
	}
	ctx, sc, o, err := opts.StartSSP(f, opts.Cmd, kind, sortable, problems)
	if err != nil {
		return err
	}
	q := opts.SSPQuery(opts.Cmd, opts.DisplayName)
	if typ == ssp.Baremetal && o.IsTable() {
		states, err := baremetalStates(ctx, sc, opts.DisplayName)
		if err != nil {
			return err
		}
		kind = baremetalTokenKind(states)
	}
	return opts.ListFlags.Stream(f, o, kind, func(p client.Pager, add func(json.RawMessage) error) (client.PageResult, error) {
		if typ == ssp.Baremetal {
			return sc.ListBaremetalTokens(ctx, q, p, add)
		}
		return sc.ListSensorTokens(ctx, q, opts.Status, p, add)
	})
}

// baremetalStates reads the statuses list (every page; with the same
// display_name filter) into a map by token id, for the STATUS, REMAINING
// and EXPIRES columns of the baremetal token table: one more paged read.
// The statuses list cannot be joined page by page (it has no id filter,
// and nothing says it is in the token list's order), so it is read first;
// the map holds about 100 bytes per token (tokens, not sensors), while the
// token list itself still streams.
func baremetalStates(ctx context.Context, sc *ssp.Client, displayName string) (map[string]baremetalState, error) {
	states := map[string]baremetalState{}
	_, err := sc.ListBaremetalTokenStatuses(ctx, ssp.ListQuery{DisplayName: displayName}, "", client.Pager{}, func(raw json.RawMessage) error {
		var st struct {
			ID string `json:"id"`
			baremetalState
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			return fmt.Errorf("list baremetal registration token statuses: unexpected response (not the documented JSON): %w", err)
		}
		states[st.ID] = st.baremetalState
		return nil
	})
	return states, err
}
