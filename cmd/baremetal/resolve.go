package baremetal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// Names as IDs (DESIGN.md, Output): an argument with the shape of an SSP id
// (a UUID) is an id; anything else is a display_name, looked up with one
// list read, by the resolver every command shares (cmdutil.ResolveIDs).

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

// serverLookup resolves server arguments with the shared resolver
// (cmdutil.ResolveIDs): UUIDs pass as they are; names are looked up with
// one read of GET /baremetal/servers (filtered on the name when there is
// one name, else every page). A name with no server is exit 4; with
// several, the only one not TERMINATING or TERMINATED (the pool rule of
// DESIGN.md, for servers), else exit 2 listing them.
func serverLookup(sc *ssp.Client) cmdutil.NameLookup {
	return cmdutil.NameLookup{
		Noun: "baremetal server",
		IsID: ssp.IsUUID,
		// A host registered again after an uninstall has two servers of
		// its name; the one not (being) uninstalled is the host's.
		Usable:    func(n cmdutil.Named) bool { return n.Status != "TERMINATING" && n.Status != "TERMINATED" },
		Usability: "live",
		Scan: func(ctx context.Context, names []string, add func(cmdutil.Named)) error {
			q := ssp.ListQuery{}
			if len(names) == 1 {
				q.DisplayName = names[0]
			}
			_, err := sc.ListBaremetalServers(ctx, q, client.Pager{}, func(raw json.RawMessage) error {
				var s ssp.Server
				if err := json.Unmarshal(raw, &s); err != nil {
					return err
				}
				add(cmdutil.Named{ID: s.ID, Name: s.DisplayName, Status: s.State})
				return nil
			})
			return err
		},
	}
}

// resolveServers turns each argument into a server id (see serverLookup).
func resolveServers(ctx context.Context, f *cmdutil.Factory, sc *ssp.Client, args []string) ([]string, error) {
	ns, err := f.ResolveIDs(ctx, args, serverLookup(sc))
	if err != nil {
		return nil, err
	}
	return cmdutil.IDsOf(ns), nil
}
