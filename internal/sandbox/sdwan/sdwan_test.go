package sdwan_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

var startTime = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return startTime }

type harness struct {
	t   *testing.T
	env *sim.Env
	v   *sdwan.Vendor
	srv *httptest.Server
	c   *contract
}

func newHarness(t *testing.T, opts sim.Options) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedClock
	}
	env := sim.NewEnv(opts)
	return serve(t, env, sdwan.New(env))
}

func serve(t *testing.T, env *sim.Env, v *sdwan.Vendor) *harness {
	t.Helper()
	mux := http.NewServeMux()
	v.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &harness{t: t, env: env, v: v, srv: srv, c: loadContract(t)}
}

func (h *harness) advance(d time.Duration) {
	h.env.Lock()
	h.env.Advance(d)
	h.env.Unlock()
}

func (h *harness) nowMs() int64 {
	h.env.Lock()
	defer h.env.Unlock()
	return h.env.NowMs()
}

// request is one call; body is sent as is when it is a string, else as JSON.
type request struct {
	method, path string
	header       http.Header
	body         any
	// invalid marks a body the vendor's spec itself rejects.
	invalid bool
}

type response struct {
	status int
	header http.Header
	raw    []byte
	obj    map[string]any
}

func (h *harness) send(r request) *response {
	h.t.Helper()
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			h.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(r.method, h.srv.URL+r.path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	h.c.check(h.t, req, body, r.invalid, resp, raw)
	out := &response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.obj); err != nil {
			h.t.Fatalf("%s %s: response is not a JSON object: %v: %s", r.method, r.path, err, raw)
		}
	}
	return out
}

func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// codes returns the _error codes of an error body.
func (r *response) codes() []string {
	var e struct {
		Error []struct{ Code string } `json:"_error"`
	}
	_ = json.Unmarshal(r.raw, &e)
	var out []string
	for _, x := range e.Error {
		out = append(out, x.Code)
	}
	return out
}

func (r *response) wantError(t *testing.T, status int, codes ...string) {
	t.Helper()
	r.want(t, status)
	if got := r.codes(); !slices.Equal(got, codes) {
		t.Fatalf("error codes %v, want %v; body %s", got, codes, r.raw)
	}
}

func (r *response) str(key string) string {
	s, _ := r.obj[key].(string)
	return s
}

func (r *response) items(t *testing.T) []map[string]any {
	t.Helper()
	raw, ok := r.obj["items"].([]any)
	if !ok {
		t.Fatalf("no items array in %s", r.raw)
	}
	var out []map[string]any
	for _, it := range raw {
		out = append(out, it.(map[string]any))
	}
	return out
}

func xAuth(token string) http.Header { return http.Header{"X-Auth-Token": {token}} }

func bearer(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }

var static = xAuth(sdwan.StaticAuthToken)

func legacyTokens(ver string) string {
	return "/" + ver + "/api/tenants/" + sdwan.TenantID + "/operators/" + sdwan.OperatorID + "/authtokens"
}

func unifiedTokens(ver string) string {
	return "/sdwan/" + ver + "/api/operators/" + sdwan.OperatorID + "/authtokens"
}

// oauth posts to the token endpoint with the given Basic credentials (none
// when id is "") and form.
func (h *harness) oauth(path, id, secret string, form url.Values) *response {
	h.t.Helper()
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if id != "" {
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	}
	return h.send(request{method: "POST", path: path, header: header, body: form.Encode()})
}

func scopeForm(scope string) url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
}

// accessToken gets a new access token (the profile call not yet made).
func (h *harness) accessToken() string {
	h.t.Helper()
	r := h.oauth("/oauth2/access_token", sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, scopeForm("tsg_id:"+sdwan.TSGID)).want(h.t, 200)
	tok := r.str("access_token")
	if tok == "" {
		h.t.Fatalf("no access_token in %s", r.raw)
	}
	return tok
}

// session gets an access token and makes the mandatory profile call.
func (h *harness) session() http.Header {
	h.t.Helper()
	auth := bearer(h.accessToken())
	h.send(request{method: "GET", path: "/sdwan/v2.1/api/profile", header: auth}).want(h.t, 200)
	return auth
}

// client is one generation and version with working credentials.
type client struct {
	name, ver string
	unified   bool
	tokens    string // the authtokens collection path
	profile   string
	auth      http.Header
}

func (h *harness) clients() []client {
	var cs []client
	for _, ver := range []string{"v2.0", "v2.1"} {
		cs = append(cs, client{name: "legacy " + ver, ver: ver, tokens: legacyTokens(ver), profile: "/" + ver + "/api/profile", auth: static})
	}
	auth := h.session()
	for _, ver := range []string{"v2.0", "v2.1"} {
		cs = append(cs, client{name: "unified " + ver, ver: ver, unified: true, tokens: unifiedTokens(ver), profile: "/sdwan/" + ver + "/api/profile", auth: auth})
	}
	return cs
}

func (h *harness) create(c client, body any) *response {
	h.t.Helper()
	return h.send(request{method: "POST", path: c.tokens, header: c.auth, body: body})
}

func (h *harness) validBody() map[string]any {
	return map[string]any{"roles": []any{map[string]any{"name": "tenant_viewonly"}}, "expires_utc_ms": h.nowMs() + time.Hour.Milliseconds()}
}

var idPattern = regexp.MustCompile(`^[0-9]{17}$`)

func TestAuthtokenLifecycle(t *testing.T) {
	h := newHarness(t, sim.Options{})
	for _, c := range h.clients() {
		t.Run(c.name, func(t *testing.T) {
			h.t = t
			list := h.send(request{method: "GET", path: c.tokens, header: c.auth}).want(t, 200)
			if list.str("tenant_id") != sdwan.TenantID {
				t.Errorf("tenant_id %q", list.str("tenant_id"))
			}
			before := list.items(t)
			if int(list.obj["count"].(float64)) != len(before) {
				t.Errorf("count %v but %d items", list.obj["count"], len(before))
			}
			var system map[string]any
			for _, it := range before {
				if it["id"] == sdwan.SystemTokenID {
					system = it
				}
			}
			if system == nil {
				t.Fatalf("the system-owned token is not listed: %s", list.raw)
			}
			if owned, ok := system["is_system_owned"]; c.ver == "v2.1" && owned != true || c.ver == "v2.0" && ok {
				t.Errorf("%s: system token is_system_owned = %v (present %v)", c.ver, owned, ok)
			}

			sessionKey := strings.Repeat("k", 128)
			exp := h.nowMs() + time.Hour.Milliseconds()
			created := h.create(c, map[string]any{
				"roles":          []any{map[string]any{"name": "tenant_viewonly"}, map[string]any{"name": "secops"}},
				"expires_utc_ms": exp,
				"session_key_c":  sessionKey,
				"custom_roles": []any{map[string]any{
					"name":               "auditors",
					"roles":              []any{map[string]any{"name": "tenant_viewonly"}},
					"permissions":        []any{map[string]any{"value": "authtokens.read"}},
					"custom_permissions": []any{map[string]any{"value": "sites.read", "tenant_id": sdwan.TenantID}},
				}},
			}).want(t, 200)
			id := created.str("id")
			secret := created.str("x_auth_token")
			if !idPattern.MatchString(id) {
				t.Errorf("id %q is not a 17-digit numeric string", id)
			}
			if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(secret) {
				t.Errorf("x_auth_token %q is not 64 hex digits", secret)
			}
			if created.obj["_etag"] != 1.0 || created.obj["_created_on_utc"] != float64(mustInt(t, id)) || created.obj["_updated_on_utc"] != 0.0 {
				t.Errorf("metadata: %s", created.raw)
			}
			wantSchema := map[string]float64{"v2.0": 0, "v2.1": 1}[c.ver]
			if created.obj["_schema"] != wantSchema {
				t.Errorf("_schema %v, want %v", created.obj["_schema"], wantSchema)
			}
			if created.obj["expires_utc_ms"] != float64(exp) || created.str("session_key_c") != sessionKey {
				t.Errorf("fields not echoed: %s", created.raw)
			}
			if roles, _ := json.Marshal(created.obj["roles"]); string(roles) != `[{"name":"tenant_viewonly"},{"name":"secops"}]` {
				t.Errorf("roles %s", roles)
			}
			if crs, _ := json.Marshal(created.obj["custom_roles"]); !strings.Contains(string(crs), `"name":"auditors"`) || !strings.Contains(string(crs), `"value":"sites.read"`) {
				t.Errorf("custom_roles %s", crs)
			}
			if owned, ok := created.obj["is_system_owned"]; c.ver == "v2.1" && owned != false || c.ver == "v2.0" && ok {
				t.Errorf("is_system_owned = %v (present %v)", owned, ok)
			}

			got := h.send(request{method: "GET", path: c.tokens + "/" + id, header: c.auth}).want(t, 200)
			if _, ok := got.obj["x_auth_token"]; ok {
				t.Errorf("get carries x_auth_token: %s", got.raw)
			}
			withoutSecret := maps(created.obj)
			delete(withoutSecret, "x_auth_token")
			if a, b := mustJSON(t, withoutSecret), mustJSON(t, got.obj); a != b {
				t.Errorf("get differs from create:\n%s\n%s", a, b)
			}

			list = h.send(request{method: "GET", path: c.tokens, header: c.auth}).want(t, 200)
			if len(list.items(t)) != len(before)+1 {
				t.Errorf("list has %d items, want %d", len(list.items(t)), len(before)+1)
			}
			if strings.Contains(string(list.raw), secret) || strings.Contains(string(list.raw), "x_auth_token") {
				t.Errorf("list carries the secret: %s", list.raw)
			}

			// The new token authenticates legacy calls as the operator.
			prof := h.send(request{method: "GET", path: "/v2.1/api/profile", header: xAuth(secret)}).want(t, 200)
			if prof.str("id") != sdwan.OperatorID || prof.str("session_id") != id || prof.obj["token_session"] != true {
				t.Errorf("profile with the new token: %s", prof.raw)
			}
			h.send(request{method: "GET", path: legacyTokens("v2.1") + "/" + id, header: xAuth(secret)}).want(t, 200)

			del := h.send(request{method: "DELETE", path: c.tokens + "/" + id, header: c.auth}).want(t, 200)
			if del.str("id") != id || strings.Contains(string(del.raw), "x_auth_token") {
				t.Errorf("delete body: %s", del.raw)
			}
			h.send(request{method: "GET", path: c.tokens + "/" + id, header: c.auth}).wantError(t, 404, "NOT_FOUND")
			h.send(request{method: "DELETE", path: c.tokens + "/" + id, header: c.auth}).wantError(t, 404, "NOT_FOUND")
			h.send(request{method: "GET", path: "/v2.1/api/profile", header: xAuth(secret)}).wantError(t, 401, "UNAUTHORIZED")
			if n := len(h.send(request{method: "GET", path: c.tokens, header: c.auth}).want(t, 200).items(t)); n != len(before) {
				t.Errorf("after delete the list has %d items, want %d", n, len(before))
			}
		})
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func maps(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestStaticTokenAndProfiles(t *testing.T) {
	h := newHarness(t, sim.Options{})
	// Header names are case-insensitive: send a lower-case one as written.
	lower := http.Header{"x-auth-token": {sdwan.StaticAuthToken}}
	p := h.send(request{method: "GET", path: "/v2.1/api/profile", header: lower}).want(t, 200)
	for k, want := range map[string]any{
		"id": sdwan.OperatorID, "tenant_id": sdwan.TenantID, "email": sdwan.OperatorEmail,
		"session_id": sdwan.SystemTokenID, "region": sdwan.Region, "token_session": true,
	} {
		if p.obj[k] != want {
			t.Errorf("v2.1 profile %s = %v, want %v", k, p.obj[k], want)
		}
	}
	if roles := mustJSON(t, p.obj["roles"]); roles != `[{"name":"tenant_super"}]` {
		t.Errorf("roles %s", roles)
	}
	p = h.send(request{method: "GET", path: "/v2.0/api/profile", header: static}).want(t, 200)
	for k, want := range map[string]any{"id": sdwan.OperatorID, "tenant_id": sdwan.TenantID, "email": sdwan.OperatorEmail, "first_name": "Sandbox"} {
		if p.obj[k] != want {
			t.Errorf("v2.0 profile %s = %v, want %v", k, p.obj[k], want)
		}
	}
	if _, ok := p.obj["linked_accounts"]; !ok {
		t.Errorf("v2.0 profile lacks the required linked_accounts: %s", p.raw)
	}
	// The static token never expires.
	h.advance(10 * 365 * 24 * time.Hour)
	h.send(request{method: "GET", path: legacyTokens("v2.1"), header: static}).want(t, 200)
}

func TestLegacyUnauthorized(t *testing.T) {
	h := newHarness(t, sim.Options{})
	auth := h.session()
	for _, ver := range []string{"v2.0", "v2.1"} {
		for _, hdr := range []http.Header{nil, xAuth("nope"), xAuth(sdwan.StaticAuthToken + "x"), auth} {
			for _, r := range []request{
				{method: "GET", path: "/" + ver + "/api/profile"},
				{method: "GET", path: legacyTokens(ver)},
				{method: "POST", path: legacyTokens(ver), body: h.validBody()},
				{method: "GET", path: legacyTokens(ver) + "/" + sdwan.SystemTokenID},
				{method: "DELETE", path: legacyTokens(ver) + "/" + sdwan.SystemTokenID},
			} {
				r.header = hdr
				h.send(r).wantError(t, 401, "UNAUTHORIZED")
			}
		}
	}
}

func TestTenantAndOperatorChecks(t *testing.T) {
	h := newHarness(t, sim.Options{})
	for _, c := range h.clients() {
		paths := map[string]string{"operator": strings.Replace(c.tokens, "/operators/"+sdwan.OperatorID, "/operators/99", 1)}
		if !c.unified {
			paths["tenant"] = strings.Replace(c.tokens, "/tenants/"+sdwan.TenantID, "/tenants/2000", 1)
		}
		for what, base := range paths {
			code := map[string]string{"operator": "TOKEN_INVALID_OPERATOR_ID", "tenant": "ESP_INVALID_TENANT_DATA"}[what]
			for _, r := range []request{
				{method: "GET", path: base},
				{method: "POST", path: base, body: h.validBody()},
				{method: "GET", path: base + "/" + sdwan.SystemTokenID},
				{method: "DELETE", path: base + "/" + sdwan.SystemTokenID},
			} {
				r.header = c.auth
				t.Run(c.name+" "+what+" "+r.method, func(t *testing.T) {
					h.t = t
					h.send(r).wantError(t, 400, code)
				})
			}
		}
	}
}

func TestCreateValidation(t *testing.T) {
	h := newHarness(t, sim.Options{})
	now := h.nowMs()
	future := now + time.Hour.Milliseconds()
	role := func(n string) map[string]any { return map[string]any{"name": n} }
	eight := []any{}
	for _, n := range sdwan.RoleNames()[:8] {
		eight = append(eight, role(n))
	}
	with := func(extra map[string]any) map[string]any {
		b := map[string]any{"roles": []any{role("tenant_super")}, "expires_utc_ms": future}
		for k, v := range extra {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	type tc struct {
		name    string
		body    any
		only    string // "v2.1", "v2.0", "legacy", "unified" or ""
		codes   []string
		invalid bool // the body breaks the vendor's spec too
	}
	cases := []tc{
		{name: "eight roles", body: with(map[string]any{"roles": eight}), codes: []string{"SESSION_INVALID_ROLE_LIST_SIZE"}},
		{name: "unknown role", body: with(map[string]any{"roles": []any{role("tenant_god")}}), codes: []string{"AUTH_ROLE_INVALID"}},
		{name: "role without name", body: with(map[string]any{"roles": []any{map[string]any{}}}), codes: []string{"AUTH_ROLE_INVALID"}, invalid: true},
		// AuthRole has no "type: object", so the spec itself lets a bare string through.
		{name: "role as a string", body: with(map[string]any{"roles": []any{"tenant_super"}}), codes: []string{"AUTH_ROLE_INVALID"}},
		{name: "roles not an array", body: with(map[string]any{"roles": "tenant_super"}), codes: []string{"INVALID_JSON_INPUT"}, invalid: true},
		{name: "eight roles one unknown", body: with(map[string]any{"roles": append(slices.Clone(eight[:7]), role("nobody"))}), codes: []string{"SESSION_INVALID_ROLE_LIST_SIZE", "AUTH_ROLE_INVALID"}},
		{name: "no expiry", body: with(map[string]any{"expires_utc_ms": nil}), codes: []string{"INVALID_EXPIRES_UTC_MS"}},
		{name: "null expiry", body: `{"expires_utc_ms": null}`, codes: []string{"INVALID_EXPIRES_UTC_MS"}, invalid: true},
		{name: "past expiry", body: with(map[string]any{"expires_utc_ms": now - 1}), codes: []string{"INVALID_EXPIRES_UTC_MS"}},
		{name: "expiry now", body: with(map[string]any{"expires_utc_ms": now}), codes: []string{"INVALID_EXPIRES_UTC_MS"}},
		{name: "expiry in seconds", body: with(map[string]any{"expires_utc_ms": future / 1000}), codes: []string{"INVALID_EXPIRES_UTC_MS"}},
		{name: "expiry as a string", body: with(map[string]any{"expires_utc_ms": strconv.FormatInt(future, 10)}), codes: []string{"INVALID_EXPIRES_UTC_MS"}, invalid: true},
		{name: "expiry with a fraction", body: with(map[string]any{"expires_utc_ms": float64(future) + 0.5}), codes: []string{"INVALID_EXPIRES_UTC_MS"}, invalid: true},
		{name: "session key too long", body: with(map[string]any{"session_key_c": strings.Repeat("é", 129)}), codes: []string{"TOKEN_INVALID_SESSION_DATA"}},
		{name: "session key a number", body: with(map[string]any{"session_key_c": 7}), codes: []string{"TOKEN_INVALID_SESSION_DATA"}, invalid: true},
		{name: "custom role without name", body: with(map[string]any{"custom_roles": []any{map[string]any{"roles": []any{role("tenant_super")}}}}), codes: []string{"INVALID_JSON_INPUT"}, invalid: true},
		{name: "custom role with unknown role", body: with(map[string]any{"custom_roles": []any{map[string]any{"name": "x", "roles": []any{role("root")}}}}), codes: []string{"AUTH_ROLE_INVALID"}},
		{name: "custom role with wrong type", body: with(map[string]any{"custom_roles": []any{map[string]any{"name": "x", "disabled": "no"}}}), codes: []string{"INVALID_JSON_INPUT"}, invalid: true},
		{name: "custom role permission too long", body: with(map[string]any{"custom_roles": []any{map[string]any{"name": "x", "permissions": []any{map[string]any{"value": strings.Repeat("p", 501)}}}}}), codes: []string{"INVALID_JSON_INPUT"}},
		{name: "custom permission without value", body: with(map[string]any{"custom_roles": []any{map[string]any{"name": "x", "custom_permissions": []any{map[string]any{"tenant_id": sdwan.TenantID}}}}}), codes: []string{"INVALID_JSON_INPUT"}, invalid: true},
		{name: "custom permission without tenant_id", only: "legacy", body: with(map[string]any{"custom_roles": []any{map[string]any{"name": "x", "custom_permissions": []any{map[string]any{"value": "sites.read"}}}}}), codes: []string{"INVALID_JSON_INPUT"}, invalid: true},
		{name: "custom permission without tenant_id", only: "unified", body: with(map[string]any{"custom_roles": []any{map[string]any{"name": "x", "custom_permissions": []any{map[string]any{"value": "sites.read"}}}}})},
		{name: "custom_roles not an array", body: with(map[string]any{"custom_roles": map[string]any{"name": "x"}}), codes: []string{"INVALID_JSON_INPUT"}, invalid: true},
		{name: "read-only fields", only: "v2.1", body: with(map[string]any{"id": "1", "x_auth_token": "mine", "is_system_owned": true}), codes: []string{"AUTH_TOKEN_CANNOT_SET_READONLY_FIELDS"}},
		{name: "read-only id", only: "v2.1", body: with(map[string]any{"id": "1"}), codes: []string{"AUTH_TOKEN_CANNOT_SET_READONLY_FIELDS"}},
		{name: "read-only fields unset", only: "v2.1", body: with(map[string]any{"id": "", "x_auth_token": "", "is_system_owned": false})},
		{name: "read-only fields ignored", only: "v2.0", body: with(map[string]any{"id": "1", "x_auth_token": "mine", "is_system_owned": true})},
		{name: "no roles at all", body: with(map[string]any{"roles": nil})},
		{name: "every problem at once", only: "v2.1", body: map[string]any{"id": "1", "roles": eight, "session_key_c": strings.Repeat("s", 200)},
			codes: []string{"AUTH_TOKEN_CANNOT_SET_READONLY_FIELDS", "SESSION_INVALID_ROLE_LIST_SIZE", "INVALID_EXPIRES_UTC_MS", "TOKEN_INVALID_SESSION_DATA"}},
		{name: "not JSON", body: `{"roles": [`, codes: []string{"INVALID_JSON_INPUT"}, invalid: true},
		{name: "empty body", body: ``, codes: []string{"INVALID_JSON_INPUT"}},
	}
	for _, c := range h.clients() {
		for _, tt := range cases {
			switch tt.only {
			case "v2.0", "v2.1":
				if c.ver != tt.only {
					continue
				}
			case "legacy":
				if c.unified {
					continue
				}
			case "unified":
				if !c.unified {
					continue
				}
			}
			t.Run(c.name+"/"+tt.name, func(t *testing.T) {
				h.t = t
				before := len(h.send(request{method: "GET", path: c.tokens, header: c.auth}).want(t, 200).items(t))
				r := h.send(request{method: "POST", path: c.tokens, header: c.auth, body: tt.body, invalid: tt.invalid})
				after := len(h.send(request{method: "GET", path: c.tokens, header: c.auth}).want(t, 200).items(t))
				if len(tt.codes) == 0 {
					r.want(t, 200)
					if r.str("id") == "1" || r.str("x_auth_token") == "mine" || r.obj["is_system_owned"] == true {
						t.Errorf("client-set read-only fields were kept: %s", r.raw)
					}
					if after != before+1 {
						t.Errorf("list grew from %d to %d", before, after)
					}
					return
				}
				r.wantError(t, 400, tt.codes...)
				if after != before {
					t.Errorf("a rejected create changed the list from %d to %d items", before, after)
				}
			})
		}
	}
}

func TestSystemTokenCannotBeDeleted(t *testing.T) {
	h := newHarness(t, sim.Options{})
	for _, c := range h.clients() {
		h.send(request{method: "DELETE", path: c.tokens + "/" + sdwan.SystemTokenID, header: c.auth}).wantError(t, 400, "AUTH_TOKEN_SYSTEM_OPERATIONS_NOT_ALLOWED")
	}
	h.send(request{method: "GET", path: legacyTokens("v2.1") + "/" + sdwan.SystemTokenID, header: static}).want(t, 200)
}

func TestMethodNotAllowed(t *testing.T) {
	h := newHarness(t, sim.Options{})
	for _, c := range h.clients() {
		for _, r := range []request{
			{method: "PUT", path: c.tokens + "/" + sdwan.SystemTokenID, body: h.validBody()},
			{method: "PATCH", path: c.tokens + "/" + sdwan.SystemTokenID, body: h.validBody()},
			{method: "PUT", path: c.tokens, body: h.validBody()},
			{method: "DELETE", path: c.tokens},
			{method: "POST", path: c.profile, body: `{}`},
		} {
			r.header = c.auth
			resp := h.send(r)
			resp.wantError(t, 405, "METHOD_NOT_ALLOWED")
			if resp.header.Get("Allow") == "" {
				t.Errorf("%s %s: no Allow header", r.method, r.path)
			}
		}
	}
}

func TestCreatedTokenExpires(t *testing.T) {
	h := newHarness(t, sim.Options{})
	exp := h.nowMs() + time.Hour.Milliseconds()
	c := h.clients()[1]
	created := h.create(c, map[string]any{"roles": []any{map[string]any{"name": "tenant_super"}}, "expires_utc_ms": exp}).want(t, 200)
	secret, id := created.str("x_auth_token"), created.str("id")
	h.send(request{method: "GET", path: legacyTokens("v2.0"), header: xAuth(secret)}).want(t, 200)
	h.advance(time.Hour - time.Millisecond)
	h.send(request{method: "GET", path: "/v2.1/api/profile", header: xAuth(secret)}).want(t, 200)
	h.advance(time.Millisecond)
	h.send(request{method: "GET", path: "/v2.1/api/profile", header: xAuth(secret)}).wantError(t, 401, "UNAUTHORIZED")
	h.send(request{method: "GET", path: legacyTokens("v2.1"), header: xAuth(secret)}).wantError(t, 401, "UNAUTHORIZED")
	// Expired is not deleted: the token stays listed and can be read.
	h.send(request{method: "GET", path: legacyTokens("v2.1") + "/" + id, header: static}).want(t, 200)
}

func TestOAuth(t *testing.T) {
	h := newHarness(t, sim.Options{})
	for _, path := range []string{"/oauth2/access_token", "/auth/v1/oauth2/access_token"} {
		r := h.oauth(path, sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, scopeForm("tsg_id:"+sdwan.TSGID+" email profile")).want(t, 200)
		if r.str("token_type") != "Bearer" || r.obj["expires_in"] != 899.0 || r.str("scope") != "tsg_id:"+sdwan.TSGID+" email profile" {
			t.Errorf("%s: %s", path, r.raw)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", path, r.header.Get("Cache-Control"))
		}
		parts := strings.Split(r.str("access_token"), ".")
		if len(parts) != 3 {
			t.Fatalf("access token is not a JWT: %q", r.str("access_token"))
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims struct {
			Iat, Exp int64
			Scope    []string
		}
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		if claims.Iat != startTime.Unix() || claims.Exp-claims.Iat != 900 || !slices.Contains(claims.Scope, "tsg_id:"+sdwan.TSGID) {
			t.Errorf("claims %s", payload)
		}
	}
	good := scopeForm("tsg_id:" + sdwan.TSGID)
	for _, tt := range []struct {
		name, id, secret string
		form             url.Values
		status           int
		code             string
	}{
		{"wrong secret", sdwan.OAuthClientID, "wrong", good, 401, "invalid_client"},
		{"unknown client", "someone", sdwan.DefaultOAuthClientSecret, good, 401, "invalid_client"},
		{"no credentials", "", "", good, 401, "invalid_client"},
		{"no grant", sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, url.Values{"scope": {"tsg_id:" + sdwan.TSGID}}, 400, "invalid_request"},
		{"password grant", sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, url.Values{"grant_type": {"password"}, "scope": {"tsg_id:" + sdwan.TSGID}}, 400, "unsupported_grant_type"},
		{"no scope", sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, url.Values{"grant_type": {"client_credentials"}}, 400, "invalid_scope"},
		{"scope without tsg", sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, scopeForm("email profile"), 400, "invalid_scope"},
		{"foreign tsg", sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, scopeForm("tsg_id:1000000001"), 400, "invalid_scope"},
		{"two tsgs", sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, scopeForm("tsg_id:" + sdwan.TSGID + " tsg_id:" + sdwan.TSGID), 400, "invalid_scope"},
		{"unknown scope word", sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, scopeForm("tsg_id:" + sdwan.TSGID + " admin"), 400, "invalid_scope"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h.t = t
			r := h.oauth("/oauth2/access_token", tt.id, tt.secret, tt.form).want(t, tt.status)
			if r.str("error") != tt.code || r.str("error_description") == "" {
				t.Errorf("body %s, want error %s", r.raw, tt.code)
			}
			if _, ok := r.obj["access_token"]; ok {
				t.Errorf("an error carries an access token: %s", r.raw)
			}
			if tt.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	t.Run("secret in the form only", func(t *testing.T) {
		h.t = t
		form := scopeForm("tsg_id:" + sdwan.TSGID)
		form.Set("client_id", sdwan.OAuthClientID)
		form.Set("client_secret", sdwan.DefaultOAuthClientSecret)
		h.oauth("/oauth2/access_token", "", "", form).want(t, 401)
	})
}

func TestOAuthSecretFollowsPassword(t *testing.T) {
	h := newHarness(t, sim.Options{Password: "another-sandbox-secret"})
	form := scopeForm("tsg_id:" + sdwan.TSGID)
	h.oauth("/oauth2/access_token", sdwan.OAuthClientID, sdwan.DefaultOAuthClientSecret, form).want(t, 401)
	h.oauth("/oauth2/access_token", sdwan.OAuthClientID, "another-sandbox-secret", form).want(t, 200)
}

func TestProfileCallRule(t *testing.T) {
	h := newHarness(t, sim.Options{})
	first := bearer(h.accessToken())
	for _, ver := range []string{"v2.0", "v2.1"} {
		for _, r := range []request{
			{method: "GET", path: unifiedTokens(ver)},
			{method: "POST", path: unifiedTokens(ver), body: h.validBody()},
			{method: "GET", path: unifiedTokens(ver) + "/" + sdwan.SystemTokenID},
			{method: "DELETE", path: unifiedTokens(ver) + "/" + sdwan.SystemTokenID},
		} {
			r.header = first
			h.send(r).wantError(t, 403, "FORBIDDEN")
		}
	}
	p := h.send(request{method: "GET", path: "/sdwan/v2.1/api/profile", header: first}).want(t, 200)
	if p.str("id") != sdwan.OperatorID || p.str("tenant_id") != sdwan.TenantID || p.str("session_id") == "" || p.obj["token_session"] != false {
		t.Errorf("unified profile: %s", p.raw)
	}
	h.send(request{method: "GET", path: unifiedTokens("v2.1"), header: first}).want(t, 200)
	h.send(request{method: "GET", path: unifiedTokens("v2.0"), header: first}).want(t, 200)

	// Each new token needs its own profile call; the older one keeps working.
	second := bearer(h.accessToken())
	h.send(request{method: "GET", path: unifiedTokens("v2.1"), header: second}).wantError(t, 403, "FORBIDDEN")
	h.send(request{method: "GET", path: unifiedTokens("v2.1"), header: first}).want(t, 200)
	// The v2.0 profile call counts as well.
	p = h.send(request{method: "GET", path: "/sdwan/v2.0/api/profile", header: second}).want(t, 200)
	if p.str("email") != sdwan.OperatorEmail || p.str("first_name") == "" {
		t.Errorf("unified v2.0 profile: %s", p.raw)
	}
	h.send(request{method: "GET", path: unifiedTokens("v2.1"), header: second}).want(t, 200)
}

func TestAccessTokenExpires(t *testing.T) {
	h := newHarness(t, sim.Options{})
	auth := h.session()
	h.advance(15*time.Minute - time.Second)
	h.send(request{method: "GET", path: unifiedTokens("v2.1"), header: auth}).want(t, 200)
	h.advance(time.Second)
	h.send(request{method: "GET", path: unifiedTokens("v2.1"), header: auth}).wantError(t, 401, "UNAUTHORIZED")
	h.send(request{method: "GET", path: "/sdwan/v2.1/api/profile", header: auth}).wantError(t, 401, "UNAUTHORIZED")
	// A new token works again after its profile call.
	h.send(request{method: "GET", path: unifiedTokens("v2.1"), header: h.session()}).want(t, 200)
}

func TestUnifiedUnauthorized(t *testing.T) {
	h := newHarness(t, sim.Options{})
	for _, hdr := range []http.Header{
		nil,
		static,
		bearer(sdwan.StaticAuthToken),
		bearer("not-a-token"),
		{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("admin:tokenctl-sandbox"))}},
	} {
		for _, ver := range []string{"v2.0", "v2.1"} {
			h.send(request{method: "GET", path: "/sdwan/" + ver + "/api/profile", header: hdr}).wantError(t, 401, "UNAUTHORIZED")
			h.send(request{method: "GET", path: unifiedTokens(ver), header: hdr}).wantError(t, 401, "UNAUTHORIZED")
			h.send(request{method: "POST", path: unifiedTokens(ver), header: hdr, body: h.validBody()}).wantError(t, 401, "UNAUTHORIZED")
		}
	}
	// An auth token created through the API is an X-Auth-Token, not a Bearer.
	secret := h.create(h.clients()[1], h.validBody()).want(t, 200).str("x_auth_token")
	h.send(request{method: "GET", path: "/sdwan/v2.1/api/profile", header: bearer(secret)}).wantError(t, 401, "UNAUTHORIZED")
	h.send(request{method: "GET", path: "/sdwan/v2.1/api/profile", header: xAuth(secret)}).wantError(t, 401, "UNAUTHORIZED")
}

func TestGenerationsShareOneStore(t *testing.T) {
	h := newHarness(t, sim.Options{})
	cs := h.clients()
	legacy, unified := cs[1], cs[3]
	created := h.create(unified, h.validBody()).want(t, 200)
	id, secret := created.str("id"), created.str("x_auth_token")
	found := false
	for _, it := range h.send(request{method: "GET", path: legacyTokens("v2.0"), header: static}).want(t, 200).items(t) {
		found = found || it["id"] == id
	}
	if !found {
		t.Fatalf("a token created on the unified API is not in the legacy list")
	}
	h.send(request{method: "GET", path: legacy.tokens + "/" + id, header: xAuth(secret)}).want(t, 200)
	h.send(request{method: "DELETE", path: legacy.tokens + "/" + id, header: legacy.auth}).want(t, 200)
	h.send(request{method: "GET", path: unified.tokens + "/" + id, header: unified.auth}).wantError(t, 404, "NOT_FOUND")
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestStateRoundTrip(t *testing.T) {
	h := newHarness(t, sim.Options{})
	c := h.clients()[1]
	kept := h.create(c, map[string]any{"roles": []any{map[string]any{"name": "tenant_super"}}, "expires_utc_ms": h.nowMs() + 24*time.Hour.Milliseconds(), "session_key_c": "abc"}).want(t, 200)
	gone := h.create(c, h.validBody()).want(t, 200)
	h.send(request{method: "DELETE", path: c.tokens + "/" + gone.str("id"), header: static}).want(t, 200)
	oldBearer := h.clients()[3].auth
	listBefore := h.send(request{method: "GET", path: c.tokens, header: static}).want(t, 200)

	h.env.Lock()
	raw, err := h.v.SaveState()
	h.env.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{kept.str("x_auth_token"), gone.str("x_auth_token"), sdwan.StaticAuthToken} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Fatalf("the state holds a secret in plaintext: %s", raw)
		}
	}
	if !bytes.Contains(raw, []byte(sha256Hex(kept.str("x_auth_token")))) {
		t.Errorf("the state lacks the SHA-256 of the kept token: %s", raw)
	}

	env2 := sim.NewEnv(sim.Options{Now: fixedClock})
	v2 := sdwan.New(env2)
	if err := v2.LoadState(raw); err != nil {
		t.Fatal(err)
	}
	h2 := serve(t, env2, v2)
	listAfter := h2.send(request{method: "GET", path: c.tokens, header: static}).want(t, 200)
	if string(listAfter.raw) != string(listBefore.raw) {
		t.Errorf("list changed across save/load:\n%s\n%s", listBefore.raw, listAfter.raw)
	}
	h2.send(request{method: "GET", path: "/v2.1/api/profile", header: xAuth(kept.str("x_auth_token"))}).want(t, 200)
	h2.send(request{method: "GET", path: "/v2.1/api/profile", header: xAuth(gone.str("x_auth_token"))}).want(t, 401)
	h2.send(request{method: "GET", path: c.tokens + "/" + gone.str("id"), header: static}).want(t, 404)
	// Access tokens live in memory only.
	h2.send(request{method: "GET", path: unifiedTokens("v2.1"), header: oldBearer}).want(t, 401)
	// Ids keep growing after a reload, even with the clock unchanged.
	next := h2.create(c, h2.validBody()).want(t, 200)
	if mustInt(t, next.str("id")) <= mustInt(t, gone.str("id")) {
		t.Errorf("id %s after reload is not above %s", next.str("id"), gone.str("id"))
	}

	// An empty or older state still has the seeded system token.
	for _, old := range []string{``, `null`, `{"tenants":{}}`} {
		env3 := sim.NewEnv(sim.Options{Now: fixedClock})
		v3 := sdwan.New(env3)
		if err := v3.LoadState(json.RawMessage(old)); err != nil {
			t.Fatalf("LoadState(%q): %v", old, err)
		}
		serve(t, env3, v3).send(request{method: "GET", path: "/v2.1/api/profile", header: static}).want(t, 200)
	}
	if err := sdwan.New(sim.NewEnv(sim.Options{})).LoadState(json.RawMessage(`{"tenants": 3}`)); err == nil {
		t.Errorf("LoadState accepted a malformed state")
	}
}

// TestSandboxPersistence runs the vendor inside the real sandbox server with
// a state file: registered in vendors.go, saved on close, loaded on start.
func TestSandboxPersistence(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "state.json")
	open := func() (*sandbox.Server, *httptest.Server) {
		s, err := sandbox.New(sandbox.Options{Options: sim.Options{Now: fixedClock}, StatePath: statePath})
		if err != nil {
			t.Fatal(err)
		}
		return s, httptest.NewServer(s.Handler())
	}
	do := func(srv *httptest.Server, method, path string, hdr http.Header, body string) (int, []byte) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	s, srv := open()
	body := fmt.Sprintf(`{"roles":[{"name":"tenant_super"}],"expires_utc_ms":%d}`, startTime.UnixMilli()+time.Hour.Milliseconds())
	status, b := do(srv, "POST", legacyTokens("v2.1"), static, body)
	if status != 200 {
		t.Fatalf("create: %d %s", status, b)
	}
	var created struct{ ID, X_auth_token string }
	if err := json.Unmarshal(b, &created); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte(created.X_auth_token)) || !bytes.Contains(data, []byte(created.ID)) {
		t.Fatalf("state file: %s", data)
	}

	s, srv = open()
	defer func() { srv.Close(); s.Close() }()
	if status, b := do(srv, "GET", legacyTokens("v2.0")+"/"+created.ID, xAuth(created.X_auth_token), ""); status != 200 || strings.Contains(string(b), "x_auth_token") {
		t.Fatalf("after restart: %d %s", status, b)
	}
}

// TestContractCoversEveryOperation sends a successful call to every operation
// of both vendor documents; send validates each exchange against the spec.
func TestContractCoversEveryOperation(t *testing.T) {
	requireSpecs(t)
	h := newHarness(t, sim.Options{})
	for _, c := range h.clients() {
		h.send(request{method: "GET", path: c.profile, header: c.auth}).want(t, 200)
		h.send(request{method: "GET", path: c.tokens, header: c.auth}).want(t, 200)
		id := h.create(c, h.validBody()).want(t, 200).str("id")
		h.send(request{method: "GET", path: c.tokens + "/" + id, header: c.auth}).want(t, 200)
		h.send(request{method: "DELETE", path: c.tokens + "/" + id, header: c.auth}).want(t, 200)
		h.create(c, map[string]any{"expires_utc_ms": 1}).wantError(t, 400, "INVALID_EXPIRES_UTC_MS")
	}
	ops := h.c.operations()
	if len(ops) != 20 {
		t.Errorf("the specs have %d operations, want 20: %v", len(ops), ops)
	}
	for _, op := range ops {
		if !h.c.seen[op] {
			t.Errorf("operation %s was not exercised with a 200", op)
		}
	}
}
