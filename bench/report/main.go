// Command report writes docs/performance.md from one bench/run.sh run: the
// rows pairtime recorded, the facts of the machine, package-init trace, Go
// benchmarks, fault run and fuzzing, through the template
// bench/performance.md.tmpl. The figures of the page it replaces (kept in a
// comment at its end) are the "previous" ones the page compares with
// (-previous names another page, to render a run again after the page was
// replaced).
//
//	go run ./bench/report -results bench/results/run-X -template bench/performance.md.tmpl -o docs/performance.md
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/tokenctl/tokenctl/bench/internal/pairs"
)

func main() {
	results := flag.String("results", "", "the run's results directory (bench/run.sh writes it)")
	tmpl := flag.String("template", "bench/performance.md.tmpl", "the page's template")
	out := flag.String("o", "docs/performance.md", "the page to write")
	previous := flag.String("previous", "", "the page whose figures are the previous ones (default: -o's)")
	flag.Parse()
	if *previous == "" {
		*previous = *out
	}
	if *results == "" {
		fmt.Fprintln(os.Stderr, "usage: report -results DIR [-template FILE] [-o FILE]")
		os.Exit(2)
	}
	if err := run(*results, *tmpl, *previous, *out); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(results, tmplPath, previous, out string) error {
	d, err := Load(results)
	if err != nil {
		return err
	}
	prev, err := os.ReadFile(previous)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	d.Prev = PreviousFigures(prev)
	page, err := Render(tmplPath, d)
	if err != nil {
		return err
	}
	return os.WriteFile(out, page, 0o644)
}

// Record and Side are bench/pairtime's rows.
type (
	Record = pairs.Record
	Side   = pairs.Side
)

// Figure is what the page keeps of a row for the next run to compare.
type Figure struct {
	Ratio  float64 `json:"ratio"`
	AMs    float64 `json:"a_ms"`
	BMs    float64 `json:"b_ms"`
	ARSSMi float64 `json:"a_rss_mib"`
}

// Init is the package initialisation of `tokenctl version`.
type Init struct {
	Runs     int
	TotalMs  float64
	Bytes    int64
	Packages int
	Top      []InitLine // by time, largest first
}

// InitLine is one package's init.
type InitLine struct {
	Package string
	Ms      float64
	Bytes   int64
	Allocs  int64
}

// Bench is one Go benchmark result.
type Bench struct {
	NsPerOp     float64
	MBPerS      float64
	BytesPerOp  float64
	AllocsPerOp float64
}

// Fuzz is one fuzz target's result.
type Fuzz struct {
	Name, Package, Result, Execs string
}

// Data is what the template sees.
type Data struct {
	Facts   map[string]string
	Rows    map[string]*Record
	Prev    map[string]Figure
	Init    Init
	GoBench map[string]Bench
	Fault   []string
	Fuzz    []Fuzz
	// Perf is bench/perfsplit's summary of each profile (perf-NAME.txt).
	Perf map[string]string
}

// Load reads a results directory: rows.jsonl, facts.env, inittrace.txt,
// gobench.txt, fault.txt and fuzz.txt (all but the first two optional).
func Load(dir string) (*Data, error) {
	d := &Data{Facts: map[string]string{}, Rows: map[string]*Record{}, GoBench: map[string]Bench{}, Perf: map[string]string{}}
	rows, err := os.ReadFile(filepath.Join(dir, "rows.jsonl"))
	if err != nil {
		return nil, err
	}
	for i, line := range bytes.Split(rows, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		r := &Record{}
		if err := json.Unmarshal(line, r); err != nil {
			return nil, fmt.Errorf("rows.jsonl line %d: %v", i+1, err)
		}
		d.Rows[r.Key] = r
	}
	facts, err := os.ReadFile(filepath.Join(dir, "facts.env"))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(facts), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			d.Facts[k] = v
		}
	}
	if b, err := optional(dir, "inittrace.txt"); err != nil {
		return nil, err
	} else {
		d.Init = ParseInitTrace(b)
	}
	if b, err := optional(dir, "gobench.txt"); err != nil {
		return nil, err
	} else {
		d.GoBench = ParseGoBench(b)
	}
	if b, err := optional(dir, "fault.txt"); err != nil {
		return nil, err
	} else {
		d.Fault = nonEmptyLines(b)
	}
	if b, err := optional(dir, "fuzz.txt"); err != nil {
		return nil, err
	} else {
		for _, line := range nonEmptyLines(b) {
			f := strings.SplitN(line, " ", 4)
			if len(f) == 4 {
				d.Fuzz = append(d.Fuzz, Fuzz{Name: f[0], Package: f[1], Result: f[2], Execs: f[3]})
			}
		}
	}
	perfs, err := filepath.Glob(filepath.Join(dir, "perf-*.txt"))
	if err != nil {
		return nil, err
	}
	for _, p := range perfs {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(p), "perf-"), ".txt")
		d.Perf[name] = strings.TrimRight(string(b), "\n")
	}
	return d, nil
}

func optional(dir, name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func nonEmptyLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// initLine is GODEBUG=inittrace=1's line:
// init PKG @0.5 ms, 0.12 ms clock, 1234 bytes, 5 allocs
var initLine = regexp.MustCompile(`^init (\S+) @\S+ ms, ([0-9.]+) ms clock, (\d+) bytes, (\d+) allocs`)

// ParseInitTrace reads the GODEBUG=inittrace=1 output of one or more runs
// (each starts again at the runtime's init) and keeps, per package, the
// median over the runs; the total is the median of the runs' totals. The
// ten slowest packages are kept.
func ParseInitTrace(b []byte) Init {
	var runs []map[string]InitLine
	var order []string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		m := initLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ms, _ := strconv.ParseFloat(m[2], 64)
		bytes, _ := strconv.ParseInt(m[3], 10, 64)
		allocs, _ := strconv.ParseInt(m[4], 10, 64)
		// A package seen again starts the next run.
		if len(runs) == 0 {
			runs = append(runs, map[string]InitLine{})
		} else if _, again := runs[len(runs)-1][m[1]]; again {
			runs = append(runs, map[string]InitLine{})
		}
		runs[len(runs)-1][m[1]] = InitLine{Package: m[1], Ms: ms, Bytes: bytes, Allocs: allocs}
		if !seen[m[1]] {
			seen[m[1]] = true
			order = append(order, m[1])
		}
	}
	var in Init
	if len(runs) == 0 {
		return in
	}
	var totals []float64
	for _, r := range runs {
		t := 0.0
		for _, l := range r {
			t += l.Ms
		}
		totals = append(totals, t)
	}
	in.TotalMs = medianOf(totals)
	in.Runs = len(runs)
	for _, pkg := range order {
		var times []float64
		var line InitLine
		for _, r := range runs {
			if l, ok := r[pkg]; ok {
				times = append(times, l.Ms)
				line = l
			}
		}
		line.Ms = medianOf(times)
		in.Packages++
		in.Bytes += line.Bytes
		in.Top = append(in.Top, line)
	}
	sort.SliceStable(in.Top, func(i, j int) bool { return in.Top[i].Ms > in.Top[j].Ms })
	if len(in.Top) > 10 {
		in.Top = in.Top[:10]
	}
	return in
}

func medianOf(f []float64) float64 {
	s := slices.Clone(f)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// ParseGoBench reads `go test -bench` lines; names lose their -N suffix.
func ParseGoBench(b []byte) map[string]Bench {
	out := map[string]Bench{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		var bm Bench
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				bm.NsPerOp = v
			case "MB/s":
				bm.MBPerS = v
			case "B/op":
				bm.BytesPerOp = v
			case "allocs/op":
				bm.AllocsPerOp = v
			}
		}
		out[name] = bm
	}
	return out
}

// figuresMark starts the comment that carries a page's figures.
const figuresMark = "<!-- bench-figures "

// PreviousFigures reads the figures a page carries at its end.
func PreviousFigures(page []byte) map[string]Figure {
	i := bytes.LastIndex(page, []byte(figuresMark))
	if i < 0 {
		return map[string]Figure{}
	}
	rest := page[i+len(figuresMark):]
	j := bytes.Index(rest, []byte(" -->"))
	if j < 0 {
		return map[string]Figure{}
	}
	figs := map[string]Figure{}
	if err := json.Unmarshal(rest[:j], &figs); err != nil {
		return map[string]Figure{}
	}
	return figs
}

// Figures is the comment a page ends with.
func Figures(rows map[string]*Record) string {
	figs := map[string]Figure{}
	for k, r := range rows {
		figs[k] = Figure{Ratio: round3(r.MedianRatio), AMs: round2(ms(r.A.Median)), BMs: round2(ms(r.B.Median)), ARSSMi: round2(float64(r.A.MaxRSSKi) / 1024)}
	}
	b, _ := json.Marshal(figs) // sorted keys
	return figuresMark + string(b) + " -->"
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Render fills the template.
func Render(tmplPath string, d *Data) ([]byte, error) {
	// A fact the template names and the run did not record is an error,
	// not "<no value>" on the page.
	t, err := template.New(filepath.Base(tmplPath)).Option("missingkey=error").Funcs(funcs(d)).ParseFiles(tmplPath)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, d); err != nil {
		return nil, err
	}
	buf.WriteString("\n" + Figures(d.Rows) + "\n")
	return buf.Bytes(), nil
}

// within is how far over a target a figure may be and still meet it.
const within = 1.05

func funcs(d *Data) template.FuncMap {
	return template.FuncMap{
		// row KEY: the row, or nil when the run did not measure it.
		"row": func(k string) *Record { return d.Rows[k] },
		// prev KEY: the previous page's figure, or nil.
		"prev": func(k string) *Figure {
			if f, ok := d.Prev[k]; ok {
				return &f
			}
			return nil
		},
		"ms": func(t time.Duration) string { return fmtDuration(t) },
		"f2": func(f float64) string { return fmt.Sprintf("%.2f", f) },
		// r F: a ratio, with a third decimal below 0.1.
		"r": fmtRatio,
		// msf F: milliseconds as a duration is shown.
		"msf": func(f float64) string { return fmtDuration(time.Duration(f * float64(time.Millisecond))) },
		"f1":  func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"mib": func(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) },
		// ratio R: "0.82 (0.79–0.86)", the median of pair ratios and its IQR.
		"ratio": func(r *Record) string {
			return fmt.Sprintf("%s (%s–%s)", fmtRatio(r.MedianRatio), fmtRatio(r.Q1), fmtRatio(r.Q3))
		},
		// cpu R: the same for CPU time (user + system), "—" when not recorded.
		"cpu": func(r *Record) string {
			if len(r.CPURatios) == 0 {
				return "—"
			}
			return fmt.Sprintf("%s (%s–%s)", fmtRatio(r.CPUMedianRatio), fmtRatio(r.CPUQ1), fmtRatio(r.CPUQ3))
		},
		// meets V TARGET: ✓ when V is at most TARGET, within 5%.
		"meets": func(v, target float64) string {
			if v <= target*within {
				return "✓"
			}
			return "✗"
		},
		// div A B: A/B of two durations or sizes.
		"div": func(a, b any) float64 { return toF(a) / toF(b) },
		"times": func(f float64) string {
			if f >= 10 {
				return fmt.Sprintf("%.0f×", f)
			}
			return fmt.Sprintf("%.1f×", f)
		},
		"bench": func(name string) *Bench {
			if b, ok := d.GoBench[name]; ok {
				return &b
			}
			return nil
		},
		"commas": commas,
		"join":   strings.Join,
		"cmd": func(argv []string) string {
			return strings.Join(argv, " ")
		},
		"moved": func(now, before float64) string {
			if before == 0 {
				return ""
			}
			return fmt.Sprintf("%+.0f%%", (now/before-1)*100)
		},
		"why": func(pkg string) string {
			for _, w := range linkedBy {
				if strings.HasPrefix(pkg, w[0]) {
					return w[1]
				}
			}
			if !strings.Contains(strings.SplitN(pkg, "/", 2)[0], ".") {
				return "standard library"
			}
			return ""
		},
		"mibBytes": func(s string) string {
			n, _ := strconv.ParseFloat(s, 64)
			return fmt.Sprintf("%.1f MiB", n/(1<<20))
		},
		"atoi": func(s string) int { n, _ := strconv.Atoi(s); return n },
		"msOf": func(ns float64) float64 { return ns / 1e6 },
		// vsjson F TARGET: a list format's time against -o json, from its own
		// pairs (vs_json_F) or else from the two rows' medians.
		"vsjson": func(f string, target float64) map[string]any {
			m := map[string]any{"Target": target, "Pair": d.Rows["vs_json_"+f], "Cross": 0.0}
			if m["Pair"] == (*Record)(nil) {
				m["Pair"] = nil
				key := "list_" + f
				if f == "table" {
					key = "list_table"
				}
				if a, b := d.Rows[key], d.Rows["list_json"]; a != nil && b != nil {
					m["Cross"] = float64(a.A.Median) / float64(b.A.Median)
				}
			}
			return m
		},
		"list": func(s ...string) []string { return s },
		"sortedKeys": func() []string {
			keys := make([]string, 0, len(d.Rows))
			for k := range d.Rows {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			return keys
		},
	}
}

// linkedBy says why a package with a costly init is in the binary (import
// path prefix, reason).
var linkedBy = [][2]string{
	{"github.com/itchyny/gojq", "gojq (`--jq`)"},
	{"github.com/atotto/clipboard", "huh's text input (prompts; its init looks for xclip, xsel, termux and clip.exe in $PATH)"},
	{"github.com/subosito/gotenv", "viper (its dotenv codec)"},
	{"go.yaml.in/yaml", "viper, manifests, `-o yaml`"},
	{"github.com/go-resty/", "resty (the HTTP client)"},
	{"github.com/mattn/go-runewidth", "huh (prompts)"},
	{"github.com/dustin/go-humanize", "huh (its file picker)"},
	{"charm.land/", "huh (prompts)"},
	{"github.com/charmbracelet/", "huh (prompts)"},
	{"github.com/spf13/", "cobra, viper"},
	{"github.com/tokenctl/", "tokenctl"},
}

func toF(v any) float64 {
	switch x := v.(type) {
	case time.Duration:
		return float64(x)
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case float64:
		return x
	}
	return math.NaN()
}

func fmtRatio(f float64) string {
	if f < 0.1 {
		return fmt.Sprintf("%.3f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0f ms", ms(d))
	default:
		return fmt.Sprintf("%.1f ms", ms(d))
	}
}

func commas(n any) string {
	s := strconv.FormatInt(int64(toF(n)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
