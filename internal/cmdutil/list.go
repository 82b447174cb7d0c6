package cmdutil

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
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
}

// Register adds --all, --limit, --page-size, --sort-by and --asc.
func (l *ListFlags) Register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&l.All, "all", false, "no effect: every list returns every page unless --limit (accepted for older scripts)")
	fl.IntVar(&l.Limit, "limit", 0, "stop after this many items, fetching further pages only as needed (default: every item)")
	fl.IntVar(&l.PageSize, "page-size", 0, "items per request (page_size); default: the server's")
	fl.StringVar(&l.SortBy, "sort-by", "", "field to sort by (sort_by)")
	fl.BoolVar(&l.Asc, "asc", false, "sort ascending (sort_ascending=true); without it the server's order")
}

// Validate checks the values; sortable lists the vendor's sortable fields
// (nil accepts any).
func (l *ListFlags) Validate(cmd *cobra.Command, sortable []string) []exit.Problem {
	var ps []exit.Problem
	if l.Limit < 0 {
		ps = append(ps, exit.Problem{Field: "--limit", Rule: "must not be negative"})
	}
	if l.PageSize < 0 {
		ps = append(ps, exit.Problem{Field: "--page-size", Rule: "must not be negative (page_size minimum 0)"})
	}
	if l.SortBy != "" && sortable != nil {
		if p := EnumFlag("sort-by", l.SortBy, sortable...); p != nil {
			ps = append(ps, *p)
		}
	}
	if Changed(cmd, "asc") && l.SortBy == "" && sortable != nil {
		ps = append(ps, exit.Problem{Field: "--asc", Rule: "needs --sort-by (one of " + strings.Join(sortable, ", ") + ")"})
	}
	return ps
}

// Ascending is sort_ascending when --asc was given.
func (l *ListFlags) Ascending(cmd *cobra.Command) *bool {
	if !Changed(cmd, "asc") {
		return nil
	}
	v := l.Asc
	return &v
}

// Pager turns the flags into a client.Pager, with a progress line on a
// terminal's stderr while following pages.
func (l *ListFlags) Pager(f *Factory) client.Pager {
	p := client.Pager{PageSize: l.PageSize, Limit: l.Limit}
	if f.IOStreams.IsStderrTTY() && !f.Bool(FlagQuiet) {
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
	_, err := list(l.Pager(f), w.Add)
	l.Done(f)
	if err != nil {
		return err
	}
	return w.Close()
}
