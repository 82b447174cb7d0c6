package ssp_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

func TestAuthentication(t *testing.T) {
	h := newHarness(t, sim.Options{})
	r := h.do("GET", "/sensors/appliances", nil, "")
	if r.status != http.StatusUnauthorized || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("no credentials: %d %v", r.status, r.header)
	}
	m := r.json(t)
	if m["error_code"].(float64) != 401 || m["module_name"] != "sensor" || m["error_message"] == "" {
		t.Errorf("401 body %v", m)
	}
	req, _ := http.NewRequest("GET", h.ts.URL+"/sensors/appliances", nil)
	req.SetBasicAuth(admin, "wrong")
	res, err := h.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", res.StatusCode)
	}
	h.expectError(http.StatusUnauthorized, "baremetal-security", "GET", "/baremetal/registration-tokens", nil, "")
	h.expect(http.StatusOK, "GET", "/sensors/appliances", nil, auditor)
	h.expect(http.StatusOK, "GET", "/sensors/appliances/details", nil, auditor)
	h.expectError(http.StatusForbidden, "sensor", "GET", "/sensors/registration-tokens", nil, auditor, "auditor", "enterprise_admin")
	h.expectError(http.StatusForbidden, "sensor", "POST", "/sensors/registration-tokens",
		map[string]any{"display_name": "x", "passphrase": goodPassphrase}, auditor)
	h.expectError(http.StatusForbidden, "baremetal-security", "GET", "/baremetal/registration-tokens/statuses", nil, auditor)
}

func TestSensorTokenCreate(t *testing.T) {
	h := newHarness(t, sim.Options{})
	r := h.expect(http.StatusOK, "POST", "/sensors/registration-tokens",
		map[string]any{"display_name": "sensor", "passphrase": goodPassphrase, "description": "Token for ndr sensor", "site_ids": []string{"site-1"}}, admin)
	if strings.Contains(string(r.body), "passphrase") || strings.Contains(string(r.body), goodPassphrase) {
		t.Fatalf("the create answer shows the passphrase: %s", r.body)
	}
	tok := r.json(t)
	now := testNow.UnixMilli()
	want := map[string]any{
		"display_name": "sensor", "description": "Token for ndr sensor", "allowed_instance_count": 1.0,
		"device_type": "SENSOR", "status": "AVAILABLE", "usage_count": 0.0, "number_available": 1.0,
		"_create_user": "admin", "_last_modified_user": "admin", "_create_time": float64(now),
		"_last_modified_time": float64(now), "expiration": float64(now + 30*60*1000),
	}
	for k, v := range want {
		if tok[k] != v {
			t.Errorf("%s = %v, want %v", k, tok[k], v)
		}
	}
	if !slices.Equal(anyStrings(tok["site_ids"]), []string{"site-1"}) {
		t.Errorf("site_ids %v", tok["site_ids"])
	}
	id := tok["id"].(string)
	checkManifest(t, tok["registration_manifest"].(string), h.ts.URL, id, "SENSOR", now+30*60*1000)

	got := h.expect(http.StatusOK, "GET", "/sensors/registration-tokens/"+id, nil, admin).json(t)
	if got["registration_manifest"] != tok["registration_manifest"] || got["status"] != "AVAILABLE" {
		t.Errorf("GET differs from create: %v", got)
	}
	more := h.createSensorToken("three", 3)
	if more["allowed_instance_count"] != 3.0 || more["number_available"] != 3.0 {
		t.Errorf("allowed 3: %v", more)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// checkManifest decodes the sandbox manifest: base64 of compact JSON.
func checkManifest(t *testing.T, m, baseURL, id, deviceType string, expiration int64) {
	t.Helper()
	if strings.ContainsAny(m, "\n\r") {
		t.Fatalf("manifest has newlines: %q", m)
	}
	raw, err := base64.StdEncoding.DecodeString(m)
	if err != nil {
		t.Fatalf("manifest is not standard base64: %v", err)
	}
	want := fmt.Sprintf(`{"ssp":%q,"token_id":%q,"device_type":%q,"expiration":%d}`, baseURL, id, deviceType, expiration)
	if string(raw) != want {
		t.Fatalf("manifest %s, want %s", raw, want)
	}
}

func TestSensorTokenValidation(t *testing.T) {
	h := newHarness(t, sim.Options{})
	long := strings.Repeat("n", 256)
	cases := []struct {
		name string
		body any
		want []string
	}{
		{"empty body", "", []string{"body is required"}},
		{"malformed JSON", `{"display_name": "x",`, []string{"not a valid JSON object"}},
		{"not an object", `["x"]`, []string{"JSON object"}},
		{"wrong type", `{"display_name": 5, "passphrase": "Sandbox-Passphrase-42"}`, []string{"schema"}},
		{"no display_name", map[string]any{"passphrase": goodPassphrase}, []string{"display_name is required"}},
		{"long display_name", map[string]any{"display_name": long, "passphrase": goodPassphrase}, []string{"display_name", "255"}},
		{"long description", map[string]any{"display_name": "x", "description": strings.Repeat("d", 1025), "passphrase": goodPassphrase}, []string{"description", "1024"}},
		{"no passphrase", map[string]any{"display_name": "x"}, []string{"passphrase is required"}},
		{"short passphrase", map[string]any{"display_name": "x", "passphrase": "Aa1!short"}, []string{"passphrase", "15 to 128"}},
		{"long passphrase", map[string]any{"display_name": "x", "passphrase": "Aa1!" + strings.Repeat("x", 125)}, []string{"15 to 128"}},
		{"no upper", map[string]any{"display_name": "x", "passphrase": "sandbox-passphrase-42"}, []string{"an uppercase letter"}},
		{"no lower", map[string]any{"display_name": "x", "passphrase": "SANDBOX-PASSPHRASE-42"}, []string{"a lowercase letter"}},
		{"no digit", map[string]any{"display_name": "x", "passphrase": "Sandbox-Passphrase-xx"}, []string{"a digit"}},
		{"no special", map[string]any{"display_name": "x", "passphrase": "SandboxPassphrase42"}, []string{"a special character"}},
		{"zero instances", map[string]any{"display_name": "x", "passphrase": goodPassphrase, "allowed_instance_count": 0}, []string{"allowed_instance_count"}},
		{"every problem at once", map[string]any{"display_name": long, "passphrase": "short"}, []string{"display_name", "15 to 128", "a digit"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.expectError(http.StatusBadRequest, "sensor", "POST", "/sensors/registration-tokens", c.body, admin, c.want...)
		})
	}
	// Limits are inclusive.
	h.expect(http.StatusOK, "POST", "/sensors/registration-tokens", map[string]any{
		"display_name": strings.Repeat("n", 255), "description": strings.Repeat("d", 1024), "passphrase": "Aa1!" + strings.Repeat("x", 124)}, admin)
	h.expect(http.StatusOK, "POST", "/sensors/registration-tokens", map[string]any{"display_name": "x", "passphrase": "Aa1!xxxxxxxxxxx"}, admin)
	if l := h.list("/sensors/registration-tokens", admin); len(l.Results) != 2 {
		t.Errorf("invalid creates stored tokens: %d", len(l.Results))
	}
}

func TestSensorTokenExpiry(t *testing.T) {
	h := newHarness(t, sim.Options{})
	id := h.createSensorToken("sensor", 1)["id"].(string)
	h.advance(30 * time.Minute)
	if st := h.expect(http.StatusOK, "GET", "/sensors/registration-tokens/"+id, nil, admin).json(t)["status"]; st != "AVAILABLE" {
		t.Fatalf("at exactly 30 min: %v", st)
	}
	h.advance(time.Millisecond)
	if st := h.expect(http.StatusOK, "GET", "/sensors/registration-tokens/"+id, nil, admin).json(t)["status"]; st != "EXPIRED" {
		t.Fatalf("after 30 min: %v", st)
	}
	// Through the control route too.
	id2 := h.createSensorToken("later", 1)["id"].(string)
	h.expect(http.StatusOK, "POST", "/_sandbox/clock", map[string]any{"advance": "31m"}, "")
	if st := h.expect(http.StatusOK, "GET", "/sensors/registration-tokens/"+id2, nil, admin).json(t)["status"]; st != "EXPIRED" {
		t.Fatalf("after /_sandbox/clock: %v", st)
	}
	r := h.expect(http.StatusConflict, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": id2, "passphrase": goodPassphrase}, "")
	if !strings.Contains(r.json(t)["error"].(string), "EXPIRED") {
		t.Errorf("register with an expired token: %s", r.body)
	}
}

func TestSensorTokenUsedAfterRegistration(t *testing.T) {
	h := newHarness(t, sim.Options{SeedSensors: 5})
	tok := h.createSensorToken("sensor", 2)
	id := tok["id"].(string)

	h.expect(http.StatusBadRequest, "POST", "/_sandbox/ssp/register", `{"token_id":`, "")
	h.expect(http.StatusBadRequest, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": id}, "")
	h.expect(http.StatusNotFound, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": "nope", "passphrase": goodPassphrase}, "")
	h.expect(http.StatusForbidden, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": id, "passphrase": "Wrong-Passphrase-42"}, "")

	first := h.register(id)
	if first["device_type"] != "SENSOR" || first["usage_count"] != 1.0 || first["status"] != "AVAILABLE" {
		t.Errorf("first registration: %v", first)
	}
	got := h.expect(http.StatusOK, "GET", "/sensors/registration-tokens/"+id, nil, admin).json(t)
	if got["usage_count"] != 1.0 || got["number_available"] != 1.0 || got["status"] != "AVAILABLE" {
		t.Errorf("after one of two: %v", got)
	}
	second := h.expect(http.StatusOK, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": id, "passphrase": goodPassphrase, "display_name": "edge-7"}, "").json(t)
	got = h.expect(http.StatusOK, "GET", "/sensors/registration-tokens/"+id, nil, admin).json(t)
	if got["usage_count"] != 2.0 || got["number_available"] != 0.0 || got["status"] != "USED" {
		t.Errorf("after two of two: %v", got)
	}
	r := h.expect(http.StatusConflict, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": id, "passphrase": goodPassphrase}, "")
	if !strings.Contains(string(r.body), "USED") {
		t.Errorf("third registration: %s", r.body)
	}
	// USED wins over EXPIRED.
	h.advance(time.Hour)
	if st := h.expect(http.StatusOK, "GET", "/sensors/registration-tokens/"+id, nil, admin).json(t)["status"]; st != "USED" {
		t.Errorf("used and expired: %v", st)
	}

	// The sensors joined the lists, registered with the token.
	l := h.list("/sensors/appliances", admin)
	if *l.TotalResultCount != 7 {
		t.Fatalf("total %d, want 5 seeded + 2 registered", *l.TotalResultCount)
	}
	ids := field[string](t, l, "id")
	tokens := field[string](t, l, "token_id")
	names := field[string](t, l, "display_name")
	for i, want := range []string{first["sensor_id"].(string), second["sensor_id"].(string)} {
		j := 5 + i
		if ids[j] != want || tokens[j] != id {
			t.Errorf("registered sensor %d: id %s token %s", i, ids[j], tokens[j])
		}
	}
	if names[5] != "sensor" || names[6] != "edge-7" {
		t.Errorf("registered names %v", names[5:])
	}
	st := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+ids[5]+"/status", nil, admin).json(t)
	if st["registration_status"] != "REGISTERED" || st["health"] != "OK" {
		t.Errorf("registered sensor status %v", st)
	}
}

func TestSensorTokenList(t *testing.T) {
	h := newHarness(t, sim.Options{})
	names := []string{"delta", "alpha", "echo", "charlie", "bravo"}
	ids := map[string]string{}
	for i, n := range names {
		ids[n] = h.createSensorToken(n, i+1)["id"].(string)
	}
	// charlie (allowed 4) gets one registration; alpha (allowed 2) is used twice.
	h.register(ids["charlie"])
	h.register(ids["alpha"])
	h.register(ids["alpha"])

	l := h.list("/sensors/registration-tokens", admin)
	if got := field[string](t, l, "display_name"); !slices.Equal(got, names) {
		t.Errorf("default order %v, want creation order", got)
	}
	if *l.TotalResultCount != 5 || l.TotalPages != 1 || l.SortBy != "" || l.SortAscending != nil {
		t.Errorf("envelope %+v", l)
	}

	l = h.list("/sensors/registration-tokens?page_size=2", admin)
	if l.NumberOfResults != 2 || l.TotalResultCount == nil || *l.TotalResultCount != 5 || l.TotalPages != 3 {
		t.Errorf("first page %+v", l)
	}
	l = h.list("/sensors/registration-tokens?page_size=2&offset=4", admin)
	if l.NumberOfResults != 1 || l.TotalResultCount != nil || l.TotalPages != 3 {
		t.Errorf("last page %+v (total_result_count is for the first page only)", l)
	}
	if got := field[string](t, l, "display_name"); !slices.Equal(got, []string{"bravo"}) {
		t.Errorf("last page %v", got)
	}
	if l = h.list("/sensors/registration-tokens?offset=9", admin); l.NumberOfResults != 0 {
		t.Errorf("past the end: %+v", l)
	}

	sorted := func(q string) []string {
		return field[string](t, h.list("/sensors/registration-tokens?"+q, admin), "display_name")
	}
	if got := sorted("sort_by=display_name&sort_ascending=true"); !slices.Equal(got, []string{"alpha", "bravo", "charlie", "delta", "echo"}) {
		t.Errorf("by name ascending %v", got)
	}
	if got := sorted("sort_by=display_name"); !slices.Equal(got, []string{"echo", "delta", "charlie", "bravo", "alpha"}) {
		t.Errorf("by name, default descending %v", got)
	}
	// remaining: delta 1, alpha 0, echo 3, charlie 3, bravo 5; ties keep creation order.
	if got := sorted("sort_by=remaining_instance_count&sort_ascending=true"); !slices.Equal(got, []string{"alpha", "delta", "echo", "charlie", "bravo"}) {
		t.Errorf("by remaining %v", got)
	}
	if got := sorted("sort_by=usage_count&sort_ascending=false"); !slices.Equal(got, []string{"alpha", "charlie", "delta", "echo", "bravo"}) {
		t.Errorf("by usage %v", got)
	}
	if got := sorted("sort_by=status&sort_ascending=true"); got[len(got)-1] != "alpha" {
		t.Errorf("by status: USED sorts after AVAILABLE: %v", got)
	}
	l = h.list("/sensors/registration-tokens?sort_by=status&sort_ascending=true", admin)
	if l.SortBy != "status" || l.SortAscending == nil || !*l.SortAscending {
		t.Errorf("sort echo %+v", l)
	}

	if got := sorted("display_name=charlie"); !slices.Equal(got, []string{"charlie"}) {
		t.Errorf("display_name filter %v", got)
	}
	if got := sorted("token_status=USED"); !slices.Equal(got, []string{"alpha"}) {
		t.Errorf("token_status=USED %v", got)
	}
	h.advance(31 * time.Minute)
	if got := sorted("token_status=EXPIRED"); len(got) != 4 {
		t.Errorf("token_status=EXPIRED %v", got)
	}
	if got := sorted("token_status=AVAILABLE"); len(got) != 0 {
		t.Errorf("token_status=AVAILABLE %v", got)
	}

	for q, frag := range map[string]string{
		"sort_by=description":    "sort_by",
		"token_status=available": "token_status",
		"offset=-1":              "offset",
		"offset=x":               "offset",
		"page_size=-5":           "page_size",
		"sort_ascending=yes":     "sort_ascending",
	} {
		h.expectError(http.StatusBadRequest, "sensor", "GET", "/sensors/registration-tokens?"+q, nil, admin, frag)
	}
}

func TestSensorTokenGetDelete(t *testing.T) {
	h := newHarness(t, sim.Options{})
	id := h.createSensorToken("sensor", 1)["id"].(string)
	h.expectError(http.StatusNotFound, "sensor", "GET", "/sensors/registration-tokens/missing", nil, admin, "not found")
	for range 2 {
		r := h.expect(http.StatusOK, "DELETE", "/sensors/registration-tokens/"+id, nil, admin)
		if len(r.body) != 0 {
			t.Errorf("delete has a body: %s", r.body)
		}
	}
	h.expect(http.StatusNotFound, "GET", "/sensors/registration-tokens/"+id, nil, admin)
	h.expect(http.StatusOK, "DELETE", "/sensors/registration-tokens/never-existed", nil, admin)
	if l := h.list("/sensors/registration-tokens", admin); len(l.Results) != 0 {
		t.Errorf("after delete: %d tokens", len(l.Results))
	}
}

func TestBaremetalTokens(t *testing.T) {
	h := newHarness(t, sim.Options{})
	r := h.expect(http.StatusCreated, "POST", "/baremetal/registration-tokens",
		map[string]any{"display_name": "rack-7", "passphrase": goodPassphrase, "description": "rack 7", "allowed_instance_count": 2}, admin)
	if strings.Contains(string(r.body), "passphrase") {
		t.Fatalf("the create answer shows the passphrase: %s", r.body)
	}
	tok := r.json(t)
	id := tok["id"].(string)
	for k, v := range map[string]any{"display_name": "rack-7", "device_type": "BAREMETAL", "expiry_time_since_creation_mins": 30.0,
		"allowed_instance_count": 2.0, "_create_user": "admin", "_create_time": float64(testNow.UnixMilli())} {
		if tok[k] != v {
			t.Errorf("%s = %v, want %v", k, tok[k], v)
		}
	}
	for _, k := range []string{"status", "registration_manifest", "expiration"} {
		if _, ok := tok[k]; ok {
			t.Errorf("RegistrationToken has %s (it belongs to TokenStatusInfo)", k)
		}
	}
	if got := h.expect(http.StatusOK, "GET", "/baremetal/registration-tokens/"+id, nil, admin).json(t); got["id"] != id {
		t.Errorf("get %v", got)
	}
	h.expectError(http.StatusNotFound, "baremetal-security", "GET", "/baremetal/registration-tokens/missing", nil, admin)
	h.expectError(http.StatusNotFound, "baremetal-security", "GET", "/baremetal/registration-tokens/missing/status", nil, admin)

	exp := testNow.UnixMilli() + 30*60*1000
	st := h.expect(http.StatusOK, "GET", "/baremetal/registration-tokens/"+id+"/status", nil, auditor).json(t)
	for k, v := range map[string]any{"id": id, "display_name": "rack-7", "description": "rack 7", "allowed_instance_count": 2.0,
		"remaining_instance_count": 2.0, "status": "AVAILABLE", "expiration_timestamp": float64(exp)} {
		if st[k] != v {
			t.Errorf("status %s = %v, want %v", k, st[k], v)
		}
	}
	checkManifest(t, st["registration_manifest"].(string), h.ts.URL, id, "BAREMETAL", exp)

	// A longer life, then registrations use it up.
	long := h.expect(http.StatusCreated, "POST", "/baremetal/registration-tokens",
		map[string]any{"display_name": "rack-8", "passphrase": goodPassphrase, "expiry_time_since_creation_mins": 120}, admin).json(t)
	longID := long["id"].(string)
	reg := h.register(longID)
	if reg["device_type"] != "BAREMETAL" || reg["remaining_instance_count"] != 0.0 || reg["status"] != "USED" {
		t.Errorf("baremetal registration: %v", reg)
	}
	h.register(id)
	if st := h.expect(http.StatusOK, "GET", "/baremetal/registration-tokens/"+id+"/status", nil, admin).json(t); st["remaining_instance_count"] != 1.0 || st["status"] != "AVAILABLE" {
		t.Errorf("after one registration: %v", st)
	}
	if n := *h.list("/sensors/appliances", admin).TotalResultCount; n != 0 {
		t.Errorf("a baremetal registration added %d sensors", n)
	}

	statuses := func(q string) []string {
		return field[string](t, h.list("/baremetal/registration-tokens/statuses?"+q, admin), "display_name")
	}
	if got := statuses(""); !slices.Equal(got, []string{"rack-7", "rack-8"}) {
		t.Errorf("statuses %v", got)
	}
	if got := statuses("tokens_status=AVAILABLE"); !slices.Equal(got, []string{"rack-7"}) {
		t.Errorf("AVAILABLE %v", got)
	}
	h.advance(31 * time.Minute)
	if got := statuses("tokens_status=EXPIRED"); !slices.Equal(got, []string{"rack-7"}) {
		t.Errorf("EXPIRED %v (rack-8 is USED)", got)
	}
	if got := statuses("display_name=rack-8"); !slices.Equal(got, []string{"rack-8"}) {
		t.Errorf("display_name filter %v", got)
	}
	if got := statuses("sort_by=remaining_instance_count&sort_ascending=true"); !slices.Equal(got, []string{"rack-8", "rack-7"}) {
		t.Errorf("by remaining %v", got)
	}
	h.expectError(http.StatusBadRequest, "baremetal-security", "GET", "/baremetal/registration-tokens/statuses?tokens_status=USED", nil, admin, "tokens_status")
	h.expectError(http.StatusBadRequest, "baremetal-security", "GET", "/baremetal/registration-tokens/statuses?sort_by=passphrase", nil, admin, "sort_by")

	l := h.list("/baremetal/registration-tokens?sort_by=display_name", admin)
	if got := field[string](t, l, "display_name"); !slices.Equal(got, []string{"rack-8", "rack-7"}) {
		t.Errorf("list by name %v", got)
	}
	if l := h.list("/baremetal/registration-tokens?page_size=1&offset=1", admin); l.NumberOfResults != 1 || l.TotalPages != 2 || l.TotalResultCount != nil {
		t.Errorf("second page %+v", l)
	}

	for range 2 {
		if r := h.expect(http.StatusAccepted, "DELETE", "/baremetal/registration-tokens/"+id, nil, admin); len(r.body) != 0 {
			t.Errorf("delete body %s", r.body)
		}
	}
	h.expect(http.StatusNotFound, "GET", "/baremetal/registration-tokens/"+id, nil, admin)
}

func TestBaremetalTokenValidation(t *testing.T) {
	h := newHarness(t, sim.Options{})
	cases := []struct {
		name string
		body any
		want []string
	}{
		{"malformed", `{`, []string{"JSON"}},
		{"unknown field", map[string]any{"display_name": "rack", "passphrase": goodPassphrase, "color": "red"}, []string{"color"}},
		{"short name", map[string]any{"display_name": "ab", "passphrase": goodPassphrase}, []string{"display_name", "3 to 64"}},
		{"long name", map[string]any{"display_name": strings.Repeat("n", 65), "passphrase": goodPassphrase}, []string{"3 to 64"}},
		{"weak passphrase", map[string]any{"display_name": "rack", "passphrase": "passphrase-weak!"}, []string{"uppercase", "digit"}},
		{"zero expiry", map[string]any{"display_name": "rack", "passphrase": goodPassphrase, "expiry_time_since_creation_mins": 0}, []string{"expiry_time_since_creation_mins"}},
		{"negative instances", map[string]any{"display_name": "rack", "passphrase": goodPassphrase, "allowed_instance_count": -1}, []string{"allowed_instance_count"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h.expectError(http.StatusBadRequest, "baremetal-security", "POST", "/baremetal/registration-tokens", c.body, admin, c.want...)
		})
	}
	// Read-only fields of RegistrationToken are accepted and ignored.
	tok := h.expect(http.StatusCreated, "POST", "/baremetal/registration-tokens",
		map[string]any{"display_name": "rack", "passphrase": goodPassphrase, "device_type": "SENSOR", "id": "mine"}, admin).json(t)
	if tok["device_type"] != "BAREMETAL" || tok["id"] == "mine" {
		t.Errorf("read-only fields were taken: %v", tok)
	}
}

func TestPassphraseNotStored(t *testing.T) {
	dir := t.TempDir()
	h := newHarnessState(t, sim.Options{}, dir+"/state.json")
	h.createSensorToken("sensor", 1)
	h.createBaremetalToken("rack", 1)
	raw := saveState(t, h)
	if strings.Contains(string(raw), goodPassphrase) {
		t.Fatalf("the state holds the passphrase: %s", raw)
	}
	var st struct {
		SensorTokens []struct {
			Hash string `json:"passphrase_sha256"`
		} `json:"sensor_tokens"`
	}
	if err := json.Unmarshal(raw, &st); err != nil || len(st.SensorTokens) != 1 || len(st.SensorTokens[0].Hash) != 64 {
		t.Fatalf("state %s (%v)", raw, err)
	}
}
