package output

import (
	"fmt"
	"strings"
	"time"
)

// Column is one table column. Columns are declared per resource (Kind) in
// cmd/: NAME first, then ID, then state columns, then the rest.
type Column struct {
	Header string
	Value  func(Item) string
	// Text marks free text (names, descriptions, host names): the columns a
	// table shortens with an ellipsis, widest first, to fit the terminal.
	// Other columns (ids, states, numbers, times) are never cut.
	Text bool
	// State marks a status column whose values are coloured (StateColor).
	State bool
	// Wide marks a column shown only with -o wide.
	Wide bool
	// SortKey is the vendor field that --sort-by sorts on, client-side, when
	// this column's name is given and the server cannot sort ("" for
	// computed columns).
	SortKey string

	// ms is set on time columns (epoch milliseconds): relative in tables
	// ("in 12m", "3m ago"), local time in -o wide.
	ms func(Item) (int64, bool)
}

// Field is a column showing a field as is.
func Field(header, path string) Column {
	return Column{Header: header, Value: func(it Item) string { return it.String(path) }, SortKey: path}
}

// TextField is a free-text column (a name, a description): cut to fit.
func TextField(header, path string) Column {
	c := Field(header, path)
	c.Text = true
	return c
}

// StateField is a status column, coloured by value.
func StateField(header, path string) Column {
	c := Field(header, path)
	c.State = true
	return c
}

// TimeField is a column showing an epoch-ms field: how long ago or how far
// ahead in tables, the local time in -o wide.
func TimeField(header, path string) Column {
	c := TimeColumn(header, func(it Item) (int64, bool) { return it.Int(path) })
	c.SortKey = path
	return c
}

// TimeColumn is a time column whose instant (epoch ms) ms computes, e.g.
// from data joined from another list.
func TimeColumn(header string, ms func(Item) (int64, bool)) Column {
	return Column{Header: header, ms: ms, Value: func(it Item) string {
		v, ok := ms(it)
		if !ok || v <= 0 {
			return ""
		}
		return time.UnixMilli(v).Local().Format(TimeFormat)
	}}
}

// WideOnly returns the column shown only with -o wide.
func (c Column) WideOnly() Column {
	c.Wide = true
	return c
}

// cell renders the column's value for a table row: times relative to now
// unless the table is wide.
func (c Column) cell(it Item, wide bool, now time.Time) string {
	if c.ms != nil && !wide {
		ms, ok := c.ms(it)
		if !ok || ms <= 0 {
			return ""
		}
		return Relative(time.UnixMilli(ms), now)
	}
	return c.Value(it)
}

// sortName is how --sort-by names the column: its header in lower case,
// spaces as dashes ("display-name", "expires").
func (c Column) sortName() string {
	return strings.ReplaceAll(strings.ToLower(c.Header), " ", "-")
}

// Relative says how far t is from now, compactly: "in 12m", "3m ago",
// "in 1h5m", "2d3h ago".
func Relative(t, now time.Time) string {
	d := t.Sub(now)
	if d >= 0 {
		return "in " + Duration(d)
	}
	return Duration(-d) + " ago"
}

// Duration renders d compactly, rounded down, with a second unit only
// while it says much (as kubectl shows ages): 45s, 12m, 3h5m, 30h, 3d4h,
// 143d, 3y.
func Duration(d time.Duration) string {
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	two := func(n1 time.Duration, u1 string, n2 time.Duration, u2 string) string {
		if n2 == 0 {
			return fmt.Sprintf("%d%s", n1, u1)
		}
		return fmt.Sprintf("%d%s%d%s", n1, u1, n2, u2)
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d < 10*time.Hour:
		return two(d/time.Hour, "h", (d%time.Hour)/time.Minute, "m")
	case d < 2*day:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d < 10*day:
		return two(d/day, "d", (d%day)/time.Hour, "h")
	case d < 2*year:
		return fmt.Sprintf("%dd", d/day)
	default:
		return fmt.Sprintf("%dy", d/year)
	}
}

// Colours of states in tables: plain SGR codes, never a terminal query.
const (
	colorRed    = "\x1b[31m"
	colorGreen  = "\x1b[32m"
	colorYellow = "\x1b[33m"
	colorReset  = "\x1b[0m"
)

// stateColors is the documented map of state values to colours (matched
// case-insensitively; docs/guides/scripting.md lists it). Red: the thing
// is unusable or broken; yellow: used up, degraded or in progress; green:
// usable and healthy.
var stateColors = map[string]string{
	"EXPIRED": colorRed, "FAILED": colorRed, "DOWN": colorRed, "DISCONNECTED": colorRed,
	"ABORTED": colorRed, "TIMEDOUT": colorRed, "TERMINATED": colorRed,

	"USED": colorYellow, "EXHAUSTED": colorYellow, "DEGRADED": colorYellow, "NOT_READY": colorYellow,
	"TERMINATING": colorYellow, "IN_PROGRESS": colorYellow, "RUNNING": colorYellow, "ACCEPTED": colorYellow,

	"AVAILABLE": colorGreen, "OK": colorGreen, "SUCCESS": colorGreen, "UP": colorGreen,
	"READY": colorGreen, "REGISTERED": colorGreen, "COMPLETED": colorGreen,
}

// StateColor is the SGR code of a state value ("" for none). The
// baremetal task states UPGRADE_FAILED, OFFBOARD_SUCCESS, ..._RUNNING take
// the colour of their outcome; other values (not_available, disabled, NONE)
// stay plain.
func StateColor(value string) string {
	v := strings.ToUpper(strings.TrimSpace(value))
	if c, ok := stateColors[v]; ok {
		return c
	}
	for _, outcome := range []string{"FAILED", "SUCCESS", "RUNNING"} {
		if strings.HasSuffix(v, "_"+outcome) {
			return stateColors[outcome]
		}
	}
	return ""
}
