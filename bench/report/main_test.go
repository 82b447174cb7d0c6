package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeResults(t *testing.T, recs ...Record) string {
	t.Helper()
	dir := t.TempDir()
	var rows []byte
	for _, r := range recs {
		b, _ := json.Marshal(r)
		rows = append(append(rows, b...), '\n')
	}
	files := map[string]string{
		"rows.jsonl": string(rows),
		"facts.env": "load_start=3.10 2.00 1.00\ndate=2026-11-30 07:00 UTC\ncpus=2\ncpu_model=AMD EPYC\nmemory=23.5 GiB\n" +
			"kernel=Linux 6.18\ngo=go1.26.8\ncurl=curl 7.88.1\ncommit=abc1234\nsize_dev=24238096\nsize_release=17125538\nload_end=1.00 1.00 1.00\n",
		"inittrace.txt": "init internal/bytealg @0 ms, 0.01 ms clock, 0 bytes, 0 allocs\ninit runtime @0.01 ms, 0.10 ms clock, 0 bytes, 0 allocs\ninit a/b @1 ms, 1.00 ms clock, 100 bytes, 1 allocs\n" +
			"init internal/bytealg @0 ms, 0.01 ms clock, 0 bytes, 0 allocs\ninit runtime @0.01 ms, 0.30 ms clock, 0 bytes, 0 allocs\ninit a/b @1 ms, 3.00 ms clock, 100 bytes, 1 allocs\n" +
			"init internal/bytealg @0 ms, 0.01 ms clock, 0 bytes, 0 allocs\ninit runtime @0.01 ms, 0.20 ms clock, 0 bytes, 0 allocs\ninit a/b @1 ms, 2.00 ms clock, 100 bytes, 1 allocs\n",
		"gobench.txt": "BenchmarkEachItem-2   	      20	    700000 ns/op	3600.00 MB/s	       0 B/op	       0 allocs/op\nok  	x	1.0s\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func rec(key string, a, b time.Duration, rssKiB int64, ratio float64) Record {
	return Record{Key: key, Label: "label of " + key, Pairs: 3, A: Side{Median: a, MaxRSSKi: rssKiB}, B: Side{Median: b},
		Ratios: []float64{ratio}, MedianRatio: ratio, Q1: ratio - 0.01, Q3: ratio + 0.01, RatioOfMedians: ratio}
}

func withCPU(r Record, ratio float64) Record {
	r.CPURatios, r.CPUMedianRatio, r.CPUQ1, r.CPUQ3 = []float64{ratio}, ratio, ratio-0.01, ratio+0.01
	return r
}

// TestRenderThePage renders the real template from a small run: targets
// are judged within 5%, a row the run did not measure says so, the
// previous page's figures are compared, and the page carries its own.
func TestRenderThePage(t *testing.T) {
	dir := writeResults(t,
		withCPU(rec("get", 8*time.Millisecond, 10*time.Millisecond, 14*1024, 0.80), 0.70),
		rec("version", 6*time.Millisecond, 10*time.Millisecond, 12*1024, 0.62), // within 5% of 0.6
		rec("list_json", 1800*time.Millisecond, 1500*time.Millisecond, 33*1024, 1.2),
		rec("list_table", 3000*time.Millisecond, 1500*time.Millisecond, 50*1024, 2.0),
		rec("list_id", 1900*time.Millisecond, 1500*time.Millisecond, 34*1024, 1.27),
		rec("vs_json_id", 1900*time.Millisecond, 1800*time.Millisecond, 34*1024, 1.04),
	)
	d, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.Prev = PreviousFigures([]byte("old text\n" + `<!-- bench-figures {"get":{"ratio":1.03,"a_ms":13.1,"b_ms":12.7,"a_rss_mib":0}} -->` + "\n"))
	page, err := Render("../performance.md.tmpl", d)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{
		"**0.80 (0.79–0.81)** | 0.70 (0.69–0.71) | ≤ 0.85 ✓", // with the CPU time ratio
		"**0.62 (0.61–0.63)** | — | ≤ 0.6 ✓",                 // without
		"`sensor list -o jsonl` | not in this build",
		"≤ 1.5× `-o json`: 1.67× (medians of the two rows) ✗", // table time, no pairs of its own
		"≤ 1.0× `-o json`: 1.04 (1.03–1.05) ✓",                // -o id, from its pairs with -o json
		"| `-o id` | 1.90 s | 1.80 s | **1.04 (1.03–1.05)** | 34.0 MiB / 0.0 MiB |",
		"≤ 1.3× `-o json`: 1.52× ✗",                      // table memory
		"at the start: **3.10 2.00 1.00**",               // the load
		"median of 3 runs): **2.21 ms** over 3 packages", // inittrace: median of the totals 1.11, 3.31, 2.21
		"| `a/b` | 2.000 ms |",
		"| label of get | 1.03 (13.1 ms) | 0.80 (8.0 ms, 14.0 MiB) | -22% |",
		"3600 MB/s",
		"16.3 MiB (17,125,538 bytes)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(s, "<no value>") {
		t.Errorf("the page shows a missing value:\n%s", s)
	}
	figs := PreviousFigures(page)
	if len(figs) != 6 || figs["version"].Ratio != 0.62 || figs["list_table"].ARSSMi != 50 {
		t.Errorf("the page's own figures: %+v", figs)
	}
}

func TestPreviousFiguresOfAPageWithout(t *testing.T) {
	if f := PreviousFigures([]byte("# Performance\nno figures\n")); len(f) != 0 {
		t.Fatalf("figures from nothing: %v", f)
	}
	if f := PreviousFigures([]byte("<!-- bench-figures {broken -->")); len(f) != 0 {
		t.Fatalf("figures from a broken comment: %v", f)
	}
}
