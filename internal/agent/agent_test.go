package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

const sandboxPassword = "tokenctl-sandbox"

// traffic records "METHOD path" (and bodies) of the requests a handler serves.
type traffic struct {
	mu     sync.Mutex
	seen   []string
	bodies []string
}

func (tr *traffic) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		tr.mu.Lock()
		tr.seen = append(tr.seen, r.Method+" "+r.URL.Path)
		tr.bodies = append(tr.bodies, string(body))
		tr.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (tr *traffic) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s := tr.seen
	tr.seen, tr.bodies = nil, nil
	return s
}

func emulator(t *testing.T, legacy bool) (string, *traffic) {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Options: sim.Options{AgentLegacy: legacy}})
	if err != nil {
		t.Fatal(err)
	}
	tr := &traffic{}
	hs := httptest.NewServer(tr.wrap(srv.Handler()))
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return hs.URL, tr
}

func newAgent(t *testing.T, url, user, password string, opts Options, debug io.Writer) *Client {
	t.Helper()
	c, err := client.New(client.Options{BaseURL: url, Debug: debug, DecodeError: DecodeError, Timeout: 5 * time.Second, RetryBaseWait: time.Millisecond},
		&client.BasicAuth{Username: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	c.Redactor().AddSecret(password)
	return New(c, opts)
}

func testCache(t *testing.T) *config.Cache {
	return config.NewCache(filepath.Join(t.TempDir(), "cache.json"))
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func TestCurrentServerDetectedAndCached(t *testing.T) {
	url, tr := emulator(t, false)
	cache := testCache(t)
	ctx := context.Background()
	a := newAgent(t, url, "admin", sandboxPassword, Options{Cache: cache}, nil)
	n, err := a.ListTokens(ctx, func(json.RawMessage) error { return nil })
	if err != nil || n != 0 {
		t.Fatalf("list: %d %v", n, err)
	}
	// The probe was the list itself: one request.
	equal(t, "first list", tr.take(), []string{"GET " + CurrentTokensPath})
	var v string
	if !cache.Get(url, CacheKeyVersion, &v) || v != VersionCurrent {
		t.Fatalf("cache has %q", v)
	}

	b := newAgent(t, url, "admin", sandboxPassword, Options{Cache: cache}, nil)
	_, tok, err := b.CreateToken(ctx, &TokenRequest{Name: "ci", Read: true})
	if err != nil || tok.Name != "ci" || !tok.Read || tok.Change || tok.UUID == "" {
		t.Fatalf("create: %+v %v", tok, err)
	}
	if ver, src, _ := b.Version(ctx); ver != VersionCurrent || src != FromCache {
		t.Fatalf("version %s from %s, want current from the cache", ver, src)
	}
	equal(t, "cached create", tr.take(), []string{"POST " + CurrentTokensPath})
}

func TestLegacyServerFallback(t *testing.T) {
	url, tr := emulator(t, true)
	cache := testCache(t)
	ctx := context.Background()
	a := newAgent(t, url, "admin", sandboxPassword, Options{Cache: cache}, nil)
	_, tok, err := a.CreateToken(ctx, &TokenRequest{Name: "old", Read: true, Change: true})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "detect then create", tr.take(), []string{"GET " + CurrentTokensPath, "GET " + LegacyTokensPath, "POST /rest/agent/1.0/tokens"})
	if v, src, _ := a.Version(ctx); v != VersionLegacy || src != FromDetected {
		t.Fatalf("version %s from %s", v, src)
	}
	_, upd, err := a.UpdateToken(ctx, tok.UUID, Change{Change: ptr(false)})
	if err != nil || upd.Change || !upd.Read || upd.Name != "old" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	equal(t, "update", tr.take(), []string{"GET " + LegacyTokensPath, "PUT " + LegacyTokensPath + tok.UUID})

	var v string
	if !cache.Get(url, CacheKeyVersion, &v) || v != VersionLegacy {
		t.Fatalf("cache has %q", v)
	}
	b := newAgent(t, url, "admin", sandboxPassword, Options{Cache: cache}, nil)
	if _, err := b.ListTokens(ctx, func(json.RawMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	equal(t, "cached list", tr.take(), []string{"GET " + LegacyTokensPath})
}

// TestAuthErrorsAreNotVersionSignals: 401 and 403 on the current path are
// reported (exit 3, the server's message), never taken as "try legacy".
func TestAuthErrorsAreNotVersionSignals(t *testing.T) {
	url, tr := emulator(t, false)
	cache := testCache(t)
	ctx := context.Background()
	cases := []struct{ user, password, msg string }{
		{"admin", "Wrong-Password-1", "Client must be authenticated to access this resource."},
		{"auditor", sandboxPassword, "Client must be authenticated as a Bamboo administrator"},
	}
	for _, c := range cases {
		a := newAgent(t, url, c.user, c.password, Options{Cache: cache}, nil)
		_, err := a.ListTokens(ctx, func(json.RawMessage) error { return nil })
		if exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), c.msg) {
			t.Fatalf("%s: %v, want exit 3 with %q", c.user, err, c.msg)
		}
		equal(t, c.user, tr.take(), []string{"GET " + CurrentTokensPath})
	}
	var v string
	if cache.Get(url, CacheKeyVersion, &v) {
		t.Fatalf("an auth failure cached version %q", v)
	}
}

func TestForcedVersion(t *testing.T) {
	url, tr := emulator(t, false)
	a := newAgent(t, url, "admin", sandboxPassword, Options{Version: VersionLegacy}, nil)
	_, err := a.ListTokens(context.Background(), func(json.RawMessage) error { return nil })
	if exit.CodeOf(err) != exit.NotFound {
		t.Fatalf("forced legacy on a current server: %v, want exit 4", err)
	}
	equal(t, "forced", tr.take(), []string{"GET " + LegacyTokensPath})
	if v, src, _ := a.Version(context.Background()); v != VersionLegacy || src != FromProfile {
		t.Fatalf("%s from %s", v, src)
	}
	bad := newAgent(t, url, "admin", sandboxPassword, Options{Version: "v2"}, nil)
	if _, _, err := bad.Version(context.Background()); exit.CodeOf(err) != exit.Usage {
		t.Fatalf("bad api_version: %v", err)
	}
}

func TestStaleCacheRedetected(t *testing.T) {
	url, tr := emulator(t, false)
	cache := testCache(t)
	if err := cache.Set(url, CacheKeyVersion, VersionLegacy); err != nil {
		t.Fatal(err)
	}
	a := newAgent(t, url, "admin", sandboxPassword, Options{Cache: cache}, nil)
	if _, err := a.ListTokens(context.Background(), func(json.RawMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	equal(t, "requests", tr.take(), []string{"GET " + LegacyTokensPath, "GET " + CurrentTokensPath})
	var v string
	if !cache.Get(url, CacheKeyVersion, &v) || v != VersionCurrent {
		t.Fatalf("cache has %q after re-detection", v)
	}
}

func TestStaleCacheOnCreateAndDelete(t *testing.T) {
	url, tr := emulator(t, true)
	cache := testCache(t)
	if err := cache.Set(url, CacheKeyVersion, VersionCurrent); err != nil {
		t.Fatal(err)
	}
	a := newAgent(t, url, "admin", sandboxPassword, Options{Cache: cache}, nil)
	_, tok, err := a.CreateToken(context.Background(), &TokenRequest{Name: "x", Read: true})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "create", tr.take(), []string{"POST " + CurrentTokensPath, "GET " + CurrentTokensPath, "GET " + LegacyTokensPath, "POST /rest/agent/1.0/tokens"})

	if err := cache.Set(url, CacheKeyVersion, VersionCurrent); err != nil {
		t.Fatal(err)
	}
	b := newAgent(t, url, "admin", sandboxPassword, Options{Cache: cache}, nil)
	_, err = b.DeleteToken(context.Background(), tok.UUID)
	var nd *NoDeleteError
	if !errors.As(err, &nd) || nd.Status != http.StatusMethodNotAllowed {
		t.Fatalf("delete: %v, want the legacy path's 405", err)
	}
	equal(t, "delete", tr.take(), []string{"DELETE " + CurrentTokensPath + tok.UUID, "GET " + CurrentTokensPath, "GET " + CurrentTokensPath, "GET " + LegacyTokensPath, "DELETE " + LegacyTokensPath + tok.UUID})
}

func TestPluginMissing(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html><body>Page Not Found</body></html>")
	}))
	defer hs.Close()
	a := newAgent(t, hs.URL, "admin", sandboxPassword, Options{}, nil)
	_, err := a.ListTokens(context.Background(), func(json.RawMessage) error { return nil })
	if exit.CodeOf(err) != exit.NotFound || !strings.Contains(err.Error(), "plugin installed") {
		t.Fatalf("got %v", err)
	}
}

func TestUpdateKeepsUnspecifiedFields(t *testing.T) {
	url, tr := emulator(t, false)
	ctx := context.Background()
	a := newAgent(t, url, "admin", sandboxPassword, Options{}, nil)
	_, tok, err := a.CreateToken(ctx, &TokenRequest{Name: "rw", Read: true, Change: true})
	if err != nil {
		t.Fatal(err)
	}
	tr.take()
	_, got, err := a.UpdateToken(ctx, tok.UUID, Change{Name: ptr("renamed")})
	if err != nil || *got != (Token{UUID: tok.UUID, Name: "renamed", Read: true, Change: true}) {
		t.Fatalf("rename: %+v %v", got, err)
	}
	tr.mu.Lock()
	put := tr.bodies[len(tr.bodies)-1]
	tr.mu.Unlock()
	var sent Token
	if json.Unmarshal([]byte(put), &sent) != nil || sent != *got {
		t.Fatalf("PUT body %s is not the full object", put)
	}
	_, got, err = a.UpdateToken(ctx, tok.UUID, Change{Read: ptr(false), Change: ptr(false)})
	if err != nil || *got != (Token{UUID: tok.UUID, Name: "renamed"}) {
		t.Fatalf("revoke: %+v %v", got, err)
	}
	_, listed, err := a.FindToken(ctx, tok.UUID)
	if err != nil || *listed != *got {
		t.Fatalf("stored %+v %v", listed, err)
	}
}

func TestFindTokenNotFound(t *testing.T) {
	url, _ := emulator(t, false)
	a := newAgent(t, url, "admin", sandboxPassword, Options{}, nil)
	const uuid = "d0ea6653-05e2-4d51-9d89-665cdfe86be6"
	_, _, err := a.FindToken(context.Background(), uuid)
	if exit.CodeOf(err) != exit.NotFound || strings.Contains(err.Error(), uuid) || !strings.Contains(err.Error(), "d0ea…") {
		t.Fatalf("got %v", err)
	}
	if _, _, err := a.UpdateToken(context.Background(), uuid, Change{Read: ptr(true)}); exit.CodeOf(err) != exit.NotFound {
		t.Fatalf("update of an unknown uuid: %v", err)
	}
}

func TestDeleteWithoutDeleteCall(t *testing.T) {
	url, tr := emulator(t, false)
	ctx := context.Background()
	a := newAgent(t, url, "admin", sandboxPassword, Options{}, nil)
	_, tok, err := a.CreateToken(ctx, &TokenRequest{Name: "x", Read: true})
	if err != nil {
		t.Fatal(err)
	}
	tr.take()
	_, err = a.DeleteToken(ctx, tok.UUID)
	var nd *NoDeleteError
	if !errors.As(err, &nd) || exit.CodeOf(err) != exit.Error || nd.Status != 405 {
		t.Fatalf("got %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "token update UUID --read=false --change=false") || strings.Contains(msg, tok.UUID) {
		t.Fatalf("message %q", msg)
	}
	equal(t, "requests", tr.take(), []string{"DELETE " + CurrentTokensPath + tok.UUID})
}

// TestDeleteOn404 covers servers answering DELETE with 404: the list tells a
// missing delete call (token still listed) from a token already gone; a
// server with a delete call deletes.
func TestDeleteOn404(t *testing.T) {
	const listed, unlisted = "7ba167aa-631c-4771-b197-fcb459cc7fd7", "00000000-631c-4771-b197-fcb459cc7fd7"
	deleted := false
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == CurrentTokensPath:
			io.WriteString(w, `[{"uuid":"`+listed+`","name":"n","read":true,"change":false}]`)
		case r.Method == http.MethodDelete && r.URL.Path == CurrentTokensPath+"deletable":
			deleted = true
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"null for uri: `+r.URL.Path+`","status-code":404}`)
		}
	}))
	defer hs.Close()
	a := newAgent(t, hs.URL, "admin", sandboxPassword, Options{Version: VersionCurrent}, nil)
	ctx := context.Background()
	_, err := a.DeleteToken(ctx, listed)
	var nd *NoDeleteError
	if !errors.As(err, &nd) || nd.Status != 404 {
		t.Fatalf("listed token: %v", err)
	}
	if gone, err := a.DeleteToken(ctx, unlisted); err != nil || !gone {
		t.Fatalf("unlisted token: gone=%v %v", gone, err)
	}
	if gone, err := a.DeleteToken(ctx, "deletable"); err != nil || gone || !deleted {
		t.Fatalf("server with delete: gone=%v %v", gone, err)
	}
}

func TestDecodeError(t *testing.T) {
	ve := DecodeError(401, []byte(`{"message":"Client must be authenticated to access this resource.","status-code":401}`))
	if ve == nil || ve.Message != "Client must be authenticated to access this resource." {
		t.Fatalf("got %+v", ve)
	}
	for _, body := range []string{`<html>404</html>`, `{}`, `[]`, `{"error_code":3}`} {
		if ve := DecodeError(404, []byte(body)); ve != nil {
			t.Errorf("%s decoded as %+v", body, ve)
		}
	}
}

func TestValidate(t *testing.T) {
	if ps := (&TokenRequest{Name: "  "}).Validate("f.yaml#2"); len(ps) != 1 || ps[0].Field != "name" || ps[0].Source != "f.yaml#2" {
		t.Fatalf("blank name: %+v", ps)
	}
	if ps := (&TokenRequest{Name: "x"}).Validate(""); ps != nil {
		t.Fatalf("valid request: %+v", ps)
	}
}

func TestDebugRedactsUUIDs(t *testing.T) {
	url, _ := emulator(t, true)
	var dbg bytes.Buffer
	ctx := context.Background()
	a := newAgent(t, url, "admin", sandboxPassword, Options{}, &dbg)
	_, tok, err := a.CreateToken(ctx, &TokenRequest{Name: "visible-name", Read: true})
	if err != nil {
		t.Fatal(err)
	}
	other := newAgent(t, url, "admin", sandboxPassword, Options{}, &dbg)
	if _, err := other.ListTokens(ctx, func(json.RawMessage) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := other.UpdateToken(ctx, tok.UUID, Change{Change: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.DeleteToken(ctx, tok.UUID); err == nil {
		t.Fatal("the emulator has no delete")
	}
	out := dbg.String()
	if !strings.Contains(out, `"uuid": "[REDACTED]"`) || !strings.Contains(out, "PUT  "+LegacyTokensPath+"[REDACTED]") || !strings.Contains(out, "visible-name") {
		t.Fatalf("debug output:\n%s", out)
	}
	for _, secret := range []string{tok.UUID, sandboxPassword} {
		if strings.Contains(out, secret) {
			t.Fatalf("debug output contains %q", secret)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// A list body cut short, or followed by garbage, is an error even when
// every element it holds was well formed (issue 16 item 3).
func TestListRejectsIncompleteArrays(t *testing.T) {
	for _, body := range []string{`[{"uuid":"x"`, `[{"uuid":"x","name":"a","read":true,"change":false}`, `[`, `[]garbage`, `[{"uuid":"x"}] {}`, `[{"uuid":"x"},`, ``, `{"uuid":"x"}`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, body)
		}))
		a := newAgent(t, srv.URL, "admin", sandboxPassword, Options{Version: VersionCurrent}, nil)
		n := 0
		_, err := a.ListTokens(context.Background(), func(json.RawMessage) error { n++; return nil })
		srv.Close()
		if err == nil || exit.CodeOf(err) != exit.Error || !strings.HasPrefix(err.Error(), "list agent tokens: unexpected response (not the documented JSON)") {
			t.Errorf("body %q: %d items, err %v (exit %d)", body, n, err, exit.CodeOf(err))
		}
	}
	for body, want := range map[string]int{"[]": 0, " [ ] \n": 0, `[{"uuid":"x"}, {"uuid":"y"}]` + "\n": 2} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
		a := newAgent(t, srv.URL, "admin", sandboxPassword, Options{Version: VersionCurrent}, nil)
		n, err := a.ListTokens(context.Background(), func(json.RawMessage) error { return nil })
		srv.Close()
		if err != nil || n != want {
			t.Errorf("body %q: %d items, %v", body, n, err)
		}
	}
}

// Every write carries X-Atlassian-Token: no-check, as the plugin author's
// own scripts send it (issue 16 item 18).
func TestWritesSendXSRFHeader(t *testing.T) {
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string][]string{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.Method] = append(got[r.Method], r.Header.Get("X-Atlassian-Token"))
		mu.Unlock()
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(func() { hs.Close(); srv.Close() })
	a := newAgent(t, hs.URL, "admin", sandboxPassword, Options{}, nil)
	ctx := context.Background()
	_, tok, err := a.CreateToken(ctx, &TokenRequest{Name: "ci", Read: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.UpdateToken(ctx, tok.UUID, Change{Change: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	var nd *NoDeleteError
	if _, err := a.DeleteToken(ctx, tok.UUID); !errors.As(err, &nd) {
		t.Fatalf("delete: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		if len(got[m]) == 0 {
			t.Errorf("no %s was sent", m)
		}
		for _, h := range got[m] {
			if h != "no-check" {
				t.Errorf("%s sent X-Atlassian-Token %q, want no-check", m, h)
			}
		}
	}
}
