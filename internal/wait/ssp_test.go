package wait_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/ssp"
	"github.com/tokenctl/tokenctl/internal/wait"
)

const passphrase = "Wait-Test-Passphrase-1!"

// fleet is a sandbox whose clock stands still unless the wait's clock moves
// it: every sleep of the loop advances the sandbox clock instead, so the
// lifecycle of installs follows the rounds, never the wall clock.
type fleet struct {
	t        testing.TB
	srv      *sandbox.Server
	url      string
	sc       *ssp.Client
	requests atomic.Int64
	now      time.Time
}

func newFleet(t testing.TB, faults sim.LCMFaults) *fleet {
	t.Helper()
	fl := &fleet{t: t, now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	srv, err := sandbox.New(sandbox.Options{Options: sim.Options{Seed: 1, LCMStep: time.Second, LCMFaults: faults, Now: func() time.Time { return fl.now }}})
	if err != nil {
		t.Fatal(err)
	}
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/_sandbox/") {
			fl.requests.Add(1)
		}
		srv.Handler().ServeHTTP(w, r)
	})
	hs := httptest.NewServer(counted)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c, err := client.New(client.Options{BaseURL: hs.URL}, &client.BasicAuth{Username: "admin", Password: "tokenctl-sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	fl.srv, fl.url, fl.sc = srv, hs.URL, ssp.New(c)
	return fl
}

// Now and Sleep make the fleet the wait's clock.
func (fl *fleet) Now() time.Time { return fl.now }
func (fl *fleet) Sleep(ctx context.Context, d time.Duration) error {
	env := fl.srv.Env()
	env.Lock()
	fl.now = fl.now.Add(d)
	env.Unlock()
	return ctx.Err()
}

func (fl *fleet) baremetalToken(n int64) string {
	fl.t.Helper()
	raw, err := fl.sc.CreateBaremetalToken(context.Background(), &ssp.BaremetalTokenRequest{DisplayName: "pool", AllowedInstanceCount: &n, Passphrase: passphrase})
	if err != nil {
		fl.t.Fatal(err)
	}
	var tok ssp.TokenInfo
	json.Unmarshal(raw, &tok)
	return tok.ID
}

func (fl *fleet) register(tokenID, host string) {
	fl.t.Helper()
	body, _ := json.Marshal(map[string]string{"token_id": tokenID, "passphrase": passphrase, "hostname": host})
	resp, err := http.Post(fl.url+"/_sandbox/ssp/register", "application/json", bytes.NewReader(body))
	if err != nil {
		fl.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		fl.t.Fatalf("register %s: HTTP %d", host, resp.StatusCode)
	}
}

// TestRoundCostDoesNotGrowWithHosts: a round of the baremetal source costs
// the same calls for 1 host as for 20 (the token's status, one list page,
// one status-detail page), and the same for 20 hosts among 50 other
// servers of other tokens.
func TestRoundCostDoesNotGrowWithHosts(t *testing.T) {
	fl := newFleet(t, sim.LCMFaults{})
	calls := map[int]int64{}
	for _, n := range []int{1, 20} {
		id := fl.baremetalToken(int64(n))
		for i := range n {
			fl.register(id, fmt.Sprintf("n%d-host-%02d", n, i))
		}
		fl.Sleep(context.Background(), 5*time.Second)
		for _, cond := range []string{wait.Registered, wait.Healthy} {
			before := fl.requests.Load()
			snap, err := (&wait.Baremetal{Client: fl.sc, TokenID: id}).Round(context.Background(), cond)
			if err != nil {
				t.Fatal(err)
			}
			got := fl.requests.Load() - before
			if len(snap.Hosts) != n {
				t.Fatalf("%d hosts seen, want %d", len(snap.Hosts), n)
			}
			for _, h := range snap.Hosts {
				if !h.Healthy || !h.Registered {
					t.Errorf("host %s not healthy: %+v", h.Label(), h)
				}
			}
			if prev, ok := calls[0]; ok && prev != got {
				t.Errorf("%s round with %d hosts: %d calls, with 1 host: %d", cond, n, got, prev)
			}
			calls[0] = got
		}
	}
	if calls[0] != 3 {
		t.Errorf("a round costs %d calls, want 3 (status, list, details)", calls[0])
	}
	before := fl.requests.Load()
	if _, err := (&wait.Baremetal{Client: fl.sc, TokenID: fl.baremetalToken(1)}).Round(context.Background(), wait.Used); err != nil {
		t.Fatal(err)
	}
	if got := fl.requests.Load() - before - 1; got != 1 { // less the create
		t.Errorf("a used round costs %d calls, want 1 (status)", got)
	}
}

func TestBaremetalReachesHealthy(t *testing.T) {
	fl := newFleet(t, sim.LCMFaults{})
	id := fl.baremetalToken(2)
	var lines []string
	// The hosts register while the wait runs: the first after round 1.
	rounds := 0
	res, err := wait.Run(context.Background(), &registering{Source: &wait.Baremetal{Client: fl.sc, TokenID: id}, fl: fl, id: id, at: map[int]string{1: "web-01", 2: "web-02"}, rounds: &rounds},
		wait.Options{Condition: wait.Healthy, Count: 2, Interval: time.Second, Timeout: time.Minute, Clock: fl,
			OnRound: func(p wait.Progress) { lines = append(lines, p.String()) }})
	if err != nil || res.Outcome != wait.Reached || len(res.Reached) != 2 {
		t.Fatalf("outcome %v, %d reached, %v\n%s", res.Outcome, len(res.Reached), err, strings.Join(lines, "\n"))
	}
	if lines[0] != "0/2 healthy" || !strings.Contains(strings.Join(lines, "\n"), "installing") {
		t.Errorf("progress:\n%s", strings.Join(lines, "\n"))
	}
}

// registering registers hosts before given rounds, as hosts running the
// install script during a wait.
type registering struct {
	wait.Source
	fl     *fleet
	id     string
	at     map[int]string
	rounds *int
}

func (r *registering) Round(ctx context.Context, cond string) (wait.Snapshot, error) {
	*r.rounds++
	snap, err := r.Source.Round(ctx, cond)
	if host, ok := r.at[*r.rounds]; ok {
		r.fl.register(r.id, host)
	}
	return snap, err
}

func TestBaremetalFailedInstallMakesCountUnreachable(t *testing.T) {
	fl := newFleet(t, sim.LCMFaults{FailHosts: "^web-02$"})
	id := fl.baremetalToken(2)
	fl.register(id, "web-01")
	fl.register(id, "web-02")
	res, err := wait.Run(context.Background(), &wait.Baremetal{Client: fl.sc, TokenID: id},
		wait.Options{Condition: wait.Healthy, Count: 2, Interval: time.Second, Timeout: time.Minute, Clock: fl})
	if err != nil || res.Outcome != wait.Unreachable {
		t.Fatalf("outcome %v, %v (%+v)", res.Outcome, err, res)
	}
	if len(res.Failed) != 1 || res.Failed[0].DisplayName != "web-02" || res.Failed[0].LCMError == "" || len(res.Reached) != 1 {
		t.Fatalf("failed %+v reached %+v", res.Failed, res.Reached)
	}
	if !strings.Contains(res.Reason, "1 host(s) failed") {
		t.Errorf("reason %q", res.Reason)
	}
}

func TestBaremetalExpiredToken(t *testing.T) {
	fl := newFleet(t, sim.LCMFaults{})
	id := fl.baremetalToken(3)
	fl.register(id, "web-01")
	fl.Sleep(context.Background(), 31*time.Minute)
	res, err := wait.Run(context.Background(), &wait.Baremetal{Client: fl.sc, TokenID: id},
		wait.Options{Condition: wait.Registered, Count: 2, Interval: time.Second, Timeout: time.Minute, Clock: fl})
	if err != nil || res.Outcome != wait.Unreachable || res.TokenStatus != "EXPIRED" || len(res.Reached) != 1 {
		t.Fatalf("outcome %v, %v (%+v)", res.Outcome, err, res)
	}
}

func TestBaremetalTimeout(t *testing.T) {
	fl := newFleet(t, sim.LCMFaults{})
	id := fl.baremetalToken(2)
	fl.register(id, "web-01")
	res, err := wait.Run(context.Background(), &wait.Baremetal{Client: fl.sc, TokenID: id},
		wait.Options{Condition: wait.Healthy, Count: 2, Interval: time.Second, Timeout: 20 * time.Second, Clock: fl})
	if err != nil || res.Outcome != wait.TimedOut || len(res.Reached) != 1 {
		t.Fatalf("outcome %v, %v (%+v)", res.Outcome, err, res)
	}
}

func TestMissingTokenEndsAtOnce(t *testing.T) {
	fl := newFleet(t, sim.LCMFaults{})
	_, err := wait.Run(context.Background(), &wait.Baremetal{Client: fl.sc, TokenID: "11111111-2222-4333-8444-555555555555"},
		wait.Options{Condition: wait.Registered, Clock: fl})
	if exit.CodeOf(err) != exit.NotFound {
		t.Fatalf("err %v, want exit 4", err)
	}
}

func TestSensorReachesHealthy(t *testing.T) {
	fl := newFleet(t, sim.LCMFaults{})
	n := int64(2)
	raw, err := fl.sc.CreateSensorToken(context.Background(), &ssp.SensorTokenRequest{DisplayName: "sensors", AllowedInstanceCount: &n, Passphrase: passphrase})
	if err != nil {
		t.Fatal(err)
	}
	var tok ssp.TokenInfo
	json.Unmarshal(raw, &tok)
	fl.register(tok.ID, "sensor-a")
	fl.register(tok.ID, "sensor-b")
	src := &wait.Sensor{Client: fl.sc, TokenID: tok.ID}
	snap, err := src.Round(context.Background(), wait.Registered)
	if err != nil || len(snap.Hosts) != 2 || snap.Hosts[0].Registered {
		t.Fatalf("before the registration steps: %+v %v", snap, err)
	}
	res, err := wait.Run(context.Background(), src, wait.Options{Condition: wait.Healthy, Count: 2, Interval: time.Second, Timeout: time.Minute, Clock: fl})
	if err != nil || res.Outcome != wait.Reached || len(res.Reached) != 2 {
		t.Fatalf("outcome %v, %v (%+v)", res.Outcome, err, res)
	}
	res, err = wait.Run(context.Background(), src, wait.Options{Condition: wait.Used, Clock: fl})
	if err != nil || res.Outcome != wait.Reached || res.TokenStatus != "USED" {
		t.Fatalf("used: %v %v (%+v)", res.Outcome, err, res)
	}
}

// BenchmarkBaremetalRound measures one round of `token wait --for healthy`
// against the in-process sandbox with 1 and with 200 healthy hosts: the
// requests per round stay 3; the time grows only with the bytes the two
// list pages carry. (Client and sandbox share the process, so ns/op counts
// both.)
func BenchmarkBaremetalRound(b *testing.B) {
	for _, n := range []int{1, 200} {
		b.Run(fmt.Sprintf("hosts=%d", n), func(b *testing.B) {
			fl := newFleet(b, sim.LCMFaults{})
			id := benchToken(b, fl, n)
			src := &wait.Baremetal{Client: fl.sc, TokenID: id}
			start := fl.requests.Load()
			b.ResetTimer()
			for range b.N {
				snap, err := src.Round(context.Background(), wait.Healthy)
				if err != nil || len(snap.Hosts) != n {
					b.Fatalf("%d hosts, %v", len(snap.Hosts), err)
				}
			}
			b.ReportMetric(float64(fl.requests.Load()-start)/float64(b.N), "requests/round")
		})
	}
}

func benchToken(b *testing.B, fl *fleet, n int) string {
	count := int64(n)
	raw, err := fl.sc.CreateBaremetalToken(context.Background(), &ssp.BaremetalTokenRequest{DisplayName: "bench", AllowedInstanceCount: &count, Passphrase: passphrase})
	if err != nil {
		b.Fatal(err)
	}
	var tok ssp.TokenInfo
	json.Unmarshal(raw, &tok)
	for i := range n {
		body, _ := json.Marshal(map[string]string{"token_id": tok.ID, "passphrase": passphrase, "hostname": fmt.Sprintf("bench-%03d", i)})
		resp, err := http.Post(fl.url+"/_sandbox/ssp/register", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
	fl.Sleep(context.Background(), time.Minute)
	return tok.ID
}
