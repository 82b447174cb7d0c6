package sdwan_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	sandbox "github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// clock is a settable clock shared by the emulator and the client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// memCache is an in-memory sdwan.Cache.
type memCache struct {
	mu sync.Mutex
	m  map[string]json.RawMessage
}

func newMemCache() *memCache { return &memCache{m: map[string]json.RawMessage{}} }

func (c *memCache) Get(server, key string, v any) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	raw, ok := c.m[server+"|"+key]
	return ok && json.Unmarshal(raw, v) == nil
}

func (c *memCache) Set(server, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.m[server+"|"+key] = raw
	c.mu.Unlock()
	return nil
}

func (c *memCache) Delete(server, key string) error {
	c.mu.Lock()
	delete(c.m, server+"|"+key)
	c.mu.Unlock()
	return nil
}

// emulator runs the SD-WAN sandbox on the test clock and logs every request
// as "METHOD PATH STATUS" in order.
type emulator struct {
	srv   *httptest.Server
	clock *clock
	mu    sync.Mutex
	log   []string
	// before, when set, answers instead of the emulator (fault injection).
	before func(w http.ResponseWriter, r *http.Request) bool
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func newEmulator(t *testing.T) *emulator {
	t.Helper()
	e := &emulator{clock: &clock{t: time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)}}
	env := sim.NewEnv(sim.Options{Now: e.clock.Now})
	mux := http.NewServeMux()
	sandbox.New(env).Register(mux)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: 200}
		e.mu.Lock()
		before := e.before
		e.mu.Unlock()
		if before == nil || !before(sw, r) {
			mux.ServeHTTP(sw, r)
		}
		e.mu.Lock()
		e.log = append(e.log, fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, sw.status))
		e.mu.Unlock()
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// take returns the log since the last take.
func (e *emulator) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.log
	e.log = nil
	return l
}

func (e *emulator) httpOptions() client.Options {
	return client.Options{BaseURL: e.srv.URL, Timeout: 5 * time.Second, RetryBaseWait: time.Millisecond, DecodeError: sdwan.DecodeError, RetryStatuses: sdwan.RetryStatuses}
}

func (e *emulator) legacy(t *testing.T, opts sdwan.Options) *sdwan.Client {
	t.Helper()
	c, err := client.New(e.httpOptions(), &sdwan.StaticToken{Token: sandbox.StaticAuthToken})
	if err != nil {
		t.Fatal(err)
	}
	if opts.API.Generation == "" {
		opts.API = sdwan.API{Generation: sdwan.Legacy, Version: sdwan.V21}
	}
	return sdwan.New(c, opts)
}

func (e *emulator) oauth(t *testing.T, cache sdwan.Cache, secret string) (*sdwan.OAuth, *client.Client) {
	t.Helper()
	ho := e.httpOptions()
	ho.Redactor = client.NewRedactor()
	o, err := sdwan.NewOAuth(sdwan.OAuthConfig{
		AuthURL: e.srv.URL + "/oauth2/access_token", ClientID: sandbox.OAuthClientID, ClientSecret: secret,
		TSGID: sandbox.TSGID, HTTP: ho, Cache: cache, CacheServer: e.srv.URL, Now: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(ho, o)
	if err != nil {
		t.Fatal(err)
	}
	return o, c
}

func unified(c *client.Client, opts sdwan.Options) *sdwan.Client {
	opts.API = sdwan.API{Generation: sdwan.Unified, Version: sdwan.V21}
	return sdwan.New(c, opts)
}

func expectLog(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

const (
	tokenPath   = "/oauth2/access_token"
	profileV21  = "/sdwan/v2.1/api/profile"
	unifiedList = "/sdwan/v2.1/api/operators/" + sandbox.OperatorID + "/authtokens"
)

func TestDecodeError(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"_error":[{"code":"INVALID_EXPIRES_UTC_MS","message":"in the past"},{"code":"AUTH_ROLE_INVALID","message":"bad role"}]}`, "in the past (INVALID_EXPIRES_UTC_MS); bad role (AUTH_ROLE_INVALID)"},
		{`{"value":{"_error":[{"code":"TOKEN_INVALID_OPERATOR_ID"}]}}`, "TOKEN_INVALID_OPERATOR_ID"},
		{`{"_error":[{"message":"only a message"}]}`, "only a message"},
		{`{"_error":[]}`, ""},
		{`{"error_code":1,"error_message":"vmware"}`, ""},
		{`not json`, ""},
	} {
		got := sdwan.DecodeError(400, []byte(tc.body))
		switch {
		case tc.want == "" && got != nil:
			t.Errorf("%s: got %q, want no decoding", tc.body, got.Message)
		case tc.want != "" && (got == nil || got.Message != tc.want):
			t.Errorf("%s: got %+v, want %q", tc.body, got, tc.want)
		}
	}
}

// The whole vendor body reaches the error, and the status its exit code;
// 413 is retried like 429 and 5xx for reads.
func TestErrorsAndRetries(t *testing.T) {
	e := newEmulator(t)
	sc := e.legacy(t, sdwan.Options{})
	_, err := sc.GetAuthToken(context.Background(), "nope")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || exit.CodeOf(err) != exit.NotFound || !strings.Contains(ae.Message, "(NOT_FOUND)") {
		t.Fatalf("get unknown: %v", err)
	}
	if codes := sdwan.ErrorCodes(err); len(codes) != 1 || codes[0] != "NOT_FOUND" {
		t.Fatalf("codes %v", codes)
	}
	e.take()

	n := 0
	e.before = func(w http.ResponseWriter, r *http.Request) bool {
		if n < 2 && strings.HasSuffix(r.URL.Path, "/authtokens") {
			n++
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return true
		}
		return false
	}
	if _, err := sc.ListAuthTokens(context.Background(), func(json.RawMessage) error { return nil }); err != nil {
		t.Fatalf("list after two 413s: %v", err)
	}
	got := e.take()
	if len(got) != 3 || !strings.HasSuffix(got[0], " 413") || !strings.HasSuffix(got[2], " 200") {
		t.Fatalf("413 not retried: %v", got)
	}

	// A create is not retried on 413: the server may have acted.
	n = 0
	_, err = sc.CreateAuthToken(context.Background(), &sdwan.AuthTokenRequest{ExpiresUTCMs: ptr(e.clock.Now().Add(time.Hour).UnixMilli())})
	if exit.CodeOf(err) != exit.Unavailable || len(e.take()) != 1 {
		t.Fatalf("create after 413: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// A new access token is followed by the profile call before anything else;
// the token is then reused until a minute before it expires.
func TestOAuthProfileCallOrderAndReuse(t *testing.T) {
	e := newEmulator(t)
	o, c := e.oauth(t, nil, sandbox.DefaultOAuthClientSecret)
	sc := unified(c, sdwan.Options{OperatorID: sandbox.OperatorID})
	ctx := context.Background()
	list := func() {
		t.Helper()
		if _, err := sc.ListAuthTokens(ctx, func(json.RawMessage) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	list()
	expectLog(t, e.take(), "POST "+tokenPath+" 200", "GET "+profileV21+" 200", "GET "+unifiedList+" 200")
	list()
	expectLog(t, e.take(), "GET "+unifiedList+" 200")

	// 899 s lifetime: at 838 s more than 60 s remain, at 840 s not.
	e.clock.Advance(838 * time.Second)
	list()
	expectLog(t, e.take(), "GET "+unifiedList+" 200")
	e.clock.Advance(2 * time.Second)
	list()
	expectLog(t, e.take(), "POST "+tokenPath+" 200", "GET "+profileV21+" 200", "GET "+unifiedList+" 200")
	if o.Minted() != 2 {
		t.Fatalf("minted %d tokens, want 2", o.Minted())
	}
}

// Without the profile call the emulator answers 403, so the rule is real;
// the client never trips it.
func TestOAuthProfileRuleEnforced(t *testing.T) {
	e := newEmulator(t)
	o, c := e.oauth(t, nil, sandbox.DefaultOAuthClientSecret)
	// Mint through the auth, then call the list with a second token minted
	// by hand that never made its profile call.
	if _, err := o.Token(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+tokenPath, strings.NewReader("grant_type=client_credentials&scope=tsg_id:"+sandbox.TSGID))
	req.SetBasicAuth(sandbox.OAuthClientID, sandbox.DefaultOAuthClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tr)
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, e.srv.URL+unifiedList, nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a token without its profile call got %d, want 403", resp.StatusCode)
	}
}

// A cached token is reused by the next process without a new token or
// profile call; one the server no longer knows (401) is replaced once.
func TestOAuthCacheAndRenew(t *testing.T) {
	e := newEmulator(t)
	cache := newMemCache()
	ctx := context.Background()
	_, c1 := e.oauth(t, cache, sandbox.DefaultOAuthClientSecret)
	sc1 := unified(c1, sdwan.Options{OperatorID: sandbox.OperatorID})
	if _, err := sc1.ListAuthTokens(ctx, func(json.RawMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	e.take()

	o2, c2 := e.oauth(t, cache, sandbox.DefaultOAuthClientSecret)
	sc2 := unified(c2, sdwan.Options{OperatorID: sandbox.OperatorID})
	if _, err := sc2.ListAuthTokens(ctx, func(json.RawMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	expectLog(t, e.take(), "GET "+unifiedList+" 200")
	if o2.Minted() != 0 || o2.LastProfile() != nil {
		t.Fatalf("the cached token was not reused: minted %d", o2.Minted())
	}

	// The emulator's 15 minutes run out while our copy thinks otherwise
	// (its clock moved, ours did not): 401, one new token, success.
	o3, c3 := e.oauth(t, cache, sandbox.DefaultOAuthClientSecret)
	sc3 := unified(c3, sdwan.Options{OperatorID: sandbox.OperatorID})
	refused := false
	e.before = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == unifiedList && !refused {
			refused = true
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"_error":[{"code":"UNAUTHORIZED","message":"Unauthorized"}]}`))
			return true
		}
		return false
	}
	if _, err := sc3.ListAuthTokens(ctx, func(json.RawMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	expectLog(t, e.take(), "GET "+unifiedList+" 401", "POST "+tokenPath+" 200", "GET "+profileV21+" 200", "GET "+unifiedList+" 200")
	if o3.Minted() != 1 {
		t.Fatalf("minted %d, want 1", o3.Minted())
	}
	e.before = nil

	// A token minted here that gets 403 is a real denial: no new token.
	e.before = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == unifiedList {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"_error":[{"code":"FORBIDDEN","message":"insufficient role"}]}`))
			return true
		}
		return false
	}
	_, err := sc3.ListAuthTokens(ctx, func(json.RawMessage) error { return nil })
	if exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "insufficient role (FORBIDDEN)") {
		t.Fatalf("403: %v", err)
	}
	expectLog(t, e.take(), "GET "+unifiedList+" 403")
}

// A cache entry from another token endpoint, or about to expire, is not used.
func TestOAuthCacheEntryChecks(t *testing.T) {
	e := newEmulator(t)
	cache := newMemCache()
	key := "sdwan.oauth." + sandbox.OAuthClientID + "@tsg_id:" + sandbox.TSGID
	cache.Set(e.srv.URL, key, map[string]any{"access_token": "from-elsewhere", "expires_at_ms": e.clock.Now().Add(time.Hour).UnixMilli(), "auth_url": "https://auth.example.com/oauth2/access_token"})
	o, c := e.oauth(t, cache, sandbox.DefaultOAuthClientSecret)
	if tok, err := o.Token(context.Background(), c); err != nil || tok == "from-elsewhere" {
		t.Fatalf("token %q, %v", tok, err)
	}
	cache.Set(e.srv.URL, key, map[string]any{"access_token": "nearly-expired", "expires_at_ms": e.clock.Now().Add(30 * time.Second).UnixMilli(), "auth_url": e.srv.URL + tokenPath})
	o, c = e.oauth(t, cache, sandbox.DefaultOAuthClientSecret)
	if tok, err := o.Token(context.Background(), c); err != nil || tok == "nearly-expired" {
		t.Fatalf("token %q, %v", tok, err)
	}
}

// Concurrent calls share one new token and one profile call.
func TestOAuthConcurrentMintOnce(t *testing.T) {
	e := newEmulator(t)
	o, c := e.oauth(t, nil, sandbox.DefaultOAuthClientSecret)
	sc := unified(c, sdwan.Options{OperatorID: sandbox.OperatorID})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := sc.ListAuthTokens(context.Background(), func(json.RawMessage) error { return nil }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	log := e.take()
	if o.Minted() != 1 || log[0] != "POST "+tokenPath+" 200" || log[1] != "GET "+profileV21+" 200" || len(log) != 10 {
		t.Fatalf("minted %d; requests %v", o.Minted(), log)
	}
}

// Bad client credentials are the token endpoint's 401: exit 3, described
// by its RFC 6749 error, the secret nowhere in it.
func TestOAuthBadSecret(t *testing.T) {
	e := newEmulator(t)
	_, c := e.oauth(t, nil, "wrong-secret-1234")
	_, err := unified(c, sdwan.Options{OperatorID: sandbox.OperatorID}).ListAuthTokens(context.Background(), func(json.RawMessage) error { return nil })
	if exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "(invalid_client)") || strings.Contains(err.Error(), "wrong-secret-1234") {
		t.Fatalf("got %v", err)
	}
	expectLog(t, e.take(), "POST "+tokenPath+" 401")
}

// Ids: given ones win and cost no call; otherwise the profile call, cached;
// then the cache; a stale cache entry is dropped and the ids rediscovered.
func TestIdentityDiscovery(t *testing.T) {
	e := newEmulator(t)
	ctx := context.Background()
	cache := newMemCache()
	opts := sdwan.Options{Cache: cache, CacheServer: e.srv.URL, CacheIdentity: sdwan.TokenIdentity(sandbox.StaticAuthToken)}

	sc := e.legacy(t, sdwan.Options{TenantID: "1", OperatorID: "2"})
	ids, src, err := sc.Identity(ctx)
	if err != nil || ids.TenantID != "1" || ids.OperatorID != "2" || src != sdwan.FromProfile || len(e.take()) != 0 {
		t.Fatalf("given ids: %+v %s %v", ids, src, err)
	}

	sc = e.legacy(t, opts)
	ids, src, err = sc.Identity(ctx)
	if err != nil || ids.TenantID != sandbox.TenantID || ids.OperatorID != sandbox.OperatorID || ids.Email != sandbox.OperatorEmail || src != sdwan.FromProfileCall {
		t.Fatalf("discovered: %+v %s %v", ids, src, err)
	}
	expectLog(t, e.take(), "GET /v2.1/api/profile 200")

	sc = e.legacy(t, opts)
	if ids, src, err = sc.Identity(ctx); err != nil || src != sdwan.FromCache || ids.OperatorID != sandbox.OperatorID {
		t.Fatalf("cached: %+v %s %v", ids, src, err)
	}
	if len(e.take()) != 0 {
		t.Fatal("the cache was not used")
	}
	if strings.Contains(fmt.Sprint(cache.m), sandbox.StaticAuthToken) {
		t.Fatal("the cache holds the static token")
	}

	// The credential now belongs elsewhere: the cached tenant is refused
	// (400 ESP_INVALID_TENANT_DATA), dropped, rediscovered, and the call
	// made again.
	cache.Set(e.srv.URL, "sdwan.ids."+opts.CacheIdentity, sdwan.Identity{TenantID: "42", OperatorID: sandbox.OperatorID})
	sc = e.legacy(t, opts)
	n, err := sc.ListAuthTokens(ctx, func(json.RawMessage) error { return nil })
	if err != nil || n != 1 {
		t.Fatalf("list with a stale cache: %d, %v", n, err)
	}
	expectLog(t, e.take(),
		"GET /v2.1/api/tenants/42/operators/"+sandbox.OperatorID+"/authtokens 400",
		"GET /v2.1/api/profile 200",
		"GET /v2.1/api/tenants/"+sandbox.TenantID+"/operators/"+sandbox.OperatorID+"/authtokens 200")
	var fixed sdwan.Identity
	if !cache.Get(e.srv.URL, "sdwan.ids."+opts.CacheIdentity, &fixed) || fixed.TenantID != sandbox.TenantID {
		t.Fatalf("cache not repaired: %+v", fixed)
	}

	// Given ids are never second-guessed.
	sc = e.legacy(t, sdwan.Options{TenantID: "42", OperatorID: sandbox.OperatorID, Cache: cache, CacheServer: e.srv.URL, CacheIdentity: opts.CacheIdentity})
	if _, err := sc.ListAuthTokens(ctx, func(json.RawMessage) error { return nil }); exit.CodeOf(err) != exit.Error || !strings.Contains(err.Error(), "ESP_INVALID_TENANT_DATA") {
		t.Fatalf("wrong given tenant: %v", err)
	}
}

// Unified discovery reuses the profile call made after the new token.
func TestIdentityUnifiedReusesProfileCall(t *testing.T) {
	e := newEmulator(t)
	_, c := e.oauth(t, nil, sandbox.DefaultOAuthClientSecret)
	sc := unified(c, sdwan.Options{})
	if _, err := sc.ListAuthTokens(context.Background(), func(json.RawMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	expectLog(t, e.take(), "POST "+tokenPath+" 200", "GET "+profileV21+" 200", "GET "+unifiedList+" 200")
}

func TestCreateGetDeleteLegacyV20(t *testing.T) {
	e := newEmulator(t)
	ctx := context.Background()
	sc := e.legacy(t, sdwan.Options{API: sdwan.API{Generation: sdwan.Legacy, Version: sdwan.V20}})
	raw, err := sc.CreateAuthToken(ctx, &sdwan.AuthTokenRequest{Roles: []sdwan.AuthRole{{Name: "tenant_viewonly"}}, ExpiresUTCMs: ptr(e.clock.Now().Add(time.Hour).UnixMilli())})
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		ID         string `json:"id"`
		XAuthToken string `json:"x_auth_token"`
	}
	json.Unmarshal(raw, &tok)
	if tok.ID == "" || len(tok.XAuthToken) != 64 {
		t.Fatalf("created %s", raw)
	}
	if got := sc.HTTP().Redactor().String("x " + tok.XAuthToken); strings.Contains(got, tok.XAuthToken) {
		t.Fatal("the new secret is not registered with the redactor")
	}
	got, err := sc.GetAuthToken(ctx, tok.ID)
	if err != nil || strings.Contains(string(got), "x_auth_token") || strings.Contains(string(got), "is_system_owned") {
		t.Fatalf("get: %s %v", got, err)
	}
	raw, gone, err := sc.DeleteAuthToken(ctx, tok.ID)
	if err != nil || gone || !strings.Contains(string(raw), tok.ID) {
		t.Fatalf("delete: %s %v %v", raw, gone, err)
	}
	if _, gone, err = sc.DeleteAuthToken(ctx, tok.ID); err != nil || !gone {
		t.Fatalf("delete again: %v %v", gone, err)
	}
	log := e.take()
	for _, l := range log {
		if !strings.Contains(l, "/v2.0/api/") {
			t.Fatalf("a call left v2.0: %v", log)
		}
	}
}

func TestValidate(t *testing.T) {
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	future := ptr(now.Add(time.Hour).UnixMilli())
	roles := func(names ...string) []sdwan.AuthRole {
		var r []sdwan.AuthRole
		for _, n := range names {
			r = append(r, sdwan.AuthRole{Name: n})
		}
		return r
	}
	legacy := sdwan.API{Generation: sdwan.Legacy, Version: sdwan.V21}
	uni := sdwan.API{Generation: sdwan.Unified, Version: sdwan.V21}
	long := strings.Repeat("k", 129)
	for _, tc := range []struct {
		name string
		req  sdwan.AuthTokenRequest
		api  sdwan.API
		want []string // fields with problems
	}{
		{"ok", sdwan.AuthTokenRequest{Roles: roles("tenant_viewonly"), ExpiresUTCMs: future}, legacy, nil},
		{"seven roles", sdwan.AuthTokenRequest{Roles: roles("guest", "system", "element", "devops", "secops", "esp_user", "esp_root"), ExpiresUTCMs: future}, legacy, nil},
		{"eight roles", sdwan.AuthTokenRequest{Roles: roles("guest", "system", "element", "devops", "secops", "esp_user", "esp_root", "tenant_root"), ExpiresUTCMs: future}, legacy, []string{"roles"}},
		{"unknown role", sdwan.AuthTokenRequest{Roles: roles("tenant_admin"), ExpiresUTCMs: future}, legacy, []string{"roles[0].name"}},
		{"no expiry", sdwan.AuthTokenRequest{}, legacy, []string{"expires_utc_ms"}},
		{"past", sdwan.AuthTokenRequest{ExpiresUTCMs: ptr(now.UnixMilli())}, legacy, []string{"expires_utc_ms"}},
		{"long key", sdwan.AuthTokenRequest{ExpiresUTCMs: future, SessionKeyC: &long}, legacy, []string{"session_key_c"}},
		{"key of 128", sdwan.AuthTokenRequest{ExpiresUTCMs: future, SessionKeyC: ptr(strings.Repeat("é", 128))}, legacy, nil},
		{"custom role legacy", sdwan.AuthTokenRequest{ExpiresUTCMs: future, CustomRoles: []sdwan.CustomRole{{
			Permissions: []sdwan.AuthPermission{{Value: ptr(strings.Repeat("p", 501))}}, Roles: roles("nobody"),
			CustomPermissions: []sdwan.CustomPermission{{}},
		}}}, legacy, []string{"custom_roles[0].name", "custom_roles[0].roles[0].name", "custom_roles[0].permissions[0].value", "custom_roles[0].custom_permissions[0].value", "custom_roles[0].custom_permissions[0].tenant_id"}},
		{"custom permission unified", sdwan.AuthTokenRequest{ExpiresUTCMs: future, CustomRoles: []sdwan.CustomRole{{Name: "c", CustomPermissions: []sdwan.CustomPermission{{Value: ptr("v")}}}}}, uni, nil},
	} {
		ps := tc.req.Validate("", tc.api, now)
		var got []string
		for _, p := range ps {
			got = append(got, p.Field)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: problems %v, want fields %v", tc.name, ps, tc.want)
		}
	}
}

func TestParseLifetime(t *testing.T) {
	for in, want := range map[string]time.Duration{"24h": 24 * time.Hour, "30d": 30 * 24 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := sdwan.ParseLifetime(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0s", "-1h", "1x", "d", "5d-2d"} {
		if _, err := sdwan.ParseLifetime(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestBlankSecret(t *testing.T) {
	out, err := sdwan.BlankSecret(json.RawMessage(`{"id":"1","x_auth_token":"s3cret-value"}`))
	if err != nil || strings.Contains(string(out), "s3cret") || !strings.Contains(string(out), `"x_auth_token":""`) {
		t.Fatalf("%s %v", out, err)
	}
	in := json.RawMessage(`{"id":"1", "roles":[]}`)
	if out, _ := sdwan.BlankSecret(in); string(out) != string(in) {
		t.Fatalf("an object without a secret changed: %s", out)
	}
}

// Server answers decode leniently: a v2.0 profile whose roles[] carry
// fields the spec does not list (and extra top-level fields) is read, not
// refused with `unknown field` (issue 16 item 14). Manifests stay strict
// (manifest.Document.Decode; testdata/script/sdwan_bad_inputs.txtar).
func TestProfileWithExtraFields(t *testing.T) {
	e := newEmulator(t)
	e.before = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/v2.0/api/profile" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"tenant_id":%q,"email":"ops@example.com","region":"us",
			"roles":[{"name":"tenant_super","disabled":false,"_etag":3,"permissions":[{"value":"x"}]}],
			"custom_roles":[{"name":"r","extra":1}],"_created_on_utc":1,"future_field":{"a":[1]}}`, sandbox.OperatorID, sandbox.TenantID)
		return true
	}
	sc := e.legacy(t, sdwan.Options{API: sdwan.API{Generation: sdwan.Legacy, Version: sdwan.V20}})
	_, prof, err := sc.Profile(context.Background())
	if err != nil {
		t.Fatalf("profile with extra fields: %v", err)
	}
	if len(prof.Roles) != 1 || prof.Roles[0].Name != "tenant_super" || prof.Email != "ops@example.com" {
		t.Fatalf("profile: %+v", prof)
	}
	ids, _, err := sc.Identity(context.Background())
	if err != nil || ids.OperatorID != sandbox.OperatorID || ids.TenantID != sandbox.TenantID {
		t.Fatalf("identity: %+v %v", ids, err)
	}
}
