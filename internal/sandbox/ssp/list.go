package ssp

import (
	"cmp"
	"fmt"
	"net/url"
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
	p := listParams{pageSize: defaultPageSize}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, fmt.Errorf("offset %q must be an integer >= 0", v)
		}
		p.offset = n
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return p, fmt.Errorf("page_size %q must be an integer >= 0", v)
		}
		// 0 is allowed by the spec's minimum; it means the default.
		if n > 0 {
			p.pageSize = int(n)
		}
	}
	if v := q.Get("sort_ascending"); v != "" {
		b, err := parseBool(v)
		if err != nil {
			return p, fmt.Errorf("sort_ascending %q must be true or false", v)
		}
		p.ascending = b
	}
	if v := q.Get("sort_by"); v != "" {
		ok := false
		for _, s := range sortable {
			if v == s {
				ok = true
			}
		}
		if !ok {
			return p, fmt.Errorf("sort_by %q is not supported; sortable fields: %s", v, strings.Join(sortable, ", "))
		}
		p.sortBy = v
	}
	for _, v := range q["display_name"] {
		if v != "" {
			p.displayNames = append(p.displayNames, v)
		}
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
