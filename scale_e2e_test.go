package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// rssWrapperEnv makes the test binary a wrapper (see TestMain) that runs the
// command in $TOKENCTL_TEST_RSS_WRAPPER (a JSON array) with its own stdio
// and writes the command's peak RSS in KiB to fd 3.
//
// Why a wrapper: Go starts processes with vfork (CLONE_VM), and at exec
// Linux records the parent's peak RSS as the child's starting maxrss; a
// test process that has read 50 MB of output would report its own peak for
// every later child. The wrapper is a fresh, small process.
const rssWrapperEnv = "TOKENCTL_TEST_RSS_WRAPPER"

func rssWrapper() int {
	var argv []string
	if err := json.Unmarshal([]byte(os.Getenv(rssWrapperEnv)), &argv); err != nil || len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "rss wrapper:", err)
		return 2
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = slices.DeleteFunc(os.Environ(), func(v string) bool { return strings.HasPrefix(v, rssWrapperEnv+"=") })
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, "rss wrapper:", err)
		return 2
	}
	fmt.Fprintf(os.NewFile(3, "rss"), "%d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	return cmd.ProcessState.ExitCode()
}

// runMeasured runs cmd through the wrapper and returns its peak RSS in KiB.
func runMeasured(t *testing.T, cmd *exec.Cmd) (int64, error) {
	t.Helper()
	argv, _ := json.Marshal(append([]string{cmd.Path}, cmd.Args[1:]...))
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.Path, cmd.Args = self, []string{self}
	cmd.Env = append(cmd.Env, rssWrapperEnv+"="+string(argv))
	cmd.ExtraFiles = []*os.File{w}
	runErr := cmd.Run()
	w.Close()
	out, _ := io.ReadAll(r)
	rss, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		t.Fatalf("rss wrapper wrote %q (%v)", out, runErr)
	}
	return rss, runErr
}

// listSensorsRSS runs `sensor list --all -o FORMAT` over n seeded sensors
// and returns how many sensors the output lists, whether their ids are
// distinct and the process's peak RSS in KiB.
func listSensorsRSS(t *testing.T, n int, format string) (items int, distinct bool, maxRSS int64) {
	t.Helper()
	_, url, _ := startProcSandbox(t, sandbox.Options{Options: sim.Options{Seed: 1, SeedSensors: n}})
	pe := newProcEnv(t)
	cmd := exec.Command(filepath.Join(binDir, "tokenctl"), "--server", url, "--platform", "ssp", "sensor", "list", "--all", "-o", format)
	cmd.Env = append(pe.Env(), "TOKENCTL_USERNAME="+sim.AdminUser, "TOKENCTL_PASSWORD="+sim.DefaultPassword, "COLUMNS=100")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	rss, err := runMeasured(t, cmd)
	if err != nil {
		t.Fatalf("sensor list -o %s: %v\n%s", format, err, errb.String())
	}
	ids := outputIDs(t, format, out.Bytes())
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	return len(ids), len(seen) == len(ids), rss
}

// outputIDs reads the sensor ids out of a list printed in format.
func outputIDs(t *testing.T, format string, out []byte) []string {
	t.Helper()
	var ids []string
	switch format {
	case "json":
		var list []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(out, &list); err != nil {
			t.Fatalf("output is not a JSON array: %v", err)
		}
		for _, s := range list {
			ids = append(ids, s.ID)
		}
	case "jsonl":
		for _, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
			var s struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(line, &s); err != nil {
				t.Fatalf("line %d is not a JSON object: %v: %q", len(ids)+1, err, line)
			}
			ids = append(ids, s.ID)
		}
	case "id":
		ids = strings.Fields(string(out))
	case "table":
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if !strings.HasPrefix(lines[0], "NAME ") {
			t.Fatalf("table header %q", lines[0])
		}
		for _, line := range lines[1:] {
			f := strings.Fields(line)
			if len(f) < 2 {
				t.Fatalf("table row %q", line)
			}
			ids = append(ids, f[1])
		}
	}
	return ids
}

// TestSensorListStreamsWithFlatMemory lists 2,000 and 20,000 sensors in
// each list format: every sensor arrives once, and the peak RSS of the
// larger run stays within a few MiB of the smaller one although its output
// is ten times larger (50 MB more as JSON). The table holds its first page
// to size its columns, then streams.
func TestSensorListStreamsWithFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("lists 22,000 sensors in four formats")
	}
	const small, large = 2000, 20000
	for _, format := range []string{"json", "jsonl", "id", "table"} {
		n1, d1, rss1 := listSensorsRSS(t, small, format)
		n2, d2, rss2 := listSensorsRSS(t, large, format)
		if n1 != small || n2 != large || !d1 || !d2 {
			t.Fatalf("-o %s: listed %d (distinct %v) and %d (distinct %v)", format, n1, d1, n2, d2)
		}
		t.Logf("-o %s: peak RSS %d KiB for %d sensors, %d KiB for %d", format, rss1, small, rss2, large)
		if growth := rss2 - rss1; growth > 16<<10 {
			t.Errorf("-o %s: peak RSS grew by %d KiB from %d to %d sensors: the list is not streamed", format, growth, small, large)
		}
	}
}
