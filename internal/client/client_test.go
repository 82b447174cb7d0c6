package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
)

func newTestClient(t *testing.T, url string, debug io.Writer) *Client {
	t.Helper()
	c, err := New(Options{BaseURL: url, Debug: debug, Timeout: 5 * time.Second, RetryBaseWait: time.Millisecond}, &BasicAuth{Username: "admin", Password: "s3cret-password"})
	if err != nil {
		t.Fatal(err)
	}
	c.Redactor().AddSecret("s3cret-password")
	return c
}

// flaky answers status for the first n calls, then 200.
func flaky(n int32, status int, retryAfter string, calls *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error_code":%d,"error_message":"busy"}`, status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}
}

func TestReadsRetryTransientStatuses(t *testing.T) {
	for _, status := range []int{429, 502, 503, 504} {
		var calls atomic.Int32
		srv := httptest.NewServer(flaky(2, status, "0", &calls))
		c := newTestClient(t, srv.URL, nil)
		resp, err := c.Do(context.Background(), Call{Operation: "get", Method: http.MethodGet, Path: "/x"})
		srv.Close()
		if err != nil {
			t.Fatalf("status %d: %v", status, err)
		}
		if calls.Load() != 3 || string(resp.Body) != `{"ok":true}` {
			t.Fatalf("status %d: calls=%d body=%s", status, calls.Load(), resp.Body)
		}
	}
}

func TestCreateNotRetriedAfterServerMayHaveActed(t *testing.T) {
	for _, status := range []int{502, 503, 504} {
		var calls atomic.Int32
		srv := httptest.NewServer(flaky(1, status, "0", &calls))
		c := newTestClient(t, srv.URL, nil)
		_, err := c.Do(context.Background(), Call{Operation: "create token", Method: http.MethodPost, Path: "/x", Body: map[string]string{"a": "b"}})
		srv.Close()
		if calls.Load() != 1 {
			t.Fatalf("status %d: create sent %d times, want 1", status, calls.Load())
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != exit.Unavailable || !strings.Contains(err.Error(), "check") {
			t.Fatalf("status %d: got %v, want exit 6 with advice to look first", status, err)
		}
	}
}

func TestCreateRetriedOn429(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(flaky(2, 429, "0", &calls))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.Do(context.Background(), Call{Operation: "create", Method: http.MethodPost, Path: "/x", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Fatalf("calls = %d, want 3", calls.Load())
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	resp := &http.Response{Header: http.Header{"Retry-After": {"2"}}}
	if d := retryAfter(restyResponse(resp), 300*time.Millisecond); d != 2*time.Second {
		t.Fatalf("Retry-After 2 gave %v", d)
	}
	resp.Header.Set("Retry-After", "0")
	if d := retryAfter(restyResponse(resp), 300*time.Millisecond); d > time.Millisecond {
		t.Fatalf("Retry-After 0 gave %v, want immediate", d)
	}
	resp.Header.Del("Retry-After")
	if d := retryAfter(restyResponse(resp), 300*time.Millisecond); d < 150*time.Millisecond || d > 300*time.Millisecond {
		t.Fatalf("backoff without Retry-After = %v, want 150ms..300ms on the first attempt", d)
	}
}

func TestCreateRetriedOnRefusedConnectionOnly(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	c, err := New(Options{BaseURL: "http://" + addr, MaxRetries: 2, Timeout: time.Second, RetryBaseWait: time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), Call{Operation: "create", Method: http.MethodPost, Path: "/x", Body: []byte(`{}`)})
	var ne *NetworkError
	if !errors.As(err, &ne) || exit.CodeOf(err) != exit.Network {
		t.Fatalf("got %v, want a network error (exit 7)", err)
	}
	if ne.Hint != "" {
		t.Fatalf("a refused create cannot have been carried out; hint %q", ne.Hint)
	}
}

func TestCreateNotRetriedAfterReset(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close() // the server read the request, then the connection broke
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), Call{Operation: "create", Method: http.MethodPost, Path: "/x", Body: []byte(`{}`)})
	if calls.Load() != 1 {
		t.Fatalf("create sent %d times, want 1", calls.Load())
	}
	var ne *NetworkError
	if !errors.As(err, &ne) || !strings.Contains(ne.Hint, "check") {
		t.Fatalf("got %v, want a network error advising to look before retrying", err)
	}
	calls.Store(0)
	_, err = c.Do(context.Background(), Call{Operation: "get", Method: http.MethodGet, Path: "/x"})
	if err == nil || calls.Load() != 6 {
		t.Fatalf("a read after resets: calls=%d err=%v, want 6 attempts", calls.Load(), err)
	}
}

func TestStatusExitCodes(t *testing.T) {
	cases := map[int]int{400: 1, 401: 3, 403: 3, 404: 4, 405: 1, 409: 5, 412: 5, 422: 1, 428: 5, 429: 6, 500: 1, 502: 6, 503: 6, 504: 6}
	for status, want := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
		}))
		c, _ := New(Options{BaseURL: srv.URL, MaxRetries: -1}, nil)
		c.R.SetRetryCount(0)
		_, err := c.Do(context.Background(), Call{Operation: "op", Method: http.MethodGet, Path: "/"})
		srv.Close()
		if got := exit.CodeOf(err); got != want {
			t.Errorf("HTTP %d: exit %d, want %d", status, got, want)
		}
	}
}

func TestVendorErrorDecoded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		io.WriteString(w, `{"error_code":"269","module_name":"common-services","error_message":"cannot be processed","details":"more","related_errors":[{"error_code":12,"error_message":"inner"}]}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), Call{Operation: "create registration token", Method: http.MethodPost, Path: "/x"})
	msg := err.Error()
	for _, want := range []string{"create registration token", "HTTP 400", "cannot be processed", "error_code 269", "module common-services", "details: more", "related: inner (error_code 12)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	d := exit.DetailOf(err)
	if d.HTTPStatus != 400 || !json.Valid(d.Vendor) || d.ExitCode != 1 {
		t.Errorf("detail = %+v", d)
	}
}

func TestDebugRedactsSecrets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: "ABCDEF0123456789"})
		w.Header().Set("X-XSRF-TOKEN", "xsrf-value-1234")
		io.WriteString(w, `{"token":"nsx-token-value","x_auth_token":"sdwan-secret-value","id":"keep-me"}`)
	}))
	defer srv.Close()
	var dbg bytes.Buffer
	c := newTestClient(t, srv.URL, &dbg)
	c.Redactor().AddSecret("agent-uuid-in-path")
	_, err := c.Do(context.Background(), Call{Operation: "op", Method: http.MethodPost, Path: "/tokens/agent-uuid-in-path",
		Body: map[string]string{"passphrase": "Pass-Phrase-123456", "display_name": "visible"}, Header: http.Header{"X-Auth-Token": {"header-secret-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := dbg.String()
	for _, secret := range []string{"s3cret-password", "Pass-Phrase-123456", "nsx-token-value", "sdwan-secret-value", "ABCDEF0123456789", "xsrf-value-1234", "agent-uuid-in-path", "header-secret-1", "YWRtaW46czNjcmV0LXBhc3N3b3Jk"} {
		if strings.Contains(out, secret) {
			t.Errorf("debug output contains %q:\n%s", secret, out)
		}
	}
	for _, visible := range []string{"visible", "keep-me", "POST", "Basic " + Redacted} {
		if !strings.Contains(out, visible) {
			t.Errorf("debug output lacks %q:\n%s", visible, out)
		}
	}
}

// The debug log scrubs a copy of the request's headers whose value slices
// are the request's own; the server must still receive the real secrets.
func TestDebugDoesNotAlterSentHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		io.WriteString(w, `{}`)
	}))
	defer srv.Close()
	var dbg bytes.Buffer
	c, err := New(Options{BaseURL: srv.URL, Debug: &dbg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Redactor().AddSecret("header-secret-2")
	_, err = c.Do(context.Background(), Call{Operation: "op", Method: http.MethodGet, Path: "/x",
		Header: http.Header{"X-Auth-Token": {"header-secret-1"}, "Authorization": {"Bearer bearer-secret-1"}, "X-Other": {"has header-secret-2 inside"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Get("X-Auth-Token") != "header-secret-1" || got.Get("Authorization") != "Bearer bearer-secret-1" || got.Get("X-Other") != "has header-secret-2 inside" {
		t.Fatalf("the server received scrubbed headers: %v", got)
	}
	for _, secret := range []string{"header-secret-1", "bearer-secret-1", "header-secret-2"} {
		if strings.Contains(dbg.String(), secret) {
			t.Errorf("debug output contains %q", secret)
		}
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("credentials followed the redirect: %v", r.Header)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/stolen", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), Call{Operation: "get", Method: http.MethodGet, Path: "/x"})
	if err == nil || !strings.Contains(err.Error(), "another host") {
		t.Fatalf("got %v, want the redirect refused", err)
	}
}

func TestThumbprintPinning(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") }))
	defer srv.Close()
	good := Thumbprint(srv.Certificate())
	c, err := New(Options{BaseURL: srv.URL, TLS: TLSOptions{Thumbprint: good}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), Call{Operation: "get", Method: http.MethodGet, Path: "/"}); err != nil {
		t.Fatalf("matching pin: %v", err)
	}
	bad := strings.Repeat("ab", 32)
	c, _ = New(Options{BaseURL: srv.URL, TLS: TLSOptions{Thumbprint: bad}}, nil)
	_, err = c.Do(context.Background(), Call{Operation: "get", Method: http.MethodGet, Path: "/"})
	var tm *ThumbprintMismatchError
	if !errors.As(err, &tm) || exit.CodeOf(err) != exit.Network {
		t.Fatalf("mismatched pin: %v, want a thumbprint mismatch (exit 7)", err)
	}
	c, _ = New(Options{BaseURL: srv.URL}, nil)
	_, err = c.Do(context.Background(), Call{Operation: "get", Method: http.MethodGet, Path: "/"})
	if exit.CodeOf(err) != exit.Network || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("untrusted certificate: %v, want exit 7 with advice", err)
	}
}

func TestListOffsetFollowsPagesWithoutTrustingOffset(t *testing.T) {
	const total = 23
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		off := 0
		fmt.Sscan(r.URL.Query().Get("offset"), &off)
		size := 10
		fmt.Sscan(r.URL.Query().Get("page_size"), &size)
		var items []string
		for i := off; i < min(off+size, total); i++ {
			items = append(items, fmt.Sprintf(`{"id":"t%d"}`, i))
		}
		tot := ""
		if off == 0 {
			tot = fmt.Sprintf(`"total_result_count":%d,`, total)
		}
		fmt.Fprintf(w, `{"offset":-1,%s"results":[%s]}`, tot, strings.Join(items, ","))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	var ids []string
	collect := func(raw json.RawMessage) error {
		var v struct{ ID string }
		json.Unmarshal(raw, &v)
		ids = append(ids, v.ID)
		return nil
	}
	res, err := c.ListOffset(context.Background(), Call{Operation: "list", Method: http.MethodGet, Path: "/l"}, "results", Pager{PageSize: 10}, collect)
	if err != nil || len(ids) != total || ids[22] != "t22" || res.Total != total || requests.Load() != 3 {
		t.Fatalf("all: %d ids, res %+v, %d requests, err %v", len(ids), res, requests.Load(), err)
	}
	ids, requests = nil, atomic.Int32{}
	res, err = c.ListOffset(context.Background(), Call{Operation: "list", Method: http.MethodGet, Path: "/l"}, "results", Pager{PageSize: 10, Limit: 12}, collect)
	if err != nil || len(ids) != 12 || requests.Load() != 2 || !res.More {
		t.Fatalf("limit 12: %d ids, %d requests, res %+v, err %v", len(ids), requests.Load(), res, err)
	}
}

// TestDebugDoesNotAlterRequests guards against scrubbing the real request:
// resty's log copy of the headers shares their slices with the request.
func TestDebugDoesNotAlterRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "admin" || p != "s3cret-password" || r.Header.Get("X-Auth-Token") != "header-secret-1" {
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	var dbg bytes.Buffer
	c := newTestClient(t, srv.URL, &dbg)
	for i := 0; i < 2; i++ {
		if _, err := c.Do(context.Background(), Call{Operation: "op", Method: http.MethodGet, Path: "/", Header: http.Header{"X-Auth-Token": {"header-secret-1"}}}); err != nil {
			t.Fatalf("call %d with --debug: %v", i, err)
		}
	}
}

func TestRedactorHidesURLUserinfo(t *testing.T) {
	r := NewRedactor()
	got := r.String(`GET https://admin:s3cret@nsx.example.com/api: dial tcp; see "http://tok@h/x"`)
	if strings.Contains(got, "s3cret") || strings.Contains(got, "tok@") || !strings.Contains(got, "https://"+Redacted+"@nsx.example.com/api") {
		t.Fatalf("%s", got)
	}
}

// The --debug log shows the server's bytes for people on stderr: control
// characters in a body or header are escaped there as everywhere else (a
// hostile server could clear the screen or set the window title), while
// the log's own layout (newlines, tabs) stays.
func TestDebugLogEscapesServerText(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html>\x1b]0;pwned\x07\x1b[2J\x9bgone</html>")
	}))
	defer srv.Close()
	var dbg bytes.Buffer
	c, err := New(Options{BaseURL: srv.URL, Debug: &dbg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Do(context.Background(), Call{Operation: "op", Method: http.MethodGet, Path: "/x"})
	if strings.ContainsAny(dbg.String(), "\x1b\x07") || strings.Contains(dbg.String(), "\u009b") {
		t.Errorf("debug log carries raw control characters:\n%q", dbg.String())
	}
	if !strings.Contains(dbg.String(), `\x1b]0;pwned`) || !strings.Contains(dbg.String(), "\n") || !strings.Contains(dbg.String(), "\t") {
		t.Errorf("debug log lost the escaped body or its own layout:\n%s", dbg.String())
	}
}
