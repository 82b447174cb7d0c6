// Command pairtime times two commands in interleaved pairs and prints the
// medians, the median of the per-pair ratios and their spread as a Markdown
// table row. bench/run.sh uses it to compare tokenctl with curl on one
// sandbox in one run: interleaving spreads a busy machine's noise over both
// sides, and medians ignore outliers.
//
//	pairtime -n 15 -label "token get" -key get -json results.jsonl -- tokenctl token get ID -o json -- curl -s -u admin:pw URL
//
// With -json, the row is also appended to a file as one JSON object (every
// pair's times and ratio), which bench/report turns into
// docs/performance.md. Both commands' stdout goes to /dev/null (so neither
// pays for a pipe the other does not); a failing run stops everything with
// its stderr.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tokenctl/tokenctl/bench/internal/pairs"
)

type sample struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	maxRSS int64         // KiB
}

func main() {
	n := flag.Int("n", 15, "number of pairs")
	warmup := flag.Int("warmup", 1, "untimed runs of each command first")
	label := flag.String("label", "", "row label")
	header := flag.Bool("header", false, "print the table header first")
	key := flag.String("key", "", "the row's key in the -json record")
	jsonFile := flag.String("json", "", "append the row as a JSON object to this file")
	flag.Parse()
	a, b, err := split(flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "pairtime:", err)
		os.Exit(2)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pairtime:", err)
		os.Exit(1)
	}
	for range *warmup {
		runOnce(a, devnull)
		runOnce(b, devnull)
	}
	var as, bs []sample
	var ratios, cpuRatios []float64
	for i := range *n {
		var sa, sb sample
		if i%2 == 0 {
			sa, sb = runOnce(a, devnull), runOnce(b, devnull)
		} else {
			sb, sa = runOnce(b, devnull), runOnce(a, devnull)
		}
		as, bs = append(as, sa), append(bs, sb)
		ratios = append(ratios, float64(sa.wall)/float64(sb.wall))
		cpuRatios = append(cpuRatios, float64(sa.cpu)/float64(sb.cpu))
	}
	ma, mb := median(walls(as)), median(walls(bs))
	q1, q3 := quantile(ratios, 0.25), quantile(ratios, 0.75)
	if *header {
		fmt.Println("| measurement | tokenctl (median) | other (median) | ratio of medians | median of pair ratios (IQR) | CPU time ratio (IQR) | tokenctl peak RSS | other peak RSS | pairs |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|")
	}
	fmt.Printf("| %s | %s | %s | %.2f | %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) | %.1f MiB | %.1f MiB | %d |\n", *label, round(ma), round(mb),
		float64(ma)/float64(mb), medianF(ratios), q1, q3, medianF(cpuRatios), quantile(cpuRatios, 0.25), quantile(cpuRatios, 0.75),
		float64(maxRSS(as))/1024, float64(maxRSS(bs))/1024, *n)
	if *jsonFile != "" {
		rec := Record{
			Key: *key, Label: *label, Pairs: *n,
			A: side(a, as), B: side(b, bs),
			Ratios: ratios, RatioOfMedians: float64(ma) / float64(mb), MedianRatio: medianF(ratios),
			Q1: q1, Q3: q3, Min: slices.Min(ratios), Max: slices.Max(ratios),
			CPURatios: cpuRatios, CPUMedianRatio: medianF(cpuRatios),
			CPUQ1: quantile(cpuRatios, 0.25), CPUQ3: quantile(cpuRatios, 0.75),
		}
		if err := appendJSON(*jsonFile, rec); err != nil {
			fmt.Fprintln(os.Stderr, "pairtime:", err)
			os.Exit(1)
		}
	}
}

// Record and Side are the row bench/report reads.
type (
	Record = pairs.Record
	Side   = pairs.Side
)

func side(argv []string, s []sample) Side {
	cpus := make([]time.Duration, len(s))
	for i, x := range s {
		cpus[i] = x.cpu
	}
	return Side{Command: argv, Walls: walls(s), Median: median(walls(s)), CPU: cpus, CPUMed: median(cpus), MaxRSSKi: maxRSS(s)}
}

func appendJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// quantile is the q-quantile of f with linear interpolation between
// closest ranks (q 0.5 is the median).
func quantile(f []float64, q float64) float64 {
	s := slices.Clone(f)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

// split cuts "A... -- B..." (flag.Parse has taken the first "--") into the
// two command lines.
func split(args []string) ([]string, []string, error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	i := slices.Index(args, "--")
	if i <= 0 || i == len(args)-1 {
		return nil, nil, fmt.Errorf("usage: pairtime [flags] -- COMMAND A... -- COMMAND B...")
	}
	return args[:i], args[i+1:], nil
}

func runOnce(argv []string, stdout *os.File) sample {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = stdout
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pairtime: %s: %v\n%s", strings.Join(argv, " "), err, stderr.String())
		os.Exit(1)
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), maxRSS: rss}
}

func walls(s []sample) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, x := range s {
		out[i] = x.wall
	}
	return out
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianF(f []float64) float64 {
	s := slices.Clone(f)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maxRSS(s []sample) int64 {
	var m int64
	for _, x := range s {
		m = max(m, x.maxRSS)
	}
	return m
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(10 * time.Microsecond).String()
	}
}
