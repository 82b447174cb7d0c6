package cmdutil

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// UUIDShape is the shape of SSP token and sensor ids and agent uuids: an
// argument of this shape is an id, anything else a name. It is compiled on
// first use, not at start-up.
var UUIDShape = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
})

// Named is an object a list scan found: its id, its name (display_name,
// agent name), its status, and the raw object.
type Named struct {
	ID     string
	Name   string
	Status string
	// Type is the kind of object when a scan covers several (SSP: sensor
	// or baremetal token); "" for an argument that was an id.
	Type string
	// Raw is the object as listed; nil for an argument that was an id.
	Raw json.RawMessage
}

// NameLookup says how a verb's arguments become ids (DESIGN.md, Output:
// names as IDs).
type NameLookup struct {
	// Noun names the objects in messages ("sensor", "registration token").
	Noun string
	// IsID reports an argument with the shape of the objects' ids; nil
	// means UUIDShape.
	IsID func(string) bool
	// Scan lists the candidates once, passing each to add; names are the
	// names asked for, for a server-side filter (the match is exact
	// whatever the server returns).
	Scan func(ctx context.Context, names []string, add func(Named)) error
	// Secret: the ids are secrets (agent uuids), never printed; messages
	// show masked labels.
	Secret bool
	// NameField is the field names are matched with, for messages;
	// "display_name" when empty.
	NameField string
	// Usable is the pool rule's test: a name with several matches of
	// which exactly one is usable resolves to that one. nil: Status is
	// AVAILABLE (registration tokens). Usability names it in the notice.
	Usable    func(Named) bool
	Usability string
}

// IDsOnly is the lookup of objects that have no names: every argument is
// an id (NSX tokens, SD-WAN auth tokens).
var IDsOnly = NameLookup{IsID: func(string) bool { return true }}

// ResolveIDs turns arguments into objects: an argument with the shape of
// an id is taken as one (nothing is sent for it); every other argument is a
// name, and all names are looked up with one list scan. A name with one
// match is that object; with several, the pool rule picks the only usable
// one if exactly one is (AVAILABLE, or NameLookup.Usable); a name with no match is exit 4, one with
// several exit 2 listing them (the scan is then the only request sent). All
// problems are reported at once.
func (f *Factory) ResolveIDs(ctx context.Context, args []string, l NameLookup) ([]Named, error) {
	out := make([]Named, len(args))
	var names []string
	wanted := map[string][]Named{}
	for i, a := range args {
		if l.IDShaped(a) {
			out[i] = Named{ID: a}
			continue
		}
		if _, ok := wanted[a]; !ok {
			names = append(names, a)
			wanted[a] = nil
		}
	}
	if len(names) == 0 {
		return out, nil
	}
	err := l.Scan(ctx, names, func(n Named) {
		if ms, ok := wanted[n.Name]; ok {
			wanted[n.Name] = append(ms, n)
		}
	})
	if err != nil {
		return nil, err
	}
	chosen := map[string]Named{}
	var missing, ambiguous []string
	for _, name := range names {
		ms := wanted[name]
		switch {
		case len(ms) == 1:
			chosen[name] = ms[0]
		case len(ms) == 0:
			missing = append(missing, fmt.Sprintf("%q", name))
		default:
			usable, word := l.Usable, l.Usability
			if usable == nil {
				usable, word = func(m Named) bool { return m.Status == "AVAILABLE" }, "AVAILABLE"
			}
			var avail []Named
			for _, m := range ms {
				if usable(m) {
					avail = append(avail, m)
				}
			}
			if len(avail) == 1 {
				chosen[name] = avail[0]
				f.Notice("%q names %d %ss; using the only %s one, %s.", name, len(ms), l.Noun, word, l.label(avail[0].ID))
				continue
			}
			ambiguous = append(ambiguous, l.describe(name, ms))
		}
	}
	switch {
	case len(ambiguous) > 0:
		msg := strings.Join(ambiguous, "\n")
		if len(missing) > 0 {
			msg += fmt.Sprintf("\nno %s is named %s", l.Noun, strings.Join(missing, ", "))
		}
		return nil, exit.Usagef("%s", msg)
	case len(missing) > 0:
		return nil, exit.Errorf(exit.NotFound, "no %s is named %s (%s)", l.Noun, strings.Join(missing, ", "), l.nameHint())
	}
	for i, a := range args {
		if out[i].ID == "" {
			out[i] = chosen[a]
		}
	}
	return out, nil
}

// IDShaped reports an argument taken as an id as it is.
func (l NameLookup) IDShaped(arg string) bool {
	if l.IsID == nil {
		return UUIDShape().MatchString(arg)
	}
	return l.IsID(arg)
}

// ResolveID resolves one argument (get, status, update).
func (f *Factory) ResolveID(ctx context.Context, arg string, l NameLookup) (Named, error) {
	ns, err := f.ResolveIDs(ctx, []string{arg}, l)
	if err != nil {
		return Named{}, err
	}
	return ns[0], nil
}

// IDsOf returns the ids of resolved objects.
func IDsOf(ns []Named) []string {
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	return ids
}

func (l NameLookup) label(id string) string {
	if l.Secret {
		return output.Mask(id)
	}
	return id
}

func (l NameLookup) nameHint() string {
	field := l.NameField
	if field == "" {
		field = "display_name"
	}
	if l.IsID == nil {
		return "an argument that is not a UUID is looked up by " + field
	}
	return "looked up by " + field
}

// describe lists the candidates of an ambiguous name, one per line.
func (l NameLookup) describe(name string, ms []Named) string {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	var b strings.Builder
	if l.Secret {
		fmt.Fprintf(&b, "%q names %d %ss; give the uuid of one (tokenctl token list shows them):", name, len(ms), l.Noun)
	} else {
		fmt.Fprintf(&b, "%q names %d %ss; give one of their ids:", name, len(ms), l.Noun)
	}
	for _, m := range ms {
		var parts []string
		typ := m.Type
		if typ != "" {
			typ += " " + l.Noun
		}
		for _, p := range []string{typ, m.Status} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		fmt.Fprintf(&b, "\n  %s", l.label(m.ID))
		if len(parts) > 0 {
			fmt.Fprintf(&b, "  (%s)", strings.Join(parts, ", "))
		}
	}
	return b.String()
}
