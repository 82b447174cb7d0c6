package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// listSensorsRSS runs `sensor list --all -o json` over n seeded sensors and
// returns the parsed output's item count, whether the ids are distinct and
// the process's peak RSS in KiB.
func listSensorsRSS(t *testing.T, n int) (items int, distinct bool, maxRSS int64) {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Options: sim.Options{Seed: 1, SeedSensors: n}})
	if err != nil {
		t.Fatal(err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pe := newProcEnv(t)
	cmd := exec.Command(filepath.Join(binDir, "tokenctl"), "--server", url, "--platform", "ssp", "sensor", "list", "--all", "-o", "json")
	cmd.Env = append(pe.Env(), "TOKENCTL_USERNAME="+sim.AdminUser, "TOKENCTL_PASSWORD="+sim.DefaultPassword)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("sensor list: %v\n%s", err, errb.String())
	}
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out.Bytes(), &list); err != nil {
		t.Fatalf("output is not a JSON array: %v", err)
	}
	seen := make(map[string]bool, len(list))
	for _, s := range list {
		seen[s.ID] = true
	}
	return len(list), len(seen) == len(list), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

// TestSensorListStreamsWithFlatMemory lists 2,000 and 20,000 sensors: every
// sensor arrives once, and the peak RSS of the larger run stays within a
// few MiB of the smaller one although its output is 50 MB larger.
func TestSensorListStreamsWithFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("lists 22,000 sensors")
	}
	const small, large = 2000, 20000
	n1, d1, rss1 := listSensorsRSS(t, small)
	n2, d2, rss2 := listSensorsRSS(t, large)
	if n1 != small || n2 != large || !d1 || !d2 {
		t.Fatalf("listed %d (distinct %v) and %d (distinct %v)", n1, d1, n2, d2)
	}
	t.Logf("peak RSS: %d KiB for %d sensors, %d KiB for %d", rss1, small, rss2, large)
	if growth := rss2 - rss1; growth > 16<<10 {
		t.Errorf("peak RSS grew by %d KiB from %d to %d sensors: the list is not streamed", growth, small, large)
	}
}
