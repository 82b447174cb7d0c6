package cmdutil

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// ListFlags are the paging and sorting flags of SSP lists. Lists return
// every item (every page) unless --limit says otherwise.
type ListFlags struct {
	// All is --all, accepted for scripts written when lists stopped after
	// one page; it changes nothing.
	All      bool
	Limit    int
	PageSize int
	SortBy   string
	Asc      bool

	progress bool
	// clientSort is the vendor field to sort by in tokenctl (--sort-by on
	// a field the server cannot sort); "" when the server sorts.
	clientSort string
	clientAsc  bool
}

// Register adds --all, --limit, --page-size, --sort-by and --asc.
func (l *ListFlags) Register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&l.All, "all", false, "no effect: every list returns every page unless --limit (accepted for older scripts)")
	fl.IntVar(&l.Limit, "limit", 0, "stop after this many items, fetching further pages only as needed (default: every item); with a --sort-by that tokenctl sorts, the first N after reading and sorting every item")
	fl.IntVar(&l.PageSize, "page-size", 0, "items per request (page_size); default: the server's")
	fl.StringVar(&l.SortBy, "sort-by", "", "field to sort by: the server's sortable fields (sort_by), or a column (name, expires, ...) that tokenctl sorts itself after reading every item (memory grows with the list)")
	fl.BoolVar(&l.Asc, "asc", false, "sort ascending (sort_ascending=true); without it the server's order (a column tokenctl sorts: ascending unless --asc=false)")
}

// CompleteSortBy completes --sort-by with the server's sortable fields and
// the column names tokenctl sorts (name, expires, ...) of the kinds the
// command may print, each once.
func CompleteSortBy(cmd *cobra.Command, server []string, kinds ...output.Kind) {
	values := slices.Clone(server)
	for _, k := range kinds {
		for _, name := range k.SortNames() {
			if !slices.Contains(values, name) {
				values = append(values, name)
			}
		}
	}
	CompleteFlag(cmd, "sort-by", FixedValues(values...))
}

// Validate checks the values; sortable lists the vendor's sortable fields
// (nil: the vendor documents none, and any field is passed on). --sort-by
// on one of kind's columns that the server cannot sort ("name", "expires",
// or the column's field) is sorted client-side instead.
func (l *ListFlags) Validate(cmd *cobra.Command, sortable []string, kind output.Kind) []exit.Problem {
	var ps []exit.Problem
	if l.Limit < 0 {
		ps = append(ps, exit.Problem{Field: "--limit", Rule: "must not be negative"})
	}
	if l.PageSize < 0 {
		ps = append(ps, exit.Problem{Field: "--page-size", Rule: "must not be negative (page_size minimum 0)"})
	}
	l.clientSort = ""
	if l.SortBy != "" && !slices.Contains(sortable, l.SortBy) {
		if path, ok := kind.SortKey(l.SortBy); ok {
			l.clientSort, l.clientAsc = path, !Changed(cmd, "asc") || l.Asc
		} else if len(sortable) > 0 {
			ps = append(ps, exit.Problem{Field: "--sort-by", Rule: fmt.Sprintf("%q is not one of %s (sorted by the server) or %s (sorted by tokenctl)",
				l.SortBy, strings.Join(sortable, ", "), strings.Join(kind.SortNames(), ", "))})
		} else if sortable != nil {
			ps = append(ps, exit.Problem{Field: "--sort-by", Rule: fmt.Sprintf("%q is not one of %s (the server does not sort; tokenctl does)",
				l.SortBy, strings.Join(kind.SortNames(), ", "))})
		}
	}
	if Changed(cmd, "asc") && l.SortBy == "" && sortable != nil {
		ps = append(ps, exit.Problem{Field: "--asc", Rule: "needs --sort-by (one of " + strings.Join(append(slices.Clone(sortable), kind.SortNames()...), ", ") + ")"})
	}
	return ps
}

// Sorted wraps a list writer in tokenctl's own sorting when --sort-by
// names what the server cannot sort (see Validate); else it returns w.
// --limit then applies to the sorted list (and Pager reads every page).
func (l *ListFlags) Sorted(w output.ListWriter) output.ListWriter {
	if l.clientSort == "" {
		return w
	}
	return output.Sorted(w, l.clientSort, l.clientAsc, l.Limit)
}

// ServerSortBy is the sort_by to send: "" when tokenctl sorts.
func (l *ListFlags) ServerSortBy() string {
	if l.clientSort != "" {
		return ""
	}
	return l.SortBy
}

// Ascending is sort_ascending when --asc was given (nil when tokenctl
// sorts).
func (l *ListFlags) Ascending(cmd *cobra.Command) *bool {
	if !Changed(cmd, "asc") || l.clientSort != "" {
		return nil
	}
	v := l.Asc
	return &v
}

// SSPQuery is the query of an SSP list: the server's sort (none when
// tokenctl sorts) and a display_name filter ("": none).
func (l *ListFlags) SSPQuery(cmd *cobra.Command, displayName string) ssp.ListQuery {
	return ssp.ListQuery{SortBy: l.ServerSortBy(), Ascending: l.Ascending(cmd), DisplayName: displayName}
}

// StartSSP begins the run of an SSP list (sensor list, details; baremetal
// list, details; token list): it checks the platform, -o for kind, the
// list flags (sortable: the fields the server sorts by; nil: it documents
// none) and the verb's own problems, all before anything is sent, then
// connects.
func (l *ListFlags) StartSSP(f *Factory, cmd *cobra.Command, kind output.Kind, sortable []string, problems []exit.Problem) (context.Context, *ssp.Client, output.Options, error) {
	if err := f.SSPOnly(cmd); err != nil {
		return nil, nil, output.Options{}, err
	}
	o, err := f.OutputFor(kind, output.Many)
	if err != nil {
		return nil, nil, o, err
	}
	if err := exit.Problems(append(l.Validate(cmd, sortable, kind), problems...)); err != nil {
		return nil, nil, o, err
	}
	ctx, sc, err := f.SSPClient(cmd)
	return ctx, sc, o, err
}

// Pager turns the flags into a client.Pager, with a progress line on a
// terminal's stderr while following pages, unless stdout is that terminal:
// there the items themselves show the progress, streamed, and a progress
// line would break into the rows.
func (l *ListFlags) Pager(f *Factory) client.Pager {
	p := client.Pager{PageSize: l.PageSize, Limit: l.Limit}
	if l.clientSort != "" {
		p.Limit = 0 // the first N by tokenctl's sort need every item (Sorted)
	}
	if f.IOStreams.IsStderrTTY() && !f.IOStreams.IsStdoutTTY() && !f.Bool(FlagQuiet) {
		p.OnPage = func(fetched int, total int64) {
			l.progress = true
			if total >= 0 {
				fmt.Fprintf(f.IOStreams.ErrOut, "\rfetched %d of %d", fetched, total)
			} else {
				fmt.Fprintf(f.IOStreams.ErrOut, "\rfetched %d", fetched)
			}
		}
	}
	return p
}

// Done ends the progress line.
func (l *ListFlags) Done(f *Factory) {
	if l.progress {
		fmt.Fprint(f.IOStreams.ErrOut, "\r\033[K")
	}
}

// Stream runs a paged listing into the printer: items are printed as they
// arrive, the progress line ends and the list is closed (also when empty).
// list receives the pager and the function that takes each item.
func (l *ListFlags) Stream(f *Factory, o output.Options, kind output.Kind, list func(p client.Pager, add func(json.RawMessage) error) (client.PageResult, error)) error {
	w := f.Printer(o).List(kind)
	w = l.Sorted(w)
	pager := l.Pager(f)
	if pe, ok := w.(output.PageEnder); ok {
		// A table sizes its columns on the first page, then streams. A
		// write error sticks to the writer: the next Add or Close returns it.
		onPage := pager.OnPage
		pager.OnPage = func(fetched int, total int64) {
			if onPage != nil {
				onPage(fetched, total)
			}
			_ = pe.EndPage()
		}
	}
	_, err := list(pager, w.Add)
	l.Done(f)
	if err != nil {
		return err
	}
	return w.Close()
}
