// Command perfsplit says where a short Go process spends its time, from a
// `perf record -g` of many runs: before main (runtime start-up, then each
// package's init), in main, and in the runtime's other goroutines and
// threads. bench/run.sh uses it on `tokenctl version` and `token get` to
// show what part of a run tokenctl's own code can still change.
//
//	perf record -e cpu-clock -g -o perf.data -- sh -c 'for i in $(seq 200); do BINARY version; done'
//	perf script -i perf.data -F comm,ip,dso | perfsplit -binary BINARY
//
// The binary must have its symbol table (no -s). perf prints user
// addresses of call chains as offsets into the file; the ELF program
// headers turn them into addresses, and `go tool addr2line` into functions.
// Samples are counted for the binary's own process name only (not the
// shell running the loop); kernel time is counted where the call chain
// that entered the kernel leads.
package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	binary := flag.String("binary", "", "the profiled executable, with symbols")
	top := flag.Int("top", 12, "packages' inits to list")
	flag.Parse()
	if *binary == "" {
		fmt.Fprintln(os.Stderr, "usage: perf script -F comm,ip,dso | perfsplit -binary FILE")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout, *binary, *top); err != nil {
		fmt.Fprintln(os.Stderr, "perfsplit:", err)
		os.Exit(1)
	}
}

// sample is one call chain, leaf first; 0 is a kernel frame.
type sample []uint64

func run(in io.Reader, out io.Writer, binary string, top int) error {
	comm := filepath.Base(binary)
	if len(comm) > 15 { // the kernel's task name
		comm = comm[:15]
	}
	toAddr, err := offsetMapper(binary)
	if err != nil {
		return err
	}
	samples, err := readSamples(in, comm, binary, toAddr)
	if err != nil {
		return err
	}
	if len(samples) == 0 {
		return fmt.Errorf("no samples of %s", comm)
	}
	names, err := symbolize(binary, samples)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	inits := map[string]int{}
	for _, s := range samples {
		cat, pkg := classify(s, names)
		counts[cat]++
		if pkg != "" {
			inits[pkg]++
		}
	}
	n := float64(len(samples))
	fmt.Fprintf(out, "%d samples of %s\n", len(samples), comm)
	for _, cat := range categories {
		fmt.Fprintf(out, "%5.1f%%  %s\n", 100*float64(counts[cat])/n, cat)
	}
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range inits {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v || list[i].v == list[j].v && list[i].k < list[j].k })
	fmt.Fprintf(out, "slowest package inits:\n")
	for i, e := range list {
		if i == top {
			break
		}
		fmt.Fprintf(out, "%5.1f%%  %s\n", 100*float64(e.v)/n, e.k)
	}
	return nil
}

const (
	catStart   = "runtime start-up before any init (schedinit, CPU detection, heap, itabs)"
	catInit    = "package initialisation (all packages)"
	catMain    = "main: the command's own work (flags, config, request, output)"
	catThreads = "other threads and goroutines (new OS threads, scheduler, GC, signals, HTTP connection)"
	catStack   = "goroutine stack growth (copying stacks)"
	catKernel  = "kernel only (exec, page faults and exit with no Go frame)"
)

var categories = []string{catStart, catInit, catMain, catThreads, catStack, catKernel}

var initFunc = regexp.MustCompile(`^(.*?)(?:\.map)?\.init(\.|$)`)

// classify puts a sample in one category; for inits it names the package.
func classify(s sample, names map[uint64]string) (string, string) {
	var fns []string // leaf first, user frames only
	for _, a := range s {
		if a != 0 {
			fns = append(fns, names[a])
		}
	}
	if len(fns) == 0 {
		return catKernel, ""
	}
	for i, f := range fns {
		switch f {
		case "runtime.doInit1":
			if i > 0 {
				if m := initFunc.FindStringSubmatch(fns[i-1]); m != nil {
					return catInit, m[1]
				}
			}
			return catInit, "runtime internals"
		case "main.main":
			return catMain, ""
		case "runtime.morestack", "runtime.newstack", "runtime.copystack":
			return catStack, ""
		}
	}
	root := fns[len(fns)-1]
	if root == "runtime.rt0_go" || root == "_rt0_amd64_linux" || root == "_rt0_amd64" {
		return catStart, ""
	}
	return catThreads, ""
}

// offsetMapper turns a file offset into the address its loadable segment
// maps it to.
func offsetMapper(binary string) (func(uint64) uint64, error) {
	f, err := elf.Open(binary)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var loads []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads = append(loads, p)
		}
	}
	return func(off uint64) uint64 {
		for _, p := range loads {
			if off >= p.Off && off < p.Off+p.Filesz {
				return off - p.Off + p.Vaddr
			}
		}
		return 0
	}, nil
}

func readSamples(in io.Reader, comm, binary string, toAddr func(uint64) uint64) ([]sample, error) {
	var samples []sample
	var cur sample
	keep := false
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	flush := func() {
		if keep {
			samples = append(samples, cur)
		}
		cur, keep = nil, false
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			flush()
			keep = strings.Fields(line)[0] == comm
			continue
		}
		if !keep {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		if !strings.Contains(line, "("+binary+")") && !strings.HasSuffix(line, "/"+filepath.Base(binary)+")") {
			cur = append(cur, 0) // kernel, vdso or another object
			continue
		}
		off, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			continue
		}
		cur = append(cur, toAddr(off))
	}
	flush()
	return samples, sc.Err()
}

func symbolize(binary string, samples []sample) (map[uint64]string, error) {
	set := map[uint64]bool{}
	for _, s := range samples {
		for _, a := range s {
			if a != 0 {
				set[a] = true
			}
		}
	}
	addrs := make([]uint64, 0, len(set))
	for a := range set {
		addrs = append(addrs, a)
	}
	var in bytes.Buffer
	for _, a := range addrs {
		fmt.Fprintf(&in, "%#x\n", a)
	}
	cmd := exec.Command("go", "tool", "addr2line", binary)
	cmd.Stdin = &in
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go tool addr2line: %v", err)
	}
	lines := strings.Split(string(outb), "\n")
	names := make(map[uint64]string, len(addrs))
	for i, a := range addrs {
		if 2*i < len(lines) {
			names[a] = lines[2*i]
		}
	}
	return names, nil
}
