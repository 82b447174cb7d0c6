package ssp_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/specs"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// newContractClient runs the SSP client against the sandbox through a
// recorder, so every request the client sends and every response it reads
// can be validated against the vendor's spec.
func newContractClient(t *testing.T, user string) (*ssp.Client, *specs.Recorder) {
	t.Helper()
	sc, rec, _ := newContractSandbox(t, user, 0)
	return sc, rec
}

// newContractSandbox is newContractClient with seeded sensors, returning the
// sandbox too (to count the requests it received).
func newContractSandbox(t *testing.T, user string, seedSensors int) (*ssp.Client, *specs.Recorder, *sandbox.Server) {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Options: sim.Options{Seed: 1, SeedSensors: seedSensors}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	rec := &specs.Recorder{}
	c, err := client.New(client.Options{BaseURL: hs.URL, Transport: rec}, &client.BasicAuth{Username: user, Password: "tokenctl-sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	return ssp.New(c), rec, srv
}

// validateAll checks every recorded exchange against ssp-sensors.yaml. The
// spec's three baremetal schemas put additionalProperties: false beside allOf,
// which under strict JSON Schema rejects every property; they are relaxed
// (specs/README.md).
func validateAll(t *testing.T, rec *specs.Recorder) map[string]int {
	t.Helper()
	doc := specs.Load(t, "ssp-sensors.yaml")
	specs.RelaxAdditionalProperties(t, doc, "RegistrationToken", "RegistrationTokenResponseList", "RegistrationTokenStatusesList")
	v := specs.NewValidator(t, doc)
	seen := map[string]int{}
	for _, x := range rec.Exchanges() {
		op, err := v.Operation(x.Request)
		if err != nil {
			t.Errorf("client called a path the spec lacks: %v", err)
			continue
		}
		seen[op]++
		if err := v.Validate(context.Background(), x); err != nil {
			t.Errorf("%s %s (%s): %v", x.Request.Method, x.Request.URL.Path, op, err)
		}
	}
	return seen
}

func TestSensorTokenClientContract(t *testing.T) {
	sc, rec := newContractClient(t, "admin")
	ctx := context.Background()
	n := int64(3)
	raw, err := sc.CreateSensorToken(ctx, &ssp.SensorTokenRequest{DisplayName: "contract", Description: "made by the contract test", AllowedInstanceCount: &n, Passphrase: "Contract-Test-Pass-1!"})
	if err != nil {
		t.Fatal(err)
	}
	var tok ssp.TokenInfo
	if err := json.Unmarshal(raw, &tok); err != nil || tok.ID == "" {
		t.Fatalf("create returned %s (%v)", raw, err)
	}
	if _, err := sc.GetSensorToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	asc := true
	count := 0
	_, err = sc.ListSensorTokens(ctx, ssp.ListQuery{SortBy: "display_name", Ascending: &asc, DisplayName: "contract"}, ssp.StatusAvailable, client.Pager{PageSize: 1}, func(json.RawMessage) error { count++; return nil })
	if err != nil || count != 1 {
		t.Fatalf("list: %d items, %v", count, err)
	}
	if _, err := sc.GetSensorToken(ctx, "no-such-token"); err == nil {
		t.Fatal("get of an unknown id succeeded")
	}
	if gone, err := sc.DeleteSensorToken(ctx, tok.ID); err != nil || gone {
		t.Fatalf("delete: gone=%v err=%v", gone, err)
	}
	seen := validateAll(t, rec)
	for _, op := range []string{"CreateSensorRegistrationToken", "GetRegistrationTokenById", "GetAllRegistrationTokens", "DeleteSensorRegistrationToken"} {
		if seen[op] == 0 {
			t.Errorf("the test never exercised %s", op)
		}
	}
}

func TestSensorTokenErrorsContract(t *testing.T) {
	sc, rec := newContractClient(t, "auditor")
	_, err := sc.CreateSensorToken(context.Background(), &ssp.SensorTokenRequest{DisplayName: "x", Passphrase: "Contract-Test-Pass-1!"})
	var ae *client.APIError
	if !asAPIError(err, &ae) || ae.Status != 403 {
		t.Fatalf("auditor create: %v, want 403", err)
	}
	validateAll(t, rec)
}

func asAPIError(err error, target **client.APIError) bool {
	e, ok := err.(*client.APIError)
	if ok {
		*target = e
	}
	return ok
}

// wantStatus fails unless err is an APIError with the given HTTP status.
func wantStatus(t *testing.T, what string, err error, status int) {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != status {
		t.Fatalf("%s: %v, want HTTP %d", what, err, status)
	}
}

// collect gathers a listing's items.
func collect(items *[]map[string]any) func(json.RawMessage) error {
	return func(raw json.RawMessage) error {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return err
		}
		*items = append(*items, m)
		return nil
	}
}

// wantOps fails for every operation the test never exercised.
func wantOps(t *testing.T, seen map[string]int, ops ...string) {
	t.Helper()
	for _, op := range ops {
		if seen[op] == 0 {
			t.Errorf("the test never exercised %s", op)
		}
	}
}

func TestSensorClientContract(t *testing.T) {
	sc, rec, _ := newContractSandbox(t, "admin", 60)
	ctx := context.Background()

	var sensors []map[string]any
	res, err := sc.ListSensors(ctx, ssp.ListQuery{}, client.Pager{PageSize: 25}, collect(&sensors))
	if err != nil || len(sensors) != 60 || res.Total != 60 {
		t.Fatalf("list: %d sensors, total %d, %v", len(sensors), res.Total, err)
	}
	id, other := sensors[0]["id"].(string), sensors[1]["id"].(string)
	unknown := "11111111-2222-4333-8444-555555555555"

	// Every documented filter at once (the request shape), then filters that
	// must narrow the list.
	yes, no := true, false
	var details []map[string]any
	all := ssp.DetailsFilter{RegistrationStatus: "registered", Health: "ok", FlowsEnabled: &yes, IDSEnabled: &yes, MPSEnabled: &no, PCAPEnabled: &no,
		SensorIDs: []string{id, other}, SoftwareVersions: []string{"5.*", "<5.2"}}
	asc := true
	if _, err := sc.ListSensorDetails(ctx, ssp.ListQuery{SortBy: "health", Ascending: &asc, DisplayName: "x"}, all, client.Pager{PageSize: 10}, collect(&details)); err != nil {
		t.Fatal(err)
	}
	details = nil
	if _, err := sc.ListSensorDetails(ctx, ssp.ListQuery{}, ssp.DetailsFilter{SensorIDs: []string{id, other}}, client.Pager{}, collect(&details)); err != nil || len(details) != 2 {
		t.Fatalf("details of two ids: %d, %v", len(details), err)
	}
	details = nil
	if _, err := sc.ListSensorDetails(ctx, ssp.ListQuery{}, ssp.DetailsFilter{SoftwareVersions: []string{"<5.2"}}, client.Pager{}, collect(&details)); err != nil || len(details) == 0 {
		t.Fatalf("details <5.2: %d, %v", len(details), err)
	}
	for _, d := range details {
		if v := d["appliance_info"].(map[string]any)["software_version"].(string); v[:4] != "5.1." {
			t.Errorf("<5.2 returned %s", v)
		}
	}

	if _, err := sc.GetSensor(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, err = sc.GetSensor(ctx, unknown)
	wantStatus(t, "get unknown sensor", err, 404)
	name, desc := "renamed", "rack 12"
	raw, err := sc.UpdateSensor(ctx, id, ssp.SensorChange{DisplayName: &name, Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	var updated map[string]any
	_ = json.Unmarshal(raw, &updated)
	if updated["display_name"] != name || updated["description"] != desc || updated["_revision"] != 2.0 {
		t.Fatalf("update returned %s", raw)
	}
	// Only the description: the name read is carried over.
	desc2 := "rack 13"
	if raw, err = sc.UpdateSensor(ctx, id, ssp.SensorChange{Description: &desc2}); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(raw, &updated)
	if updated["display_name"] != name || updated["_revision"] != 3.0 {
		t.Fatalf("description-only update returned %s", raw)
	}
	stale := int64(1)
	_, err = sc.UpdateSensor(ctx, id, ssp.SensorChange{DisplayName: &name, Revision: &stale})
	wantStatus(t, "stale revision", err, 412)

	for name, get := range map[string]func(context.Context, string) (json.RawMessage, error){
		"status": sc.GetSensorStatus, "signatures": sc.GetSensorSignatures, "features": sc.GetSensorFeatures,
	} {
		if _, err := get(ctx, id); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		_, err := get(ctx, unknown)
		wantStatus(t, name+" of an unknown sensor", err, 404)
	}

	for _, f := range []struct {
		feature ssp.Feature
		action  string
	}{{ssp.FeatureIDS, "enable_with_pcap"}, {ssp.FeatureFlows, "disable"}, {ssp.FeatureMPS, "enable"}} {
		res, err := sc.SetFeature(ctx, f.feature, f.action, []string{id, unknown})
		if err != nil {
			t.Fatalf("%s: %v", f.feature.Name, err)
		}
		if len(res.Successful) != 1 || res.Successful[0] != id || len(res.Failed) != 1 || res.Failed[0] != unknown {
			t.Errorf("%s %s: %s", f.feature.Name, f.action, res.Raw)
		}
	}
	feat, _ := sc.GetSensorFeatures(ctx, id)
	var fc struct {
		IDS   bool `json:"ids_enabled"`
		Flows bool `json:"flows_enabled"`
		MPS   bool `json:"mps_enabled"`
		Conf  struct {
			PCAP bool `json:"pcap_enabled"`
		} `json:"ids_config"`
	}
	if err := json.Unmarshal(feat, &fc); err != nil || !fc.IDS || !fc.Conf.PCAP || fc.Flows || !fc.MPS {
		t.Errorf("features after the changes: %s", feat)
	}

	if _, err := sc.GetMPSGlobal(ctx); err != nil {
		t.Fatal(err)
	}
	raw, err = sc.UpdateMPSGlobal(ctx, map[string]bool{"media_file_type": false})
	if err != nil {
		t.Fatal(err)
	}
	var mps map[string]bool
	_ = json.Unmarshal(raw, &mps)
	if len(mps) != 7 || mps["media_file_type"] || !mps["document_file_type"] {
		t.Errorf("MPS after update: %s", raw)
	}

	var versions []map[string]any
	if err := sc.SensorVersions(ctx, collect(&versions)); err != nil || len(versions) == 0 {
		t.Fatalf("versions: %d, %v", len(versions), err)
	}
	n := 0.0
	for _, v := range versions {
		n += v["count"].(float64)
	}
	if n != 60 {
		t.Errorf("versions count %v sensors, want 60", n)
	}

	if gone, err := sc.DeleteSensor(ctx, other); err != nil || gone {
		t.Fatalf("delete: gone=%v %v", gone, err)
	}
	// Idempotent: 200 again.
	if gone, err := sc.DeleteSensor(ctx, other); err != nil || gone {
		t.Fatalf("second delete: gone=%v %v", gone, err)
	}
	_, err = sc.GetSensor(ctx, other)
	wantStatus(t, "get deleted sensor", err, 404)

	seen := validateAll(t, rec)
	wantOps(t, seen, "ListSensors", "ListSensorDetails", "GetSensorById", "UpdateSensor", "DeleteSensor", "GetSensorStatus",
		"GetSensorApplianceIdsSignatureBundle", "GetSensorFeatureConfig", "UpdateSensorIdsFeatureConfig", "UpdateSensorFlowFeatureConfig",
		"UpdateSensorMpsFeatureConfig", "GetSensorGlobalConfigMps", "UpdateSensorGlobalConfigMps", "GetSensorVersionSummary")
}

func TestBaremetalTokenClientContract(t *testing.T) {
	sc, rec := newContractClient(t, "admin")
	ctx := context.Background()
	n, mins := int64(2), int64(45)
	raw, err := sc.CreateBaremetalToken(ctx, &ssp.BaremetalTokenRequest{DisplayName: "host-01", Description: "web tier", AllowedInstanceCount: &n,
		Passphrase: "Contract-Test-Pass-1!", ExpiryTimeSinceCreationMins: &mins})
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	if err := json.Unmarshal(raw, &tok); err != nil || tok["id"] == nil || tok["expiry_time_since_creation_mins"] != 45.0 {
		t.Fatalf("create returned %s (%v)", raw, err)
	}
	id := tok["id"].(string)
	if _, err := sc.GetBaremetalToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, err := sc.GetBaremetalTokenStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var info ssp.TokenInfo
	if err := json.Unmarshal(st, &info); err != nil || info.Status != ssp.StatusAvailable || info.RegistrationManifest == "" || info.ExpirationTimestamp == 0 {
		t.Fatalf("status %s", st)
	}
	var items []map[string]any
	asc := true
	if _, err := sc.ListBaremetalTokens(ctx, ssp.ListQuery{SortBy: "display_name", Ascending: &asc, DisplayName: "host-01"}, client.Pager{PageSize: 1}, collect(&items)); err != nil || len(items) != 1 {
		t.Fatalf("list: %d, %v", len(items), err)
	}
	items = nil
	if _, err := sc.ListBaremetalTokenStatuses(ctx, ssp.ListQuery{DisplayName: "host-01"}, ssp.StatusAvailable, client.Pager{PageSize: 5}, collect(&items)); err != nil || len(items) != 1 {
		t.Fatalf("statuses: %d, %v", len(items), err)
	}
	items = nil
	if _, err := sc.ListBaremetalTokenStatuses(ctx, ssp.ListQuery{}, ssp.StatusExpired, client.Pager{}, collect(&items)); err != nil || len(items) != 0 {
		t.Fatalf("expired statuses: %d, %v", len(items), err)
	}
	_, err = sc.GetBaremetalToken(ctx, "no-such-token")
	wantStatus(t, "get unknown", err, 404)
	_, err = sc.GetBaremetalTokenStatus(ctx, "no-such-token")
	wantStatus(t, "status of unknown", err, 404)
	_, err = sc.CreateBaremetalToken(ctx, &ssp.BaremetalTokenRequest{DisplayName: "host-02", Passphrase: "weak"})
	wantStatus(t, "weak passphrase", err, 400)
	if gone, err := sc.DeleteBaremetalToken(ctx, id); err != nil || gone {
		t.Fatalf("delete: gone=%v err=%v", gone, err)
	}
	if gone, err := sc.DeleteBaremetalToken(ctx, id); err != nil || gone {
		t.Fatalf("second delete (idempotent 202): gone=%v err=%v", gone, err)
	}
	// The weak-passphrase create breaks the request schema on purpose; only
	// the server's answer to it is checked.
	doc := specs.Load(t, "ssp-sensors.yaml")
	specs.RelaxAdditionalProperties(t, doc, "RegistrationToken", "RegistrationTokenResponseList", "RegistrationTokenStatusesList")
	v := specs.NewValidator(t, doc)
	seen := map[string]int{}
	for _, x := range rec.Exchanges() {
		op, err := v.Operation(x.Request)
		if err != nil {
			t.Errorf("client called a path the spec lacks: %v", err)
			continue
		}
		seen[op]++
		check := v.Validate
		if x.Status == 400 {
			check = v.ValidateResponse
		}
		if err := check(context.Background(), x); err != nil {
			t.Errorf("%s %s (%s): %v", x.Request.Method, x.Request.URL.Path, op, err)
		}
	}
	wantOps(t, seen, "CreateRegistrationToken", "GetRegistrationToken", "GetRegistrationTokenStatus", "GetRegistrationTokens",
		"GetRegistrationTokenStatuses", "DeleteRegistrationToken")
}

// TestSensorErrorsContract: the auditor may read sensors but not change
// them; a wrong password is 401. Every answer is the vendor's Error.
func TestSensorErrorsContract(t *testing.T) {
	sc, rec, _ := newContractSandbox(t, "auditor", 3)
	ctx := context.Background()
	var sensors []map[string]any
	if _, err := sc.ListSensors(ctx, ssp.ListQuery{}, client.Pager{}, collect(&sensors)); err != nil || len(sensors) != 3 {
		t.Fatalf("auditor list: %d, %v", len(sensors), err)
	}
	id := sensors[0]["id"].(string)
	name := "x"
	_, err := sc.UpdateSensor(ctx, id, ssp.SensorChange{DisplayName: &name})
	wantStatus(t, "auditor update", err, 403)
	_, err = sc.DeleteSensor(ctx, id)
	wantStatus(t, "auditor delete", err, 403)
	_, err = sc.SetFeature(ctx, ssp.FeatureFlows, "enable", []string{id})
	wantStatus(t, "auditor feature", err, 403)
	_, err = sc.UpdateMPSGlobal(ctx, map[string]bool{"data_file_type": false})
	wantStatus(t, "auditor MPS", err, 403)
	_, err = sc.CreateBaremetalToken(ctx, &ssp.BaremetalTokenRequest{DisplayName: "host", Passphrase: "Contract-Test-Pass-1!"})
	wantStatus(t, "auditor baremetal create", err, 403)
	_, err = sc.ListBaremetalTokenStatuses(ctx, ssp.ListQuery{}, "", client.Pager{}, func(json.RawMessage) error { return nil })
	wantStatus(t, "auditor statuses", err, 403)
	validateAll(t, rec)

	bad, rec2, _ := newContractSandbox(t, "admin", 1)
	bad.HTTP().SetAuth(&client.BasicAuth{Username: "admin", Password: "wrong"})
	_, err = bad.GetSensorStatus(ctx, id)
	wantStatus(t, "wrong password", err, 401)
	validateAll(t, rec2)
}

// TestListLimitStopsPaging counts the requests a listing sends: --limit
// never fetches a page it does not need, and a listing stops at the last page.
func TestListLimitStopsPaging(t *testing.T) {
	sc, rec, srv := newContractSandbox(t, "admin", 60)
	ctx := context.Background()
	cases := []struct {
		name      string
		pager     client.Pager
		items     int
		requests  int64
		more      bool
		pageSizes []string
	}{
		{"limit equal to the page size", client.Pager{PageSize: 10, Limit: 10}, 10, 1, true, nil},
		{"limit inside the second page", client.Pager{PageSize: 10, Limit: 15}, 15, 2, true, nil},
		{"limit below the page size", client.Pager{PageSize: 25, Limit: 3}, 3, 1, true, nil},
		{"every page by default", client.Pager{PageSize: 25}, 60, 3, false, nil},
		{"all, pages that end exactly", client.Pager{PageSize: 20}, 60, 3, false, nil},
	}
	for _, c := range cases {
		before := srv.Requests()
		n := 0
		res, err := sc.ListSensors(ctx, ssp.ListQuery{}, c.pager, func(json.RawMessage) error { n++; return nil })
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := srv.Requests() - before; n != c.items || got != c.requests || res.More != c.more {
			t.Errorf("%s: %d items in %d requests (more=%v), want %d in %d (more=%v)", c.name, n, got, res.More, c.items, c.requests, c.more)
		}
	}
	validateAll(t, rec)
}

// TestFeatureBatches checks ssp.Batches splits 60 ids 25/25/10.
func TestFeatureBatches(t *testing.T) {
	ids := make([]string, 60)
	for i := range ids {
		ids[i] = fmt.Sprint(i)
	}
	var sizes []int
	for _, b := range ssp.Batches(ids, ssp.MaxFeatureBatch) {
		sizes = append(sizes, len(b))
	}
	if fmt.Sprint(sizes) != "[25 25 10]" {
		t.Fatalf("batches %v", sizes)
	}
	if b := ssp.Batches(ids[:25], 25); len(b) != 1 || len(b[0]) != 25 {
		t.Fatalf("25 ids: %d batches", len(b))
	}
	if b := ssp.Batches(nil, 25); len(b) != 0 {
		t.Fatalf("no ids: %d batches", len(b))
	}
}

func TestCheckVersionFilter(t *testing.T) {
	for _, ok := range []string{"5.*", "5.2.*", "5.2", "5.2.0.0.0.25398843", "<5.2", ">3.1", "> 6.0.0", "1.2.3.4.5.*"} {
		if rule := ssp.CheckVersionFilter(ok); rule != "" {
			t.Errorf("%q rejected: %s", ok, rule)
		}
	}
	for _, bad := range []string{"", "5", "*", "<5.*", ">5", "5.x", "5..2", "1.2.3.4.5.6.7", "1.2.3.4.5.6.*", "5.*.2"} {
		if ssp.CheckVersionFilter(bad) == "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSensorListSortFieldsMatchSpec checks the sort_by values sensor list
// accepts against the vendor's rule ("only top-level parameters in the
// returned list of records"): exactly the scalar top-level properties of
// the Sensor items of ListSensors' answer.
func TestSensorListSortFieldsMatchSpec(t *testing.T) {
	doc := specs.Load(t, "ssp-sensors.yaml")
	op := doc.Paths.Find("/sensors/appliances").Get
	list := op.Responses.Status(200).Value.Content.Get("application/json").Schema.Value
	var items *openapi3.Schema
	for _, s := range append([]*openapi3.SchemaRef{{Value: list}}, list.AllOf...) {
		if r := s.Value.Properties["results"]; r != nil {
			items = r.Value.Items.Value
		}
	}
	if items == nil {
		t.Fatal("ListSensors' answer has no results array in the spec")
	}
	want := map[string]bool{}
	var collect func(s *openapi3.Schema)
	collect = func(s *openapi3.Schema) {
		for _, a := range s.AllOf {
			collect(a.Value)
		}
		for name, p := range s.Properties {
			if !p.Value.Type.Is("array") && !p.Value.Type.Is("object") {
				want[name] = true
			}
		}
	}
	collect(items)
	got := map[string]bool{}
	for _, f := range ssp.SensorListSortFields {
		got[f] = true
		if !want[f] {
			t.Errorf("sort field %q is not a scalar top-level property of the spec's Sensor", f)
		}
	}
	for f := range want {
		if !got[f] {
			t.Errorf("the spec's Sensor has the scalar top-level property %q, which sensor list does not accept for --sort-by", f)
		}
	}
}
