package sensor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/specs"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// featureSandbox serves seeded sensors and records the client's traffic.
func featureSandbox(t *testing.T, user string, n int) (*ssp.Client, *specs.Recorder, []string) {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Options: sim.Options{Seed: 1, SeedSensors: n}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	rec := &specs.Recorder{}
	c, err := client.New(client.Options{BaseURL: hs.URL, Transport: rec}, &client.BasicAuth{Username: user, Password: sim.DefaultPassword})
	if err != nil {
		t.Fatal(err)
	}
	admin, err := client.New(client.Options{BaseURL: hs.URL}, &client.BasicAuth{Username: "admin", Password: sim.DefaultPassword})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	_, err = ssp.New(admin).ListSensors(context.Background(), ssp.ListQuery{}, client.Pager{}, func(raw json.RawMessage) error {
		var s struct{ ID string }
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		ids = append(ids, s.ID)
		return nil
	})
	if err != nil || len(ids) != n {
		t.Fatalf("seeded %d sensors: %v", len(ids), err)
	}
	return ssp.New(c), rec, ids
}

// testFactory gives applyFeatures the streams it writes failures to.
func testFactory() *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	return &cmdutil.Factory{IOStreams: ios}
}

// TestFeaturesSetBatches: 60 ids and two features are sent as 25/25/10, one
// call per feature per batch, in order, and every sensor is reported.
func TestFeaturesSetBatches(t *testing.T) {
	sc, rec, ids := featureSandbox(t, "admin", 60)
	f := testFactory()
	chs := []featureChange{{ssp.FeatureFlows, "enable"}, {ssp.FeatureMPS, "disable"}}
	outcomes, st := applyFeatures(context.Background(), f, sc, ids, chs, 1)
	var got []string
	for _, x := range rec.Exchanges() {
		var body struct {
			SensorIDs []string `json:"sensor_ids"`
		}
		if err := json.Unmarshal(x.RequestBody, &body); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s?%s:%d", x.Request.URL.Path[len("/sensors/feature-config/"):], x.Request.URL.RawQuery, len(body.SensorIDs)))
	}
	want := []string{
		"flow-events?action=enable:25", "malware-prevention-events?action=disable:25",
		"flow-events?action=enable:25", "malware-prevention-events?action=disable:25",
		"flow-events?action=enable:10", "malware-prevention-events?action=disable:10",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("calls\n%v\nwant\n%v", got, want)
	}
	if st.ok != 120 || st.failed != 0 || st.okSensors != 60 || st.calls != 6 || len(outcomes) != 60 {
		t.Fatalf("stats %+v", st)
	}
	for i, o := range outcomes {
		if o.SensorID != ids[i] || !o.OK || len(o.Features) != 2 || o.Features[0].Result != resultSuccessful {
			t.Fatalf("outcome %d: %+v", i, o)
		}
	}
}

// TestFeaturesSetMixed: an unknown sensor is in failed_sensor_ids, so the
// run is partial; repeated ids were dropped before (sensorIDs).
func TestFeaturesSetMixed(t *testing.T) {
	sc, _, ids := featureSandbox(t, "admin", 2)
	f := testFactory()
	unknown := "11111111-2222-4333-8444-555555555555"
	in, ps := sensorIDs([]string{ids[0], strings.ToUpper(ids[0]), unknown, ids[1]})
	if len(ps) != 0 || len(in) != 3 {
		t.Fatalf("ids %v, problems %v", in, ps)
	}
	outcomes, st := applyFeatures(context.Background(), f, sc, in, []featureChange{{ssp.FeatureIDS, "enable_without_pcap"}}, 1)
	if st.ok != 2 || st.failed != 1 || outcomes[1].OK || outcomes[1].Features[0].Result != resultFailed {
		t.Fatalf("stats %+v outcomes %+v", st, outcomes)
	}
}

// TestFeaturesSetStopsOnAuth: a refused call is not repeated for the
// remaining batches; they are reported as not sent, with exit 3.
func TestFeaturesSetStopsOnAuth(t *testing.T) {
	sc, rec, ids := featureSandbox(t, "auditor", 30)
	f := testFactory()
	outcomes, st := applyFeatures(context.Background(), f, sc, ids, []featureChange{{ssp.FeatureFlows, "enable"}, {ssp.FeatureMPS, "enable"}}, 1)
	if n := len(rec.Exchanges()); n != 1 {
		t.Fatalf("%d calls after a 403, want 1", n)
	}
	if st.ok != 0 || st.failed != 60 || st.code != exit.Auth {
		t.Fatalf("stats %+v", st)
	}
	if outcomes[0].Features[0].Result != resultError || outcomes[0].Features[1].Result != resultNotSent || outcomes[29].Features[0].Result != resultNotSent {
		t.Fatalf("outcomes %+v / %+v", outcomes[0], outcomes[29])
	}
}

func TestSensorIDsValidation(t *testing.T) {
	_, ps := sensorIDs([]string{"8c147e21-7410-4f77-a3a6-e7aa6034992f", "nope", "8c147e21-7410-6f77-a3a6-e7aa6034992f"})
	if len(ps) != 1 || !strings.Contains(ps[0].Rule, `"nope"`) || !strings.Contains(ps[0].Rule, `"8c147e21-7410-6f77-a3a6-e7aa6034992f"`) {
		t.Fatalf("problems %v", ps)
	}
}

// TestFeaturesSetConcurrent: with --concurrency 4 the calls overlap. The
// first call is sent alone; the sandbox's request hook then holds the
// next calls until four have arrived (a barrier: calls sent one after
// another would never fill it), and a
// counter around the handler shows that no more than four are ever in
// flight. Every sensor is still reported, features in call order.
func TestFeaturesSetConcurrent(t *testing.T) {
	const concurrency = 4
	var mu sync.Mutex
	arrived := 0
	release := make(chan struct{})
	timedOut := false
	hook := func(r sandbox.RequestRecord) {
		if !strings.HasPrefix(r.Path, "/sensors/feature-config/") {
			return
		}
		mu.Lock()
		arrived++
		n := arrived
		mu.Unlock()
		// The first call goes alone (it finds out whether the credentials
		// work); calls 2 to 5 must then all be in flight together.
		if n == 1 {
			return
		}
		if n == concurrency+1 {
			close(release)
		}
		if n <= concurrency+1 {
			select {
			case <-release:
			case <-time.After(20 * time.Second): // a guard against a hang, not a measurement
				mu.Lock()
				timedOut = true
				mu.Unlock()
			}
		}
	}
	srv, err := sandbox.New(sandbox.Options{Options: sim.Options{Seed: 1, SeedSensors: 100}, OnRequest: hook})
	if err != nil {
		t.Fatal(err)
	}
	var inFlight, maxInFlight atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { hs.Close(); srv.Close() })
	c, err := client.New(client.Options{BaseURL: hs.URL}, &client.BasicAuth{Username: "admin", Password: sim.DefaultPassword})
	if err != nil {
		t.Fatal(err)
	}
	sc := ssp.New(c)
	var ids []string
	_, err = sc.ListSensors(context.Background(), ssp.ListQuery{}, client.Pager{}, func(raw json.RawMessage) error {
		var s struct{ ID string }
		json.Unmarshal(raw, &s)
		ids = append(ids, s.ID)
		return nil
	})
	if err != nil || len(ids) != 100 {
		t.Fatalf("%d sensors: %v", len(ids), err)
	}
	maxInFlight.Store(0)
	chs := []featureChange{{ssp.FeatureFlows, "enable"}, {ssp.FeatureMPS, "disable"}}
	outcomes, st := applyFeatures(context.Background(), testFactory(), sc, ids, chs, concurrency)
	if timedOut {
		t.Fatal("calls 2 to 5 did not overlap: the barrier in the request hook was never filled")
	}
	mu.Lock()
	defer mu.Unlock()
	if arrived != 8 || st.calls != 8 || st.ok != 200 || st.okSensors != 100 {
		t.Fatalf("arrived %d, stats %+v", arrived, st)
	}
	if m := maxInFlight.Load(); m > concurrency || m < 2 {
		t.Fatalf("at most %d calls in flight, want 2..%d", m, concurrency)
	}
	for i, o := range outcomes {
		if o.SensorID != ids[i] || len(o.Features) != 2 || o.Features[0].Feature != ssp.FeatureFlows.Name || o.Features[1].Feature != ssp.FeatureMPS.Name {
			t.Fatalf("outcome %d: %+v", i, o)
		}
	}
}
