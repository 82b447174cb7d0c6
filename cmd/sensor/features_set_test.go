package sensor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

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
	outcomes, st := applyFeatures(context.Background(), f, sc, ids, chs)
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
	outcomes, st := applyFeatures(context.Background(), f, sc, in, []featureChange{{ssp.FeatureIDS, "enable_without_pcap"}})
	if st.ok != 2 || st.failed != 1 || outcomes[1].OK || outcomes[1].Features[0].Result != resultFailed {
		t.Fatalf("stats %+v outcomes %+v", st, outcomes)
	}
}

// TestFeaturesSetStopsOnAuth: a refused call is not repeated for the
// remaining batches; they are reported as not sent, with exit 3.
func TestFeaturesSetStopsOnAuth(t *testing.T) {
	sc, rec, ids := featureSandbox(t, "auditor", 30)
	f := testFactory()
	outcomes, st := applyFeatures(context.Background(), f, sc, ids, []featureChange{{ssp.FeatureFlows, "enable"}, {ssp.FeatureMPS, "enable"}})
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
