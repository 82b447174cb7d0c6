package output

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// fixedNow is the template clock of these tests.
var fixedNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func tmplOpts(text string) Options {
	return Options{Template: text, Now: func() time.Time { return fixedNow }}
}

func TestTemplateObjectAndList(t *testing.T) {
	obj := func(p *Printer) error { return p.Object(json.RawMessage(a), kind) }
	out, _ := run(t, tmplOpts(`{{.id}} {{.display_name}} {{.big}}{{"\n"}}`), false, obj)
	if out != "a1 first 1795618411501\n" {
		t.Fatalf("object template %q", out)
	}
	// A list gives the template the whole array.
	out, _ = run(t, tmplOpts(`{{len .}}:{{range .}} {{.id}}{{end}}`), false, list(a, b))
	if out != "2: a1 b2" {
		t.Fatalf("list template %q", out)
	}
	out, _ = run(t, tmplOpts(`{{len .}}`), false, list())
	if out != "0" {
		t.Fatalf("empty list template %q", out)
	}
	// Integers compare as integers.
	out, _ = run(t, tmplOpts(`{{if eq .zeta 1}}one{{end}}`), false, obj)
	if out != "one" {
		t.Fatalf("eq on a number %q", out)
	}
}

func TestTemplateHelpers(t *testing.T) {
	ms := fixedNow.Add(-3 * time.Hour).UnixMilli()
	item := `{"id":"x","display_name":"a rather long display name","created":` + itoa64(ms) +
		`,"expiration":` + itoa64(fixedNow.Add(49*time.Hour).UnixMilli()) +
		`,"updated_at":"2026-11-20T10:00:00Z","roles":[{"name":"r1"},{"name":"r2"}]}`
	obj := func(p *Printer) error { return p.Object(json.RawMessage(item), kind) }
	cases := []struct{ tmpl, want string }{
		{`{{timefmt "2006-01-02 15:04" .created}}`, time.UnixMilli(ms).Local().Format("2006-01-02 15:04")},
		{`{{timefmt "2006-01-02" .updated_at}}`, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC).Local().Format("2006-01-02")},
		{`{{timeago .created}}`, "3 hours ago"},
		{`{{timeago .expiration}}`, "in 2 days"},
		{`{{timeago .updated_at}}`, "5 days ago"},
		{`{{join "," (pluck "name" .roles)}}`, "r1,r2"},
		{`{{truncate 10 .display_name}}`, "a rathe..."},
		{`{{truncate 40 .display_name}}`, "a rather long display name"},
	}
	for _, c := range cases {
		out, _ := run(t, tmplOpts(c.tmpl), false, obj)
		if out != c.want {
			t.Errorf("%s = %q, want %q", c.tmpl, out, c.want)
		}
	}
}

func TestTemplateTable(t *testing.T) {
	tmpl := `{{range .}}{{tablerow .id .display_name}}{{end}}{{tablerender}}total {{len .}}` + "\n"
	out, _ := run(t, tmplOpts(tmpl), false, list(a, b, `{"id":"c3"}`))
	want := "a1   first\nb2   second\nc3\ntotal 3\n"
	if out != want {
		t.Fatalf("table:\n%q\nwant\n%q", out, want)
	}
	// Rows still pending at the end are rendered.
	out, _ = run(t, tmplOpts(`{{range .}}{{tablerow .id (len .display_name)}}{{end}}`), false, list(a, b))
	if out != "a1   5\nb2   6\n" {
		t.Fatalf("implicit render %q", out)
	}
	// Server text in a tablerow cannot write escape sequences.
	out, _ = run(t, tmplOpts(`{{range .}}{{tablerow .id .display_name}}{{end}}`), false, list(`{"id":"x","display_name":"a\u001b[2Jb"}`))
	if out != "x   a\\x1b[2Jb\n" {
		t.Fatalf("escaped cell %q", out)
	}
}

func TestTemplateErrors(t *testing.T) {
	for _, bad := range []Options{
		{Template: "{{.id"},
		{Template: "{{.id}}", JQ: ".id"},
		{Template: "{{.id}}", Format: YAML},
		{Template: "{{nosuchfunc .id}}"},
	} {
		err := bad.Validate()
		if err == nil || exit.CodeOf(err) != exit.Usage {
			t.Errorf("%+v: %v, want a usage error", bad, err)
		}
	}
	o := tmplOpts(`{{timefmt "2006" .display_name}}`)
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := iostreams.Test()
	err := New(ios, o).Object(json.RawMessage(a), kind)
	if err == nil || !strings.Contains(err.Error(), "neither epoch milliseconds nor an RFC 3339 time") || exit.CodeOf(err) != exit.Error {
		t.Fatalf("bad time: %v", err)
	}
}

func itoa64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
