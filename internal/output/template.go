package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// Template renders JSON output through a Go text/template (--template), with
// helpers modelled on gh's: timefmt, timeago, tablerow, tablerender, pluck,
// join, truncate. A list gives the template the whole array, as --jq sees
// it. Numbers are ints when they are integers (epoch milliseconds print
// exactly), otherwise float64. There is no color helper: tables colour
// states themselves (column.go), templates stay plain.
type Template struct {
	text string
	tmpl *template.Template
	now  func() time.Time

	// rows are the pending rows of tablerow, rendered by tablerender (or at
	// the end of the template).
	rows [][]string
	out  *bytes.Buffer
}

// ParseTemplate compiles a --template text; errors are usage errors.
func ParseTemplate(text string, now func() time.Time) (*Template, error) {
	if now == nil {
		now = time.Now
	}
	t := &Template{text: text, now: now}
	tmpl, err := template.New("--template").Option("missingkey=zero").Funcs(t.funcs()).Parse(text)
	if err != nil {
		return nil, exit.Usagef("--template: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	t.tmpl = tmpl
	return t, nil
}

func (t *Template) funcs() template.FuncMap {
	return template.FuncMap{
		"timefmt":     t.timefmt,
		"timeago":     t.timeago,
		"tablerow":    t.tablerow,
		"tablerender": t.tablerender,
		"pluck":       pluck,
		"join":        join,
		"truncate":    truncate,
	}
}

// Execute renders the template over one decoded JSON document.
func (t *Template) Execute(w io.Writer, input []byte) error {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("server sent invalid JSON: %w", err)
	}
	v = normalizeNumbers(v)
	t.out = &bytes.Buffer{}
	t.rows = nil
	if err := t.tmpl.Execute(t.out, v); err != nil {
		return exit.Errorf(exit.Error, "--template: %v", strings.TrimPrefix(err.Error(), "template: "))
	}
	if _, err := t.tablerender(); err != nil {
		return err
	}
	_, err := w.Write(t.out.Bytes())
	return err
}

// toTime reads an instant: epoch milliseconds (the vendors' timestamps, as
// a number or a numeric string) or an RFC 3339 string.
func toTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case int:
		return time.UnixMilli(int64(x)), nil
	case int64:
		return time.UnixMilli(x), nil
	case float64:
		return time.UnixMilli(int64(math.Round(x))), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return time.UnixMilli(i), nil
		}
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, err
		}
		return time.UnixMilli(int64(math.Round(f))), nil
	case string:
		if i, err := strconv.ParseInt(x, 10, 64); err == nil {
			return time.UnixMilli(i), nil
		}
		tm, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is neither epoch milliseconds nor an RFC 3339 time", x)
		}
		return tm, nil
	case time.Time:
		return x, nil
	case nil:
		return time.Time{}, fmt.Errorf("no time value (the field is missing or null)")
	}
	return time.Time{}, fmt.Errorf("cannot read %v (%T) as a time", v, v)
}

// timefmt formats an instant in local time with a Go layout:
// {{timefmt "2006-01-02 15:04" .expiration}}.
func (t *Template) timefmt(layout string, v any) (string, error) {
	tm, err := toTime(v)
	if err != nil {
		return "", err
	}
	return tm.Local().Format(layout), nil
}

// timeago says how long ago an instant was, or how far ahead it is (token
// expirations lie in the future): "3 minutes ago", "in 2 days".
func (t *Template) timeago(v any) (string, error) {
	tm, err := toTime(v)
	if err != nil {
		return "", err
	}
	d := t.now().Sub(tm)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		if future {
			return "in less than a minute", nil
		}
		return "less than a minute ago", nil
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 24*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	case d < 30*24*time.Hour:
		s = plural(int(d/(24*time.Hour)), "day")
	case d < 365*24*time.Hour:
		s = plural(int(d/(30*24*time.Hour)), "month")
	default:
		s = plural(int(d/(365*24*time.Hour)), "year")
	}
	if future {
		return "in " + s, nil
	}
	return s + " ago", nil
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// tablerow adds a row to the table that tablerender (or the end of the
// template) prints with aligned columns.
func (t *Template) tablerow(fields ...any) (string, error) {
	row := make([]string, len(fields))
	for i, f := range fields {
		// A table for people: server text cannot write escape sequences.
		row[i] = escape.Text(cell(f))
	}
	t.rows = append(t.rows, row)
	return "", nil
}

// tablerender prints the pending rows, columns three spaces apart.
func (t *Template) tablerender() (string, error) {
	if len(t.rows) == 0 {
		return "", nil
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 3, ' ', 0)
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	t.rows = nil
	if err := tw.Flush(); err != nil {
		return "", err
	}
	// tabwriter pads every cell but a row's last; a row shorter than the
	// others would keep trailing blanks, which tables here never have.
	for _, l := range strings.SplitAfter(buf.String(), "\n") {
		if l != "" {
			t.out.WriteString(strings.TrimRight(l, " \n") + "\n")
		}
	}
	return "", nil
}

// cell renders a value the way tables do.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.NewReplacer("\t", " ", "\n", " ").Replace(x)
	case map[string]any, []any:
		b, _ := json.Marshal(x)
		return string(b)
	default:
		return fmt.Sprint(x)
	}
}

// pluck takes one field of each object of a list:
// {{join ", " (pluck "display_name" .)}}.
func pluck(field string, list any) ([]any, error) {
	items, ok := list.([]any)
	if !ok {
		return nil, fmt.Errorf("pluck: %T is not a list", list)
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m[field])
		} else {
			out = append(out, nil)
		}
	}
	return out, nil
}

// join joins the elements of a list with sep.
func join(sep string, list any) (string, error) {
	rv := reflect.ValueOf(list)
	if list == nil {
		return "", nil
	}
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return "", fmt.Errorf("join: %T is not a list", list)
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = cell(rv.Index(i).Interface())
	}
	return strings.Join(parts, sep), nil
}

// truncate shortens s to n characters, ending in "..." when cut.
func truncate(n int, v any) string {
	s := cell(v)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 3 {
		return string(r[:n])
	}
	return string(r[:n-3]) + "..."
}
