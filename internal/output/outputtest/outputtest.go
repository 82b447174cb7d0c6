// Package outputtest holds what tests of tables share: rendering a list of
// vendor items with a resource's Kind at a fixed clock, width and colour
// setting, and comparing the result with a golden file.
package outputtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/iostreams"
	"github.com/tokenctl/tokenctl/internal/output"
)

var update = flag.Bool("update", false, "rewrite the golden files of table tests")

// Golden compares got with testdata/NAME.golden (go test -update rewrites
// it).
func Golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s\nwant:\n%s", name, got, want)
	}
}

// Items reads a JSON array of vendor items (a fixture in testdata/).
func Items(t *testing.T, name string) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatal(err)
	}
	return items
}

// Render prints items as a list of kind with o (Format defaults to table),
// at the clock now and in UTC, and returns stdout.
func Render(t *testing.T, kind output.Kind, items []json.RawMessage, o output.Options, now time.Time) []byte {
	t.Helper()
	defer func(l *time.Location) { time.Local = l }(time.Local)
	time.Local = time.UTC
	o.Now = func() time.Time { return now }
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	l := output.New(ios, o).List(kind)
	for _, it := range items {
		if err := l.Add(it); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Tables renders the golden files of a table at 60, 80 and 200 columns,
// without and with colour, and -o wide: NAME-60.golden, NAME-60-color.golden,
// ..., NAME-wide.golden.
func Tables(t *testing.T, name string, kind output.Kind, items []json.RawMessage, now time.Time) {
	t.Helper()
	for _, width := range []int{60, 80, 200} {
		for _, color := range []bool{false, true} {
			golden := name + "-" + strconv.Itoa(width)
			if color {
				golden += "-color"
			}
			Golden(t, golden, Render(t, kind, items, output.Options{Width: width, Color: color}, now))
		}
	}
	Golden(t, name+"-wide", Render(t, kind, items, output.Options{Format: output.Wide, Width: 80}, now))
}
