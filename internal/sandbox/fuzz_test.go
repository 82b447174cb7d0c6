package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// fuzzRoutes are request targets of every vendor; {id} takes a fuzzed path
// segment. Together with a fuzzed method, query and body they reach every
// handler's request parsing.
var fuzzRoutes = []string{
	// SSP
	"/sensors/registration-tokens", "/sensors/registration-tokens/{id}",
	"/sensors/appliances", "/sensors/appliances/details", "/sensors/appliances/{id}",
	"/sensors/appliances/{id}/status", "/sensors/appliances/{id}/ids-signature-bundle", "/sensors/appliances/{id}/feature-config",
	"/sensors/feature-config/ids-events", "/sensors/feature-config/flow-events", "/sensors/feature-config/malware-prevention-events",
	"/sensors/mps-global-config", "/sensors/version-summary",
	"/baremetal/registration-tokens", "/baremetal/registration-tokens/statuses",
	"/baremetal/registration-tokens/{id}", "/baremetal/registration-tokens/{id}/status",
	// NSX
	"/api/v1/aaa/registration-token", "/api/v1/aaa/registration-token/{id}",
	"/api/v1/aaa/registration-token/retrieve", "/api/v1/aaa/registration-token/delete",
	"/policy/api/v1/aaa/registration-token/{id}", "/api/v1/security/sensor-registration-token",
	"/api/session/create", "/api/session/destroy",
	// SD-WAN
	"/v2.1/api/profile", "/v2.1/api/tenants/" + sdwan.TenantID + "/operators/" + sdwan.OperatorID + "/authtokens",
	"/v2.1/api/tenants/" + sdwan.TenantID + "/operators/" + sdwan.OperatorID + "/authtokens/{id}",
	"/v2.0/api/tenants/{id}/operators/{id}/authtokens",
	"/sdwan/v2.1/api/profile", "/sdwan/v2.1/api/operators/" + sdwan.OperatorID + "/authtokens",
	"/sdwan/v2.1/api/operators/" + sdwan.OperatorID + "/authtokens/{id}",
	"/oauth2/access_token", "/auth/v1/oauth2/access_token",
	// agent-config
	"/rest/agent-config/1.0/tokens", "/rest/agent-config/1.0/tokens/", "/rest/agent-config/1.0/tokens/{id}",
	"/rest/agents/1.0/{id}/state", "/rest/agents/1.0/{id}/state/enable",
	// control
	"/_sandbox/clock", "/_sandbox/ssp/register",
}

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}

// FuzzVendorRequests sends arbitrary methods, path segments, queries and
// bodies, with valid credentials (so that parsing is reached), to every
// vendor's routes. The sandbox must never panic or answer 5xx, and every
// body it sends as JSON must be JSON.
func FuzzVendorRequests(f *testing.F) {
	f.Add(uint8(0), uint8(1), "x", "", []byte(`{"display_name":"a","passphrase":"Abcdefgh1234567!"}`))
	f.Add(uint8(2), uint8(0), "x", "offset=5&page_size=3&sort_by=display_name&sort_ascending=true", []byte(nil))
	f.Add(uint8(8), uint8(1), "x", "", []byte(`{"sensor_ids":["a","b"],"ids_enabled":true}`))
	f.Add(uint8(17), uint8(1), "x", "", []byte(`{}`))
	f.Add(uint8(19), uint8(1), "x", "", []byte(`{"token":"abc"}`))
	f.Add(uint8(25), uint8(1), "x", "", []byte(`{"name":"t","roles":[{"name":"tenant_super"}]}`))
	f.Add(uint8(32), uint8(1), "x", "", []byte(`grant_type=client_credentials&client_id=tokenctl-sandbox&client_secret=tokenctl-sandbox`))
	f.Add(uint8(34), uint8(1), "x", "", []byte(`{"name":"agent","read":true,"change":false}`))
	f.Add(uint8(36), uint8(2), "%zz", "a=%", []byte(`{"read":"yes"`))
	f.Add(uint8(39), uint8(1), "x", "", []byte(`{"advance":"-5m"}`))

	srv, err := New(Options{Options: sim.Options{Seed: 1, SeedSensors: 30}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { srv.Close() })
	h := srv.Handler()

	f.Fuzz(func(t *testing.T, route, method uint8, id, query string, body []byte) {
		path := strings.ReplaceAll(fuzzRoutes[int(route)%len(fuzzRoutes)], "{id}", url.PathEscape(id))
		target := path
		if query != "" {
			target += "?" + query
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return // not a request line an HTTP server would hand over
		}
		req := httptest.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], "http://sandbox.invalid/", bytes.NewReader(body))
		req.URL = u
		req.RequestURI = target
		req.SetBasicAuth(sim.AdminUser, sim.DefaultPassword)
		req.Header.Set("X-Auth-Token", sdwan.StaticAuthToken)
		if len(body) > 0 && body[0] == '{' {
			req.Header.Set("Content-Type", "application/json")
		} else if len(body) > 0 {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", req.Method, target, rec.Code, rec.Body)
		}
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: %d sent invalid JSON %q", req.Method, target, rec.Code, rec.Body)
		}
	})
}
