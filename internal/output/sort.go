package output

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// SortKey resolves a --sort-by value the server cannot sort on to the
// vendor field to sort by client-side: a column's name (its header in lower
// case, spaces as dashes: "name", "expires", "display-name"), or the vendor
// field a column shows ("display_name", "expiration"). ok is false for
// anything else.
func (k Kind) SortKey(name string) (path string, ok bool) {
	for _, c := range k.Columns {
		if c.SortKey != "" && (c.sortName() == strings.ToLower(name) || c.SortKey == name) {
			return c.SortKey, true
		}
	}
	return "", false
}

// SortNames lists the names SortKey accepts, for help and errors.
func (k Kind) SortNames() []string {
	var names []string
	for _, c := range k.Columns {
		if c.SortKey != "" {
			names = append(names, c.sortName())
		}
	}
	return names
}

// Sorted returns a ListWriter that keeps every item and, when closed,
// passes them to w ordered by the field at path: --sort-by on a field the
// server cannot sort. Unlike every other list, it holds the whole list in
// memory (said in --sort-by's help). Numbers compare as numbers, other
// values as text; items without the field come last; equal items keep the
// server's order. limit > 0 passes only the first limit items after
// sorting (--limit with such a --sort-by: the first N of the sorted list,
// so the list must have been read whole).
func Sorted(w ListWriter, path string, ascending bool, limit int) ListWriter {
	return &sortedList{w: w, path: path, asc: ascending, limit: limit}
}

type sortedList struct {
	w     ListWriter
	path  string
	asc   bool
	limit int
	items []sortItem
}

type sortItem struct {
	raw    json.RawMessage
	text   string
	num    float64
	isNum  bool
	absent bool
}

func (l *sortedList) Add(raw json.RawMessage) error {
	it := sortItem{raw: append(json.RawMessage(nil), raw...)}
	v, ok := lookup(it.raw, l.path)
	switch {
	case !ok || string(v) == "null":
		it.absent = true
	case len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')):
		if f, err := strconv.ParseFloat(string(v), 64); err == nil {
			it.num, it.isNum = f, true
		}
	}
	if !it.absent && !it.isNum {
		it.text = rawString(v)
	}
	l.items = append(l.items, it)
	return nil
}

func (l *sortedList) Count() int { return len(l.items) }

func (l *sortedList) Close() error {
	slices.SortStableFunc(l.items, func(a, b sortItem) int {
		switch {
		case a.absent || b.absent:
			return compareBool(a.absent, b.absent) // absent last, in both orders
		}
		c := 0
		switch {
		case a.isNum && b.isNum:
			c = compareFloat(a.num, b.num)
		case a.isNum != b.isNum:
			c = compareBool(!a.isNum, !b.isNum) // numbers before text
		default:
			c = strings.Compare(a.text, b.text)
		}
		if !l.asc {
			c = -c
		}
		return c
	})
	if l.limit > 0 && len(l.items) > l.limit {
		l.items = l.items[:l.limit]
	}
	for i := range l.items {
		if err := l.w.Add(l.items[i].raw); err != nil {
			return err
		}
		l.items[i].raw = nil
	}
	return l.w.Close()
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
