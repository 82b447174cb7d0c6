package baremetal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// Names as IDs (DESIGN.md, Output): an argument with the shape of an SSP id
// (a UUID) is an id; anything else is a display_name, looked up with one
// list read. This resolver is the baremetal servers' own; it is written to
// be replaced by a shared one in cmdutil when that exists.

// checkServerArgs finds the arguments that can be neither an id nor a
// display_name (Resource.display_name: 1 to 255 characters), all at once,
// before anything is sent.
func checkServerArgs(args []string) []exit.Problem {
	var ps []exit.Problem
	for _, a := range args {
		switch n := utf8.RuneCountInString(a); {
		case strings.TrimSpace(a) == "":
			ps = append(ps, exit.Problem{Field: "ID", Rule: "an empty ID was given"})
		case n > ssp.MaxDisplayName:
			ps = append(ps, exit.Problem{Field: "ID", Rule: fmt.Sprintf("%.40q... is neither an id (a UUID) nor a display name (at most %d characters; it has %d)", a, ssp.MaxDisplayName, n)})
		case strings.IndexFunc(a, unicode.IsControl) >= 0:
			ps = append(ps, exit.Problem{Field: "ID", Rule: fmt.Sprintf("%q contains control characters: it is neither an id nor a display name", a)})
		}
	}
	return ps
}

// resolveServers turns each argument into a server id. UUIDs pass as they
// are; names are looked up with one read: GET /baremetal/servers filtered
// on the name when there is one name, else one scan of every page. A name
// with no server is exit 4; with several, exit 2 naming them.
func resolveServers(ctx context.Context, sc *ssp.Client, args []string) ([]string, error) {
	names := map[string][]string{} // name -> ids of the servers so named
	var order []string
	for _, a := range args {
		if !ssp.IsUUID(a) {
			if _, ok := names[a]; !ok {
				order = append(order, a)
			}
			names[a] = nil
		}
	}
	if len(order) == 0 {
		return args, nil
	}
	q := ssp.ListQuery{}
	if len(order) == 1 {
		q.DisplayName = order[0]
	}
	_, err := sc.ListBaremetalServers(ctx, q, client.Pager{All: true}, func(raw json.RawMessage) error {
		var s ssp.Server
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		if ids, ok := names[s.DisplayName]; ok {
			names[s.DisplayName] = append(ids, s.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var missing, ambiguous []string
	for _, n := range order {
		switch ids := names[n]; len(ids) {
		case 0:
			missing = append(missing, fmt.Sprintf("%q", n))
		case 1:
		default:
			ambiguous = append(ambiguous, fmt.Sprintf("%q is the name of %d servers: %s", n, len(ids), strings.Join(ids, ", ")))
		}
	}
	if len(ambiguous) > 0 {
		return nil, exit.Usagef("ambiguous server name (use the id):\n  %s", strings.Join(ambiguous, "\n  "))
	}
	if len(missing) > 0 {
		return nil, exit.Errorf(exit.NotFound, "no baremetal server has the id or display_name %s", strings.Join(missing, ", "))
	}
	out := make([]string, len(args))
	for i, a := range args {
		if ids, ok := names[a]; ok {
			out[i] = ids[0]
		} else {
			out[i] = a
		}
	}
	return out, nil
}
