package ssp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
	"github.com/tokenctl/tokenctl/internal/specs"
)

// contract drives the emulator and checks every exchange against the
// vendor's spec (specs/ssp-sensors.yaml) with kin-openapi.
//
// Spec quirks handled, as specs/README.md describes:
//   - examples are not validated (the vendor's own examples break its schemas);
//   - RegistrationToken, RegistrationTokenResponseList and
//     RegistrationTokenStatusesList put additionalProperties: false beside an
//     allOf with no sibling properties, which strictly read rejects every
//     property (even a valid create body). Their intent is "only the allOf
//     properties", so these three are validated with additionalProperties
//     relaxed; every other schema stays strict;
//   - security schemes are apiKey "Authorization" headers where the server
//     takes HTTP Basic: the validator accepts any request with an
//     Authorization header, and the emulator's own tests check credentials.
type contract struct {
	t       *testing.T
	h       *harness
	v       *specs.Validator
	covered map[string][]int // operationId -> statuses seen
}

// missingID is an id no object of the emulator has.
const missingID = "0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c"

func newContract(t *testing.T, doc *openapi3.T, opts sim.Options) *contract {
	return &contract{t: t, h: newHarness(t, opts), v: specs.NewValidator(t, doc), covered: map[string][]int{}}
}

// decode parses a JSON object answer.
func (c *contract) decode(b []byte) map[string]any {
	c.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		c.t.Fatal(err)
	}
	return m
}

// checkCoverage checks that every operation of doc (n of them, as the
// brief counts) was driven to a success and to an error.
func (c *contract) checkCoverage(doc *openapi3.T, n int) {
	c.t.Helper()
	var ops []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ops = append(ops, op.OperationID)
		}
	}
	sort.Strings(ops)
	if len(ops) != n {
		c.t.Errorf("the spec has %d operations, the brief says %d", len(ops), n)
	}
	for _, op := range ops {
		st := c.covered[op]
		if !slices.ContainsFunc(st, func(s int) bool { return s < 300 }) {
			c.t.Errorf("%s: no success response was validated (saw %v)", op, st)
		}
		if !slices.ContainsFunc(st, func(s int) bool { return s >= 400 }) {
			c.t.Errorf("%s: no error response was validated (saw %v)", op, st)
		}
	}
}

// call sends one request and validates it. requestValid=false is for a
// deliberately bad request: only the emulator's answer is validated.
func (c *contract) call(method, path string, body any, user string, want int, requestValid bool) []byte {
	c.t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			c.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, c.h.ts.URL+path, bytes.NewReader(data))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, sim.DefaultPassword)
	}
	res, err := c.h.ts.Client().Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	respBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, res.StatusCode, want, respBody)
	}
	x := specs.Exchange{Request: req, RequestBody: data, Status: res.StatusCode, Header: res.Header, Body: respBody}
	op, err := c.v.Operation(req)
	if err != nil {
		c.t.Fatalf("the spec has no operation for %s %s: %v", method, path, err)
	}
	ctx := context.Background()
	if requestValid {
		err = c.v.Validate(ctx, x)
	} else {
		err = c.v.ValidateResponse(ctx, x)
	}
	if err != nil {
		c.t.Errorf("%s (%s %s -> %d) breaks the spec: %v\nresponse: %.2000s", op, method, path, res.StatusCode, err, respBody)
	}
	c.covered[op] = append(c.covered[op], res.StatusCode)
	return respBody
}

func loadSSPSpec(t *testing.T) *openapi3.T {
	doc := specs.Load(t, "ssp-sensors.yaml")
	specs.RelaxAdditionalProperties(t, doc, "RegistrationToken", "RegistrationTokenResponseList", "RegistrationTokenStatusesList")
	return doc
}

// loadBaremetalSpec loads specs/ssp-baremetal-servers.yaml with the same
// quirk relaxed (its README): BaremetalServer, BaremetalServerList,
// BaremetalServerStatus, BaremetalTaskInfo and BaremetalServerTaskInfo put
// additionalProperties: false beside an allOf, which strictly read rejects
// every property. Every other schema stays strict.
func loadBaremetalSpec(t *testing.T) *openapi3.T {
	doc := specs.Load(t, "ssp-baremetal-servers.yaml")
	specs.RelaxAdditionalProperties(t, doc, "BaremetalServer", "BaremetalServerList", "BaremetalServerStatus", "BaremetalTaskInfo", "BaremetalServerTaskInfo")
	return doc
}

func TestContract(t *testing.T) {
	doc := loadSSPSpec(t)
	c := newContract(t, doc, sim.Options{Seed: 7, SeedSensors: 60})
	const (
		ok, created, accepted = http.StatusOK, http.StatusCreated, http.StatusAccepted
		bad, unauth, forbid   = http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden
		notFound              = http.StatusNotFound
	)

	// Sensor registration tokens.
	tokBody := map[string]any{"display_name": "sensor", "passphrase": goodPassphrase, "allowed_instance_count": 2, "description": "Token for ndr sensor"}
	tok := c.decode(c.call("POST", "/sensors/registration-tokens", tokBody, admin, ok, true))
	tokID := tok["id"].(string)
	c.call("POST", "/sensors/registration-tokens", map[string]any{"display_name": "sensor", "passphrase": "xxxxx"}, admin, bad, false)
	c.call("POST", "/sensors/registration-tokens", "{not json", admin, bad, false)
	c.call("POST", "/sensors/registration-tokens", tokBody, "", unauth, false)
	c.call("POST", "/sensors/registration-tokens", tokBody, auditor, forbid, true)
	c.call("GET", "/sensors/registration-tokens?page_size=10&sort_by=display_name&sort_ascending=true&token_status=AVAILABLE", nil, admin, ok, true)
	c.call("GET", "/sensors/registration-tokens?token_status=BOGUS", nil, admin, bad, false)
	c.call("GET", "/sensors/registration-tokens?sort_by=passphrase", nil, admin, bad, true)
	c.call("GET", "/sensors/registration-tokens", nil, auditor, forbid, true)
	c.call("GET", "/sensors/registration-tokens/"+tokID, nil, admin, ok, true)
	c.call("GET", "/sensors/registration-tokens/"+missingID, nil, admin, notFound, true)

	// Register a sensor with it, so the lists hold a registered sensor too.
	sensorID := c.h.register(tokID)["sensor_id"].(string)
	c.call("GET", "/sensors/registration-tokens/"+tokID, nil, admin, ok, true)

	// Sensors.
	list := c.decode(c.call("GET", "/sensors/appliances?page_size=1000", nil, admin, ok, true))
	if n := len(list["results"].([]any)); n != 61 {
		t.Fatalf("ListSensors: %d results, want 61", n)
	}
	seeded := list["results"].([]any)[0].(map[string]any)["id"].(string)
	c.call("GET", "/sensors/appliances?page_size=5&offset=5&sort_by=display_name&display_name=sensor", nil, auditor, ok, true)
	c.call("GET", "/sensors/appliances?sort_by=certificate", nil, admin, bad, true)
	c.call("GET", "/sensors/appliances?offset=-1", nil, admin, bad, false)
	c.call("GET", "/sensors/appliances", nil, "", unauth, false)
	c.call("GET", "/sensors/appliances/details?page_size=1000", nil, admin, ok, true)
	c.call("GET", "/sensors/appliances/details?registration_status=registered&health=ok&flows_enabled=true&ids_enabled=true&mps_enabled=false&pcap_enabled=false&sort_by=health&sort_ascending=true&software_versions=5.2.*&software_versions=%3C5.2", nil, auditor, ok, true)
	c.call("GET", "/sensors/appliances/details?sensor_ids="+seeded+"&sensor_ids="+sensorID, nil, admin, ok, true)
	c.call("GET", "/sensors/appliances/details?software_versions=5", nil, admin, bad, true)
	c.call("GET", "/sensors/appliances/details?health=sleepy", nil, admin, bad, true)
	c.call("GET", "/sensors/appliances/details?flows_enabled=maybe", nil, admin, bad, false)
	for _, id := range []string{seeded, sensorID} {
		got := c.decode(c.call("GET", "/sensors/appliances/"+id, nil, auditor, ok, true))
		c.call("GET", "/sensors/appliances/"+id+"/status", nil, auditor, ok, true)
		c.call("GET", "/sensors/appliances/"+id+"/ids-signature-bundle", nil, auditor, ok, true)
		c.call("GET", "/sensors/appliances/"+id+"/feature-config", nil, auditor, ok, true)
		rev := got["_revision"]
		upd := map[string]any{"id": id, "display_name": "renamed-" + id[:8], "description": "moved to rack 4", "_revision": rev}
		c.call("PUT", "/sensors/appliances/"+id, upd, admin, ok, true)
		c.call("PUT", "/sensors/appliances/"+id, upd, admin, http.StatusPreconditionFailed, true)
		c.call("PUT", "/sensors/appliances/"+id, map[string]any{"id": id, "display_name": "x"}, admin, http.StatusPreconditionRequired, true)
		c.call("PUT", "/sensors/appliances/"+id, map[string]any{"id": id, "_revision": 2}, admin, bad, false)
		c.call("PUT", "/sensors/appliances/"+id, upd, auditor, forbid, true)
	}
	for _, sub := range []string{"", "/status", "/ids-signature-bundle", "/feature-config"} {
		c.call("GET", "/sensors/appliances/"+missingID+sub, nil, admin, notFound, true)
	}
	c.call("PUT", "/sensors/appliances/"+missingID, map[string]any{"id": missingID, "display_name": "x", "_revision": 1}, admin, notFound, true)

	// Feature configuration.
	ids := map[string]any{"sensor_ids": []string{seeded, sensorID, missingID}}
	c.call("POST", "/sensors/feature-config/ids-events?action=enable_with_pcap", ids, admin, ok, true)
	c.call("POST", "/sensors/feature-config/ids-events?action=disable", map[string]any{"sensor_ids": []string{missingID}}, admin, ok, true)
	c.call("POST", "/sensors/feature-config/flow-events?action=disable", ids, admin, ok, true)
	c.call("POST", "/sensors/feature-config/malware-prevention-events?action=enable", ids, admin, ok, true)
	tooMany := make([]string, 26)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("0e6c2ad1-94b7-4c38-9a51-%012x", i)
	}
	for _, p := range []string{"/sensors/feature-config/ids-events?action=disable", "/sensors/feature-config/flow-events?action=enable", "/sensors/feature-config/malware-prevention-events?action=disable"} {
		c.call("POST", p, map[string]any{"sensor_ids": tooMany}, admin, bad, false)
		c.call("POST", p, map[string]any{"sensor_ids": []string{}}, admin, bad, false)
		c.call("POST", p, map[string]any{"sensor_ids": []string{"not-a-uuid"}}, admin, bad, false)
		c.call("POST", p, ids, auditor, forbid, true)
		base := p[:strings.Index(p, "?")]
		c.call("POST", base+"?action=explode", ids, admin, bad, true)
		c.call("POST", base, ids, admin, bad, false)
	}
	c.call("GET", "/sensors/appliances/"+seeded+"/feature-config", nil, admin, ok, true)

	// MPS global configuration and the version summary.
	c.call("GET", "/sensors/mps-global-config", nil, auditor, ok, true)
	c.call("GET", "/sensors/mps-global-config", nil, "", unauth, false)
	mps := map[string]any{"document_file_type": true, "executable_file_type": true, "media_file_type": false, "archive_file_type": true,
		"data_file_type": false, "script_file_type": true, "other_file_type": false}
	c.call("PUT", "/sensors/mps-global-config", mps, admin, ok, true)
	c.call("PUT", "/sensors/mps-global-config", map[string]any{"document_file_type": true}, admin, bad, false)
	c.call("PUT", "/sensors/mps-global-config", mps, auditor, forbid, true)
	c.call("GET", "/sensors/appliances/details?page_size=3", nil, admin, ok, true)
	c.call("GET", "/sensors/version-summary", nil, auditor, ok, true)
	c.call("GET", "/sensors/version-summary", nil, "", unauth, false)

	// Deletes (idempotent).
	c.call("DELETE", "/sensors/appliances/"+seeded, nil, auditor, forbid, true)
	c.call("DELETE", "/sensors/appliances/"+seeded, nil, admin, ok, true)
	c.call("DELETE", "/sensors/appliances/"+seeded, nil, admin, ok, true)
	c.call("GET", "/sensors/appliances/"+seeded, nil, admin, notFound, true)
	c.call("DELETE", "/sensors/registration-tokens/"+tokID, nil, auditor, forbid, true)
	c.call("DELETE", "/sensors/registration-tokens/"+tokID, nil, admin, ok, true)
	c.call("DELETE", "/sensors/registration-tokens/"+tokID, nil, admin, ok, true)

	// Baremetal registration tokens.
	bmBody := map[string]any{"display_name": "baremetal-rack-7", "passphrase": goodPassphrase, "allowed_instance_count": 3, "expiry_time_since_creation_mins": 60, "description": "rack 7"}
	bm := c.decode(c.call("POST", "/baremetal/registration-tokens", bmBody, admin, created, true))
	bmID := bm["id"].(string)
	c.call("POST", "/baremetal/registration-tokens", map[string]any{"display_name": "bm", "passphrase": "short"}, admin, bad, false)
	c.call("POST", "/baremetal/registration-tokens", map[string]any{"display_name": "bm-token", "passphrase": goodPassphrase, "color": "red"}, admin, bad, false)
	c.call("POST", "/baremetal/registration-tokens", bmBody, auditor, forbid, true)
	c.call("POST", "/baremetal/registration-tokens", bmBody, "", unauth, false)
	c.call("GET", "/baremetal/registration-tokens?page_size=10&sort_by=display_name", nil, auditor, ok, true)
	c.call("GET", "/baremetal/registration-tokens?sort_by=passphrase", nil, admin, bad, true)
	c.call("GET", "/baremetal/registration-tokens/"+bmID, nil, admin, ok, true)
	c.call("GET", "/baremetal/registration-tokens/"+missingID, nil, admin, notFound, true)
	c.call("GET", "/baremetal/registration-tokens/"+bmID, nil, auditor, forbid, true)
	c.call("GET", "/baremetal/registration-tokens/"+bmID+"/status", nil, auditor, ok, true)
	c.call("GET", "/baremetal/registration-tokens/"+missingID+"/status", nil, admin, notFound, true)
	c.call("GET", "/baremetal/registration-tokens/statuses?tokens_status=AVAILABLE&display_name=baremetal-rack-7", nil, admin, ok, true)
	c.call("GET", "/baremetal/registration-tokens/statuses?tokens_status=USED", nil, admin, bad, true)
	c.call("GET", "/baremetal/registration-tokens/statuses", nil, auditor, forbid, true)
	c.h.register(bmID)
	c.h.advance(61 * 60 * 1e9)
	c.call("GET", "/baremetal/registration-tokens/statuses?tokens_status=EXPIRED", nil, admin, ok, true)
	c.call("DELETE", "/baremetal/registration-tokens/"+bmID, nil, auditor, forbid, true)
	c.call("DELETE", "/baremetal/registration-tokens/"+bmID, nil, admin, accepted, true)
	c.call("DELETE", "/baremetal/registration-tokens/"+bmID, nil, admin, accepted, true)

	c.checkCoverage(doc, 24)
}

// TestContractRoles checks the emulator's role table against every
// operation's security list in both SSP specs, and that the auditor and the
// engineer are refused exactly where the spec leaves their role out.
func TestContractRoles(t *testing.T) {
	docs := []*openapi3.T{loadSSPSpec(t), loadBaremetalSpec(t)}
	h := newHarness(t, sim.Options{})
	roles := ssp.RouteRoles(ssp.New(sim.NewEnv(sim.Options{})))
	users := map[string]string{auditor: "auditor", engineer: "security_engineer"}
	placeholder := "0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c"
	concrete := strings.NewReplacer("{token-id}", placeholder, "{appliance-id}", placeholder, "{server-id}", placeholder, "{task-id}", placeholder)
	seen := 0
	for _, doc := range docs {
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				seen++
				var want []string
				for _, req := range *op.Security {
					for name := range req {
						want = append(want, name)
					}
				}
				got := slices.Clone(roles[op.OperationID])
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s: emulator roles %v, spec security %v", op.OperationID, got, want)
				}
				// A user gets 403 exactly where its role is missing; any
				// other answer (404 for the placeholder id, 400 for no
				// body) means the role check passed.
				for user, role := range users {
					r := h.do(method, concrete.Replace(path), nil, user)
					if denied := r.status == http.StatusForbidden; denied == slices.Contains(want, role) {
						t.Errorf("%s as %s: status %d, spec security %v", op.OperationID, user, r.status, want)
					}
				}
				if r := h.do(method, concrete.Replace(path), nil, ""); r.status != http.StatusUnauthorized {
					t.Errorf("%s without credentials: status %d, want 401", op.OperationID, r.status)
				}
			}
		}
	}
	if seen != len(roles) {
		t.Errorf("the specs have %d operations, the emulator routes %d", seen, len(roles))
	}
}
