package ssp

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// defaultPageSize is the spec's PageSize default.
const defaultPageSize = 1000

// listEnvelope is the vendor's ListResult without its results.
//
// Offset is always -1, as in the vendor's examples: clients must never trust
// the echoed offset. TotalResultCount is set on the first page (offset 0)
// only, as the vendor's ListResult doc says ("set only on first page").
type listEnvelope struct {
	Offset           int    `json:"offset"`
	NumberOfResults  int    `json:"number_of_results"`
	TotalResultCount *int   `json:"total_result_count,omitempty"`
	TotalPages       int    `json:"total_pages"`
	SortAscending    *bool  `json:"sort_ascending,omitempty"`
	SortBy           string `json:"sort_by,omitempty"`
}

// listParams are the shared query parameters of the list operations.
type listParams struct {
	offset    int
	pageSize  int
	sortBy    string
	ascending bool
	// displayNames filters by exact display name; the spec has one value, and
	// repeating it ORs the values (the 5.1 docs describe that for the
	// baremetal statuses list).
	displayNames []string
}

// parseListParams reads offset, page_size, sort_by, sort_ascending and
// display_name. sortable lists the sort_by values the operation supports.
func parseListParams(q url.Values, sortable []string) (listParams, error) {
	var offset, pageSize *int64
	var ascending *bool
	if v := q.Get("offset"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return listParams{}, fmt.Errorf("offset %q must be an integer >= 0", v)
		}
		offset = &n
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return listParams{}, fmt.Errorf("page_size %q must be an integer >= 0", v)
		}
		pageSize = &n
	}
	if v := q.Get("sort_ascending"); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return listParams{}, fmt.Errorf("sort_ascending %q must be true or false", v)
		}
		ascending = &b
	}
	p, err := newListParams(offset, pageSize, q.Get("sort_by"), ascending, sortable)
	if err != nil {
		return p, err
	}
	for _, v := range q["display_name"] {
		if v != "" {
			p.displayNames = append(p.displayNames, v)
		}
	}
	return p, nil
}

// newListParams checks the paging and sorting fields, from a query or from a
// body (ListRequestParameters); nil and "" mean the spec's defaults.
func newListParams(offset, pageSize *int64, sortBy string, ascending *bool, sortable []string) (listParams, error) {
	p := listParams{pageSize: defaultPageSize}
	if offset != nil {
		if *offset < 0 || *offset > math.MaxInt32 {
			return p, fmt.Errorf("offset %d must be an integer >= 0", *offset)
		}
		p.offset = int(*offset)
	}
	if pageSize != nil {
		if *pageSize < 0 || *pageSize > math.MaxInt32 {
			return p, fmt.Errorf("page_size %d must be an integer >= 0 (int32)", *pageSize)
		}
		// 0 is allowed by the spec's minimum; it means the default.
		if *pageSize > 0 {
			p.pageSize = int(*pageSize)
		}
	}
	if ascending != nil {
		p.ascending = *ascending
	}
	if sortBy != "" {
		if !slices.Contains(sortable, sortBy) {
			return p, fmt.Errorf("sort_by %q is not supported; sortable fields: %s", sortBy, strings.Join(sortable, ", "))
		}
		p.sortBy = sortBy
	}
	return p, nil
}

// parseBool accepts the spec's 'true' and 'false' (any case).
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", v)
}

func (p listParams) nameMatches(name string) bool {
	if len(p.displayNames) == 0 {
		return true
	}
	for _, n := range p.displayNames {
		if n == name {
			return true
		}
	}
	return false
}

// window returns the [start, end) range of a page over total items.
func (p listParams) window(total int) (int, int) {
	start := min(p.offset, total)
	end := start + min(p.pageSize, total-start)
	return start, end
}

func (p listParams) envelope(total, n int) listEnvelope {
	env := listEnvelope{Offset: -1, NumberOfResults: n}
	if p.offset == 0 {
		t := total
		env.TotalResultCount = &t
	}
	env.TotalPages = (total + p.pageSize - 1) / p.pageSize
	if p.sortBy != "" {
		asc := p.ascending
		env.SortAscending = &asc
		env.SortBy = p.sortBy
	}
	return env
}

// compareKeys orders sort keys: strings lexically (enums by name), numbers
// numerically, false before true.
func compareKeys(a, b any) int {
	switch x := a.(type) {
	case string:
		return cmp.Compare(x, b.(string))
	case int64:
		return cmp.Compare(x, b.(int64))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		default:
			return 1
		}
	}
	panic(fmt.Sprintf("ssp: unsortable key %T", a))
}

// sortByKey sorts items stably by key (natural order breaks ties).
func sortByKey[T any](items []T, key func(T) any, ascending bool) {
	keys := make([]any, len(items))
	for i, it := range items {
		keys[i] = key(it)
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		c := compareKeys(keys[idx[a]], keys[idx[b]])
		if ascending {
			return c < 0
		}
		return c > 0
	})
	sorted := make([]T, len(items))
	for i, j := range idx {
		sorted[i] = items[j]
	}
	copy(items, sorted)
}

// sortField is one field a list sorts by, with the key it sorts on.
type sortField[T any] struct {
	name string
	key  func(T) any
}

// sortFields are the sort_by values of one in-memory list, in the order its
// errors name them. Every in-memory list (tokens, token statuses, baremetal
// servers and their details) goes through writeList: lists differ only in
// their item type and these fields.
type sortFields[T any] []sortField[T]

func (fs sortFields[T]) names() []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.name
	}
	return names
}

// writeList sorts items as p says and writes p's page of them.
func (fs sortFields[T]) writeList(w http.ResponseWriter, p listParams, items []T) {
	if p.sortBy != "" {
		for _, f := range fs {
			if f.name == p.sortBy {
				sortByKey(items, f.key, p.ascending)
			}
		}
	}
	writePage(w, p, items)
}

// writePage writes one page of an in-memory list.
func writePage[T any](w http.ResponseWriter, p listParams, items []T) {
	start, end := p.window(len(items))
	sw := newStreamWriter(w)
	sw.begin(p.envelope(len(items), end-start))
	for _, it := range items[start:end] {
		sw.item(it)
	}
	sw.end()
}
