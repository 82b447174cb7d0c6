package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// rateExcess checks request arrival times against a cap of rps requests per
// second with the client's token bucket of one: between the i-th and j-th
// request no more than 1 + rps*(t_j-t_i) may arrive. slack widens every
// interval, for the network and scheduling between the client's pacing and
// the server's clock; it never helps an unpaced client, whose requests come
// in bursts. It returns the worst case found, or "" when the cap held.
func rateExcess(times []time.Time, rps float64, slack time.Duration) string {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	for i := range times {
		for j := i + 1; j < len(times); j++ {
			dt := times[j].Sub(times[i]) + slack
			if allowed := 1 + rps*dt.Seconds(); float64(j-i) > allowed {
				return fmt.Sprintf("%d requests arrived within %s, at most %.1f allowed at %g/s", j-i+1, times[j].Sub(times[i]), allowed+1, rps)
			}
		}
	}
	return ""
}

// timedLog keeps the arrival times of the requests a sandbox received.
type timedLog struct {
	mu    sync.Mutex
	times []time.Time
}

func (l *timedLog) add(r sandbox.RequestRecord) {
	l.mu.Lock()
	l.times = append(l.times, r.Time)
	l.mu.Unlock()
}

func (l *timedLog) take() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.times
	l.times = nil
	return t
}

// TestRPSCapsEveryRequestOfAProcess: --rps (flag, TOKENCTL_RPS, profile) is
// one token bucket for all the concurrent requests of a process: a bulk
// create at concurrency 8, sensor features set batches, and paged lists
// stay under it, by the sandbox's request timestamps (issue 15 item 4). The
// same bulk create without --rps breaks the bound, so the check can fail.
func TestRPSCapsEveryRequestOfAProcess(t *testing.T) {
	log := &timedLog{}
	pe := newProcEnv(t)
	_, url, _ := startProcSandbox(t, sandbox.Options{
		Options:   sim.Options{Seed: 1, SeedSensors: 60},
		StatePath: filepath.Join(pe.Dir, "state.json"),
		OnRequest: log.add,
	})
	pe.Set("SBX_PW", sim.DefaultPassword)
	pe.Set("TOKENCTL_PASSPHRASE", "Rps-Test-Passphrase-1!")
	must := func(stdin string, args ...string) run {
		t.Helper()
		r := pe.Run(t, stdin, args...)
		if r.Code != 0 {
			t.Fatalf("tokenctl %s: exit %d\n%s", strings.Join(args, " "), r.Code, r.Stderr)
		}
		return r
	}
	must("", "profile", "set", "sbx", "--platform", "ssp", "--server", url, "--username", "admin", "--password-env", "SBX_PW")
	manifest := func(prefix string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "---\ndisplay_name: %s-%02d\n", prefix, i)
		}
		path := filepath.Join(pe.Dir, prefix+".yaml")
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const slack = 100 * time.Millisecond

	// The control: unpaced, a bulk create arrives in bursts (checked
	// against 2/s, so that only a machine 5x slower than this bound needs
	// could hide the burst).
	log.take()
	must("", "token", "create", "-f", manifest("free", 24), "--concurrency", "8", "-o", "json")
	if got := log.take(); len(got) != 24 || rateExcess(got, 2, slack) == "" {
		t.Fatalf("without --rps, %d creates kept to 2/s: the check cannot tell", len(got))
	}

	// --rps on the command line.
	must("", "--rps", "10", "token", "create", "-f", manifest("paced", 24), "--concurrency", "8", "-o", "json")
	got := log.take()
	if len(got) != 24 {
		t.Fatalf("%d requests for 24 creates", len(got))
	}
	if e := rateExcess(got, 10, slack); e != "" {
		t.Errorf("--rps 10, bulk create: %s", e)
	}

	// TOKENCTL_RPS, features set: 60 sensors in batches of 25, two calls
	// (IDS, flows) per batch, run concurrently.
	ids := strings.Fields(must("", "sensor", "list", "--all", "-o", "id").Stdout)
	if len(ids) != 60 {
		t.Fatalf("%d sensors", len(ids))
	}
	log.take()
	pe.Set("TOKENCTL_RPS", "8")
	must(strings.Join(ids, "\n"), "sensor", "features", "set", "--ids", "disable", "--flows", "disable", "-")
	if got := log.take(); len(got) < 6 {
		t.Fatalf("features set sent %d requests", len(got))
	} else if e := rateExcess(got, 8, slack); e != "" {
		t.Errorf("TOKENCTL_RPS=8, features set: %s", e)
	}
	pe.Set("TOKENCTL_RPS", "")

	// The profile's rps, a paged list (12 pages).
	must("", "profile", "set", "sbx", "--rps", "12")
	must("", "sensor", "list", "--all", "--page-size", "5", "-o", "id")
	if got := log.take(); len(got) != 12 {
		t.Fatalf("%d requests for a 60-sensor list in pages of 5", len(got))
	} else if e := rateExcess(got, 12, slack); e != "" {
		t.Errorf("profile rps 12, paged list: %s", e)
	}

	// A wait polls as fast as --interval lets it; --rps holds it back.
	r := must("", "token", "create", "--display-name", "waited", "-o", "id")
	id := strings.TrimSpace(r.Stdout)
	log.take()
	w := pe.Run(t, "", "--rps", "5", "token", "wait", id, "--for", "used", "--interval", "1ms", "--wait-timeout", "1500ms")
	if w.Code != 124 {
		t.Fatalf("token wait: exit %d, want 124\n%s", w.Code, w.Stderr)
	}
	if got := log.take(); len(got) < 3 {
		t.Fatalf("token wait polled %d times", len(got))
	} else if e := rateExcess(got, 5, slack); e != "" {
		t.Errorf("--rps 5, token wait: %s", e)
	}

	// Bad values name their source and send nothing.
	for _, c := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--rps", "0", "token", "list"}, "", `--rps "0": must be a positive number`},
		{[]string{"--rps", "lots", "token", "list"}, "", `--rps "lots"`},
		{[]string{"token", "list"}, "TOKENCTL_RPS=-1", `TOKENCTL_RPS "-1"`},
		{[]string{"profile", "set", "sbx", "--rps", "fast"}, "", `--rps: must be a positive number`},
	} {
		env := &procEnv{Dir: pe.Dir, vars: append(pe.Env(), c.env)}
		r := env.Run(t, "", c.args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, c.want) {
			t.Errorf("%v %s: exit %d, %s", c.args, c.env, r.Code, r.Stderr)
		}
	}
	if got := log.take(); len(got) != 0 {
		t.Errorf("bad --rps values sent %d requests", len(got))
	}
}
