package nsx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

const sandboxPassword = "tokenctl-sandbox"

// traffic records "METHOD path" of each request a handler serves.
type traffic struct {
	mu   sync.Mutex
	seen []string
}

func (tr *traffic) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		tr.seen = append(tr.seen, r.Method+" "+r.URL.Path)
		tr.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (tr *traffic) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	s := tr.seen
	tr.seen = nil
	return s
}

// emulator runs the sandbox's NSX emulator on an httptest server.
func emulator(t *testing.T, opts sim.Options) (*sandbox.Server, string, *traffic) {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	tr := &traffic{}
	hs := httptest.NewServer(tr.wrap(srv.Handler()))
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return srv, hs.URL, tr
}

func newClient(t *testing.T, url string, auth client.Auth, debug io.Writer) *client.Client {
	t.Helper()
	c, err := client.New(client.Options{BaseURL: url, Debug: debug, Timeout: 5 * time.Second, RetryBaseWait: time.Millisecond}, auth)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func basic(user string) *client.BasicAuth {
	return &client.BasicAuth{Username: user, Password: sandboxPassword}
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

func TestCreateGetDeleteWithBodyCalls(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{})
	cache := testCache(t)
	n := New(newClient(t, url, basic("admin"), nil), cache)
	ctx := context.Background()

	raw, tok, err := n.CreateToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token == "" || tok.User != "admin" || len(tok.Roles) != 1 || tok.Roles[0] != "enterprise_admin" {
		t.Fatalf("created %s", raw)
	}
	_, sensor, err := n.CreateToken(ctx, true)
	if err != nil || sensor.Roles[0] != "sensor" {
		t.Fatalf("sensor token %+v, %v", sensor, err)
	}
	equal(t, "creates", tr.take(), []string{"POST " + TokenPath, "POST " + SensorTokenPath})

	got, err := n.GetToken(ctx, tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	var rt RegistrationToken
	if json.Unmarshal(got, &rt) != nil || rt.Token != tok.Token || rt.User != "admin" {
		t.Fatalf("get: %s", got)
	}
	gone, err := n.DeleteToken(ctx, tok.Token)
	if err != nil || gone {
		t.Fatalf("delete: gone=%v err=%v", gone, err)
	}
	gone, err = n.DeleteToken(ctx, tok.Token)
	if err != nil || !gone {
		t.Fatalf("second delete: gone=%v err=%v, want already gone", gone, err)
	}
	_, err = n.GetToken(ctx, tok.Token)
	if exit.CodeOf(err) != exit.NotFound {
		t.Fatalf("get after delete: %v, want exit 4", err)
	}
	equal(t, "get and deletes", tr.take(), []string{
		"POST " + TokenPath + "/retrieve", "POST " + TokenPath + "/delete", "POST " + TokenPath + "/delete", "POST " + TokenPath + "/retrieve",
	})
	var cached bool
	if !cache.Get(url, CacheKeyBodyCalls, &cached) || !cached {
		t.Fatalf("cache does not say the body calls exist")
	}
}

func TestUnknownTokenDoesNotLookLikeAMissingRoute(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{})
	cache := testCache(t)
	n := New(newClient(t, url, basic("admin"), nil), cache)
	_, err := n.GetToken(context.Background(), "0f5e4a47-7a52-4bbd-9d64-5d2a9fd1a3a1")
	if exit.CodeOf(err) != exit.NotFound {
		t.Fatalf("got %v, want exit 4", err)
	}
	equal(t, "requests", tr.take(), []string{"POST " + TokenPath + "/retrieve"})
	var cached bool
	if !cache.Get(url, CacheKeyBodyCalls, &cached) || !cached {
		t.Fatalf("a not-found token must settle the body calls as present")
	}
}

func TestFallbackOnManagerWithoutBodyCalls(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{NSXNoBodyCalls: true})
	cache := testCache(t)
	ctx := context.Background()
	n := New(newClient(t, url, basic("admin"), nil), cache)
	_, tok, err := n.CreateToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	tr.take()
	if _, err := n.GetToken(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	equal(t, "first get", tr.take(), []string{"POST " + TokenPath + "/retrieve", "GET " + TokenPath + "/" + tok.Token})
	var cached bool
	if !cache.Get(url, CacheKeyBodyCalls, &cached) || cached {
		t.Fatalf("cache should say there are no body calls")
	}

	// A later run reads the cache and goes straight to the path calls.
	n2 := New(newClient(t, url, basic("admin"), nil), cache)
	if _, err := n2.GetToken(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	gone, err := n2.DeleteToken(ctx, tok.Token)
	if err != nil || gone {
		t.Fatalf("delete: %v %v", gone, err)
	}
	gone, err = n2.DeleteToken(ctx, tok.Token)
	if err != nil || !gone {
		t.Fatalf("delete again: %v %v", gone, err)
	}
	equal(t, "cached run", tr.take(), []string{
		"GET " + TokenPath + "/" + tok.Token, "DELETE " + TokenPath + "/" + tok.Token, "DELETE " + TokenPath + "/" + tok.Token,
	})
}

func TestCachedAnswerIsUsed(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{})
	cache := testCache(t)
	if err := cache.Set(url, CacheKeyBodyCalls, false); err != nil {
		t.Fatal(err)
	}
	n := New(newClient(t, url, basic("admin"), nil), cache)
	_, err := n.GetToken(context.Background(), "1f5e4a47-7a52-4bbd-9d64-5d2a9fd1a3a1")
	if exit.CodeOf(err) != exit.NotFound {
		t.Fatal(err)
	}
	equal(t, "requests", tr.take(), []string{"GET " + TokenPath + "/1f5e4a47-7a52-4bbd-9d64-5d2a9fd1a3a1"})
}

func TestConcurrentDeletesDetectOnce(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{NSXNoBodyCalls: true})
	n := New(newClient(t, url, basic("admin"), nil), nil)
	ctx := context.Background()
	var tokens []string
	for range 6 {
		_, tok, err := n.CreateToken(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok.Token)
	}
	tr.take()
	var wg sync.WaitGroup
	for _, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := n.DeleteToken(ctx, tok); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	probes := 0
	for _, s := range tr.take() {
		if strings.HasSuffix(s, "/delete") {
			probes++
		}
	}
	if probes != 1 {
		t.Fatalf("%d body-call probes, want 1", probes)
	}
}

func TestProbeBodyCalls(t *testing.T) {
	for _, noBody := range []bool{false, true} {
		_, url, _ := emulator(t, sim.Options{NSXNoBodyCalls: noBody})
		cache := testCache(t)
		n := New(newClient(t, url, basic("auditor"), nil), cache)
		got, err := n.ProbeBodyCalls(context.Background())
		if err != nil || got == noBody {
			t.Fatalf("no body calls=%v: probe %v, %v", noBody, got, err)
		}
		var cached bool
		if !cache.Get(url, CacheKeyBodyCalls, &cached) || cached != !noBody {
			t.Fatalf("cache not updated")
		}
		bad := New(newClient(t, url, &client.BasicAuth{Username: "admin", Password: "wrong"}, nil), nil)
		if _, err := bad.ProbeBodyCalls(context.Background()); exit.CodeOf(err) != exit.Auth {
			t.Fatalf("bad credentials: %v, want exit 3", err)
		}
		if _, known := bad.BodyCalls(); known {
			t.Fatal("an authentication failure settled the body calls")
		}
	}
}

func TestClassify(t *testing.T) {
	apiErr := func(status int, body string) error {
		return &client.APIError{Status: status, Body: json.RawMessage(body)}
	}
	cases := []struct {
		name string
		err  error
		want routeAnswer
	}{
		{"2xx", nil, routeExists},
		{"not found", apiErr(404, `{"module_name":"common-services","error_message":"could not be found","error_code":600}`), routeExists},
		{"bad query", apiErr(400, `{"error_message":"Field 'token' is required.","error_code":400}`), routeExists},
		{"269 as string", apiErr(404, `{"module_name":"common-services","error_message":"cannot be processed","error_code":"269"}`), routeMissing},
		{"269 as int on 400", apiErr(400, `{"error_code":269}`), routeMissing},
		{"405", apiErr(405, ``), routeMissing},
		{"plain 404", &client.APIError{Status: 404}, routeMissing},
		{"html 404", &client.APIError{Status: 404, Message: "<html>Not Found</html>"}, routeMissing},
		{"forbidden", apiErr(403, `{"error_code":403}`), noSignal},
		{"unavailable", apiErr(503, `{"error_code":503}`), noSignal},
		{"network", errors.New("connection reset"), noSignal},
	}
	for _, c := range cases {
		if got := classify(c.err); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestErrorModelShownInFull(t *testing.T) {
	body := `{"module_name":"common-services","error_message":"The requested with given URI, HTTP method and set of parameters cannot be processed.","error_code":"269",` +
		`"details":"retry later","related_errors":[{"module_name":"nsx-aaa","error_message":"inner problem","error_code":12}],"error_data":{"field":"token"}}`
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusPreconditionFailed)
		io.WriteString(w, body)
	}))
	defer hs.Close()
	n := New(newClient(t, hs.URL, basic("admin"), nil), nil)
	_, _, err := n.CreateToken(context.Background(), false)
	msg := err.Error()
	for _, want := range []string{"create registration token", "HTTP 412", "cannot be processed", "error_code 269", "module common-services",
		"details: retry later", "related: inner problem (error_code 12, module nsx-aaa)", `error_data: {"field":"token"}`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	d := exit.DetailOf(err)
	if d.ExitCode != exit.Conflict || d.HTTPStatus != 412 || !bytes.Contains(d.Vendor, []byte(`"error_code":"269"`)) {
		t.Errorf("detail %+v", d)
	}
}

func TestBadCredentialsAre403Exit3(t *testing.T) {
	_, url, tr := emulator(t, sim.Options{})
	n := New(newClient(t, url, &client.BasicAuth{Username: "admin", Password: "wrong-password"}, nil), nil)
	_, _, err := n.CreateToken(context.Background(), false)
	if exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "credentials were incorrect") {
		t.Fatalf("got %v", err)
	}
	if len(tr.take()) != 1 {
		t.Fatal("a rejected Basic login must not be retried (accounts lock)")
	}
	auditor := New(newClient(t, url, basic("auditor"), nil), nil)
	if _, _, err := auditor.CreateToken(context.Background(), false); exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "permission") {
		t.Fatalf("auditor create: %v", err)
	}
}

// flaky answers status (without Retry-After, as NSX) n times, then 200.
func flaky(n int32, status int, calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) <= n {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error_message":"Client 'admin' exceeded request rate of 100 per second.","error_code":%d}`, status)
			return
		}
		io.WriteString(w, `{"token":"5d4c3b2a-1f5e-4a47-9d64-5d2a9fd1a3a1","roles":["enterprise_admin"]}`)
	}
}

func TestRetriesWithoutRetryAfter(t *testing.T) {
	ctx := context.Background()
	for _, status := range []int{429, 503} {
		var calls atomic.Int32
		hs := httptest.NewServer(flaky(2, status, &calls))
		n := New(newClient(t, hs.URL, basic("admin"), nil), nil)
		if _, err := n.GetToken(ctx, "5d4c3b2a-1f5e-4a47-9d64-5d2a9fd1a3a1"); err != nil || calls.Load() != 3 {
			t.Fatalf("retrieve after %d: calls=%d err=%v", status, calls.Load(), err)
		}
		hs.Close()
	}
	// A create is retried on 429 (nothing was done), not on 503.
	var calls atomic.Int32
	hs := httptest.NewServer(flaky(1, 429, &calls))
	n := New(newClient(t, hs.URL, basic("admin"), nil), nil)
	if _, _, err := n.CreateToken(ctx, false); err != nil || calls.Load() != 2 {
		t.Fatalf("create after 429: calls=%d err=%v", calls.Load(), err)
	}
	hs.Close()
	calls.Store(0)
	hs = httptest.NewServer(flaky(1, 503, &calls))
	defer hs.Close()
	n = New(newClient(t, hs.URL, basic("admin"), nil), nil)
	_, _, err := n.CreateToken(ctx, false)
	if calls.Load() != 1 || exit.CodeOf(err) != exit.Unavailable || !strings.Contains(err.Error(), "NSX cannot list tokens") {
		t.Fatalf("create after 503: calls=%d err=%v, want one call, exit 6 and NSX's advice", calls.Load(), err)
	}
}

func TestDebugRedactsTokens(t *testing.T) {
	_, url, _ := emulator(t, sim.Options{NSXNoBodyCalls: true})
	var dbg bytes.Buffer
	n := New(newClient(t, url, basic("admin"), &dbg), nil)
	ctx := context.Background()
	_, tok, err := n.CreateToken(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.GetToken(ctx, tok.Token); err != nil { // falls back to GET {token}
		t.Fatal(err)
	}
	if _, err := n.DeleteToken(ctx, tok.Token); err != nil {
		t.Fatal(err)
	}
	out := dbg.String()
	if !strings.Contains(out, "GET  "+TokenPath+"/[REDACTED]") {
		t.Fatalf("debug output lacks the redacted fallback GET:\n%s", out)
	}
	for _, secret := range []string{tok.Token, sandboxPassword} {
		if strings.Contains(out, secret) {
			t.Fatalf("debug output contains %q:\n%s", secret, out)
		}
	}
}

// A URL with no NSX API behind it (a plain HTML 404 to every call) passes
// no check and deletes nothing: a 404 means "token gone" only with NSX's
// ApiError body (issue 16 item 17).
func TestPlain404IsNotTokenGone(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html><body><h1>404 Not Found</h1></body></html>")
	}))
	defer hs.Close()
	cache := testCache(t)
	ctx := context.Background()
	n := New(newClient(t, hs.URL, basic("admin"), nil), cache)
	if _, err := n.ProbeBodyCalls(ctx); exit.CodeOf(err) != exit.NotFound || !strings.Contains(err.Error(), "no NSX registration-token API") {
		t.Fatalf("probe: %v (exit %d)", err, exit.CodeOf(err))
	}
	const tok = "0f5e4a47-7a52-4bbd-9d64-5d2a9fd1a3a1"
	gone, err := n.DeleteToken(ctx, tok)
	if gone || exit.CodeOf(err) != exit.Error || !strings.Contains(err.Error(), "not NSX's not-found error") {
		t.Fatalf("delete: gone=%v %v (exit %d)", gone, err, exit.CodeOf(err))
	}
	if _, err := n.GetToken(ctx, tok); exit.CodeOf(err) != exit.Error {
		t.Fatalf("get: %v (exit %d)", err, exit.CodeOf(err))
	}
	var v bool
	if cache.Get(hs.URL, CacheKeyBodyCalls, &v) {
		t.Fatal("plain 404s were cached as a pre-4.x manager")
	}
}
