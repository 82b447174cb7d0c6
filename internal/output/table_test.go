package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// now is the tables' clock in these tests; times are epoch ms around it.
var now = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func ms(d time.Duration) int64 { return now.Add(d).UnixMilli() }

var tokenKind = Kind{
	Noun:    "token",
	IDField: "id",
	Columns: []Column{
		TextField("NAME", "display_name"),
		Field("ID", "id"),
		StateField("STATUS", "status"),
		TimeField("EXPIRES", "expiration"),
		TextField("DESCRIPTION", "description").WideOnly(),
	},
}

func tok(name, id, status string, expires time.Duration, desc string) string {
	b, _ := json.Marshal(map[string]any{"display_name": name, "id": id, "status": status, "expiration": ms(expires), "description": desc})
	return string(b)
}

var tokens = []string{
	tok("edge-01", "366a0c3f-6a06-4c46-8de1-476ec7858c64", "AVAILABLE", 12*time.Minute+30*time.Second, "rack 4"),
	tok("ams-dc1-ndr-pool-for-the-new-datacenter-hall", "0aa0fddf-3caf-4ac1-bbef-44812825465c", "USED", 90*time.Minute, "hall 3"),
	tok("old", "8aca8d22-93e9-47b8-9f23-d95c0328ab67", "EXPIRED", -3*time.Minute, ""),
}

// table renders items with the options (Now fixed) and returns stdout.
func table(t *testing.T, o Options, kind Kind, items ...string) string {
	t.Helper()
	o.Now = func() time.Time { return now }
	out, _ := run(t, o, false, func(p *Printer) error {
		l := p.List(kind)
		for _, it := range items {
			if err := l.Add(json.RawMessage(it)); err != nil {
				return err
			}
		}
		return l.Close()
	})
	return out
}

var sgr = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestTableLayoutAndRelativeTimes(t *testing.T) {
	got := table(t, Options{}, tokenKind, tokens...)
	want := "" +
		"NAME                                          ID                                    STATUS     EXPIRES\n" +
		"edge-01                                       366a0c3f-6a06-4c46-8de1-476ec7858c64  AVAILABLE  in 12m\n" +
		"ams-dc1-ndr-pool-for-the-new-datacenter-hall  0aa0fddf-3caf-4ac1-bbef-44812825465c  USED       in 1h30m\n" +
		"old                                           8aca8d22-93e9-47b8-9f23-d95c0328ab67  EXPIRED    3m ago\n"
	if got != want {
		t.Fatalf("table:\n%s\nwant\n%s", got, want)
	}
	if got := table(t, Options{NoHeaders: true}, tokenKind, tokens[0]); got != "edge-01  366a0c3f-6a06-4c46-8de1-476ec7858c64  AVAILABLE  in 12m\n" {
		t.Fatalf("--no-headers: %q", got)
	}
}

func TestTableFitsTheWidthByCuttingFreeText(t *testing.T) {
	for _, width := range []int{70, 80} {
		got := table(t, Options{Width: width}, tokenKind, tokens...)
		for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
			if n := utf8.RuneCountInString(line); n > width {
				t.Errorf("width %d: line of %d: %q", width, n, line)
			}
		}
		for _, id := range []string{"366a0c3f-6a06-4c46-8de1-476ec7858c64", "0aa0fddf-3caf-4ac1-bbef-44812825465c"} {
			if !strings.Contains(got, id) {
				t.Errorf("width %d: id %s was cut:\n%s", width, id, got)
			}
		}
		if !strings.Contains(got, "…") || !strings.Contains(got, "edge-01 ") {
			t.Errorf("width %d: the long name is not cut with an ellipsis, or a short one is:\n%s", width, got)
		}
	}
	// Too narrow even for the ids and states: the name stops at its
	// minimum and the lines run over rather than lose an id.
	for _, width := range []int{30, 60} {
		got := table(t, Options{Width: width}, tokenKind, tokens...)
		if !strings.Contains(got, "\nams-dc1…  0aa0fddf-3caf-4ac1-bbef-44812825465c  USED") {
			t.Fatalf("width %d:\n%s", width, got)
		}
	}
	// No limit: nothing is cut.
	if got := table(t, Options{}, tokenKind, tokens...); strings.Contains(got, "…") {
		t.Fatalf("cut without a width limit:\n%s", got)
	}
}

func TestWideShowsEveryColumnUncutWithLocalTimes(t *testing.T) {
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC
	got := table(t, Options{Format: Wide, Width: 40}, tokenKind, tokens...)
	if strings.Contains(got, "…") || !strings.Contains(got, "ams-dc1-ndr-pool-for-the-new-datacenter-hall") {
		t.Fatalf("-o wide cut a cell:\n%s", got)
	}
	if !strings.HasPrefix(got, "NAME ") || !strings.Contains(got, "  DESCRIPTION\n") || !strings.Contains(got, "2026-03-04 10:12 UTC  rack 4\n") {
		t.Fatalf("-o wide:\n%s", got)
	}
	if strings.Contains(table(t, Options{}, tokenKind, tokens...), "DESCRIPTION") {
		t.Fatal("a wide-only column in the default table")
	}
}

func TestTableColoursStatesWithoutShiftingColumns(t *testing.T) {
	plain := table(t, Options{Width: 80}, tokenKind, tokens...)
	colored := table(t, Options{Width: 80, Color: true}, tokenKind, tokens...)
	if strings.Contains(plain, "\x1b") {
		t.Fatalf("colour without Color:\n%q", plain)
	}
	for _, want := range []string{"\x1b[32mAVAILABLE\x1b[0m", "\x1b[33mUSED\x1b[0m", "\x1b[31mEXPIRED\x1b[0m"} {
		if !strings.Contains(colored, want) {
			t.Errorf("no %q in\n%q", want, colored)
		}
	}
	if strings.Contains(strings.SplitN(colored, "\n", 2)[0], "\x1b") {
		t.Errorf("coloured header: %q", colored)
	}
	if stripped := sgr.ReplaceAllString(colored, ""); stripped != plain {
		t.Fatalf("colours moved the columns:\n%s\nvs\n%s", stripped, plain)
	}
}

func TestStateColors(t *testing.T) {
	for v, want := range map[string]string{
		"AVAILABLE": colorGreen, "ok": colorGreen, "Registered": colorGreen, "OFFBOARD_SUCCESS": colorGreen,
		"EXPIRED": colorRed, "disconnected": colorRed, "UPGRADE_FAILED": colorRed, "TIMEDOUT": colorRed,
		"USED": colorYellow, "degraded": colorYellow, "in_progress": colorYellow,
		"not_available": "", "DISABLED": "", "NONE": "", "": "", "on": "",
	} {
		if got := StateColor(v); got != want {
			t.Errorf("StateColor(%q) = %q, want %q", v, got, want)
		}
	}
}

func TestTableEscapesServerText(t *testing.T) {
	hostile := tok("evil\x1b[2J\x1b]0;pwned\x07\nfake-row  AVAILABLE", "id\r1", "\u009b31mOK", time.Hour, "")
	got := table(t, Options{Color: true}, tokenKind, hostile)
	if strings.Count(got, "\n") != 2 {
		t.Fatalf("a newline in a name made a row:\n%s", got)
	}
	if stripped := sgr.ReplaceAllString(got, ""); strings.ContainsAny(stripped, "\x1b\r\a\u009b") {
		t.Fatalf("raw control characters reached the table: %q", got)
	}
	if !strings.Contains(got, `evil\x1b[2J\x1b]0;pwned\x07\nfake-row  AVAILABLE`) || !strings.Contains(got, `id\r1`) || !strings.Contains(got, `\u009b31mOK`) {
		t.Fatalf("escaped cells: %q", got)
	}
}

func TestTableSizesOnTheFirstPageThenStreams(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	p := New(ios, Options{Format: Table, Now: func() time.Time { return now }})
	l := p.List(tokenKind).(*tableList)
	add := func(name string) {
		if err := l.Add(json.RawMessage(tok(name, "366a0c3f-6a06-4c46-8de1-476ec7858c64", "OK", time.Hour, ""))); err != nil {
			t.Fatal(err)
		}
	}
	add("a")
	add("bb")
	if out.Len() != 0 || len(l.pending) != 2 {
		t.Fatalf("printed before the first page ended: %q", out.String())
	}
	if err := l.EndPage(); err != nil {
		t.Fatal(err)
	}
	add("a-name-longer-than-the-first-page-had")
	if err := l.EndPage(); err != nil { // later page ends change nothing
		t.Fatal(err)
	}
	if len(l.pending) != 0 {
		t.Fatalf("%d rows held after the first page", len(l.pending))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	want := "NAME  ID                                    STATUS  EXPIRES\n" +
		"a     366a0c3f-6a06-4c46-8de1-476ec7858c64  OK      in 1h\n" +
		"bb    366a0c3f-6a06-4c46-8de1-476ec7858c64  OK      in 1h\n" +
		"a-name-longer-than-the-first-page-had  366a0c3f-6a06-4c46-8de1-476ec7858c64  OK      in 1h\n"
	if out.String() != want {
		t.Fatalf("streamed table:\n%s\nwant\n%s", out.String(), want)
	}

	// Without page ends (lists that do not page), at most sizingRows rows
	// are held.
	l = p.List(tokenKind).(*tableList)
	for i := range sizingRows + 10 {
		add(fmt.Sprint(i))
		if len(l.pending) >= sizingRows {
			t.Fatalf("%d rows held", len(l.pending))
		}
	}
}

func TestEmptyTableSaysSoOnStderr(t *testing.T) {
	out, errOut := run(t, Options{}, false, list())
	if out != "" || errOut != "No tokens found.\n" {
		t.Fatalf("out %q err %q", out, errOut)
	}
}

func TestObjectTable(t *testing.T) {
	out, _ := run(t, Options{Now: func() time.Time { return now }}, false, func(p *Printer) error {
		return p.Object(json.RawMessage(tokens[0]), tokenKind)
	})
	if !strings.HasPrefix(out, "NAME     ID ") || strings.Count(out, "\n") != 2 {
		t.Fatalf("object table:\n%s", out)
	}
}

func TestKeyValuesEscapesValues(t *testing.T) {
	var b bytes.Buffer
	if err := KeyValues(&b, [][2]string{{"name", "a\x1b[31m\nb"}, {"credentials", "ok"}, {"empty", ""}}); err != nil {
		t.Fatal(err)
	}
	want := "name:        a\\x1b[31m\\nb\ncredentials: ok\nempty:\n"
	if b.String() != want {
		t.Fatalf("%q, want %q", b.String(), want)
	}
}

func TestRelativeAndDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 45 * time.Second: "45s", 12*time.Minute + 59*time.Second: "12m", time.Hour: "1h",
		3*time.Hour + 5*time.Minute: "3h5m", 30 * time.Hour: "30h", 76 * time.Hour: "3d4h",
		143 * 24 * time.Hour: "143d", 3 * 365 * 24 * time.Hour: "3y",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
	if got := Relative(now.Add(12*time.Minute), now); got != "in 12m" {
		t.Errorf("future: %q", got)
	}
	if got := Relative(now.Add(-3*time.Minute), now); got != "3m ago" {
		t.Errorf("past: %q", got)
	}
}
