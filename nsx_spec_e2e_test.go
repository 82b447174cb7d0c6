package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/specs"
)

// nsxSpecMock serves exactly the operations of the vendor's NSX-T manager
// spec (specs/nsx-registration-token.json): create, and GET and DELETE by
// path, with HTTP Basic. What the spec lacks (the 4.x retrieve and delete
// body calls, session login) answers a plain HTML 404, as the web server in
// front of it would. Every exchange on a spec route is validated against
// the spec, both ways.
type nsxSpecMock struct {
	v        *specs.Validator
	password string

	mu     sync.Mutex
	tokens map[string]bool
	errs   []string
	seen   []string
}

func newNSXSpecMock(t *testing.T, password string) (*nsxSpecMock, *httptest.Server) {
	m := &nsxSpecMock{v: specs.NewValidator(t, specs.LoadSwagger2(t, "nsx-registration-token.json")), password: password, tokens: map[string]bool{}}
	hs := httptest.NewServer(m)
	t.Cleanup(hs.Close)
	return m, hs
}

func apiErrorBody(code int, msg string) []byte {
	b, _ := json.Marshal(map[string]any{"module_name": "common-services", "error_code": code, "error_message": msg})
	return b
}

func (m *nsxSpecMock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	m.mu.Lock()
	m.seen = append(m.seen, r.Method+" "+r.URL.Path)
	m.mu.Unlock()
	op, err := m.v.Operation(r)
	if err != nil {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>")
		return
	}
	rec := httptest.NewRecorder()
	m.serve(rec, r, op)
	x := specs.Exchange{Request: r, RequestBody: body, Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if err := m.v.Validate(context.Background(), x); err != nil {
		m.mu.Lock()
		m.errs = append(m.errs, fmt.Sprintf("%s %s -> %d: %v", r.Method, r.URL.Path, rec.Code, err))
		m.mu.Unlock()
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

func (m *nsxSpecMock) serve(w http.ResponseWriter, r *http.Request, op string) {
	w.Header().Set("Content-Type", "application/json")
	if user, pw, ok := r.BasicAuth(); !ok || user != "admin" || pw != m.password {
		w.WriteHeader(http.StatusForbidden)
		w.Write(apiErrorBody(403, "The credentials were incorrect or the account specified has been locked."))
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	token := r.PathValue("token")
	if i := strings.LastIndex(r.URL.Path, "/registration-token/"); i >= 0 {
		token = r.URL.Path[i+len("/registration-token/"):]
	}
	switch op {
	case "CreateRegistrationToken":
		t := sim.NewUUID()
		m.tokens[t] = true
		json.NewEncoder(w).Encode(map[string]any{"token": t, "roles": []string{"enterprise_admin"}})
	case "GetRegistrationToken", "DeleteRegistrationToken":
		if !m.tokens[token] {
			w.WriteHeader(http.StatusNotFound)
			w.Write(apiErrorBody(600, "The requested object : "+token+" could not be found. Object identifiers are case sensitive."))
			return
		}
		if op == "DeleteRegistrationToken" {
			delete(m.tokens, token)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"token": token, "roles": []string{"enterprise_admin"}})
	default:
		w.WriteHeader(http.StatusInternalServerError)
	}
}

func (m *nsxSpecMock) has(token string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[token]
}

// TestNSXAgainstSpecShapedManager runs tokenctl against a manager that has
// only what the vendor's NSX-T spec documents (issue 16 item 17): Basic
// auth works through the old GET/DELETE calls; a session login answered
// 404 is a failed login (exit 3) that proves nothing about routes or tokens;
// a URL with no NSX behind it passes no check and reports no token gone.
func TestNSXAgainstSpecShapedManager(t *testing.T) {
	const pw = "Spec-Mock-Pass-1!"
	mock, hs := newNSXSpecMock(t, pw)
	pe := newProcEnv(t)
	pe.Set("NSX_PW", pw)
	run := func(code int, stdin string, args ...string) run {
		t.Helper()
		r := pe.Run(t, stdin, args...)
		if r.Code != code {
			t.Fatalf("tokenctl %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, code, r.Stdout, r.Stderr)
		}
		return r
	}
	run(0, "", "profile", "set", "basic", "--platform", "nsx", "--server", hs.URL, "--username", "admin", "--password-env", "NSX_PW")
	run(0, "", "profile", "set", "session", "--platform", "nsx", "--auth", "session", "--server", hs.URL, "--username", "admin", "--password-env", "NSX_PW")

	// Session login first, with an empty cache: every command fails as a
	// login failure and nothing is cached or claimed.
	r := run(3, "", "--profile", "session", "profile", "check")
	if !strings.Contains(squeeze(r.Stdout), "credentials: failed: create NSX session: HTTP 404") || !strings.Contains(r.Stderr, "no NSX session login answered") {
		t.Fatalf("session check:\n%s\n%s", r.Stdout, r.Stderr)
	}
	if data, _ := os.ReadFile(pe.CachePath()); bytes.Contains(data, []byte("nsx_body_calls")) {
		t.Fatalf("a failed login was cached as route evidence: %s", data)
	}
	r = run(0, "", "--profile", "basic", "token", "create", "-o", "secret")
	tok := strings.TrimSpace(r.Stdout)
	r = run(3, tok+"\n", "--profile", "session", "token", "delete", "-", "--yes")
	if strings.Contains(r.Stderr, "already gone") || !mock.has(tok) {
		t.Fatalf("session delete after a 404 login claimed the token gone:\n%s", r.Stderr)
	}
	run(3, tok+"\n", "--profile", "session", "token", "get", "-")
	r = run(3, "", "--profile", "session", "token", "create")
	if strings.Contains(r.Stderr, "may have created") || strings.Contains(r.Stderr, "may have carried out") {
		t.Fatalf("a failed login claimed a token may exist:\n%s", r.Stderr)
	}
	if data, _ := os.ReadFile(pe.CachePath()); bytes.Contains(data, []byte("nsx_body_calls")) {
		t.Fatalf("a failed login was cached as route evidence: %s", data)
	}

	// Basic: the spec's own calls.
	r = run(0, "", "--profile", "basic", "profile", "check")
	if !strings.Contains(squeeze(r.Stdout), "credentials: ok") || !strings.Contains(r.Stdout, "no body calls") {
		t.Fatalf("basic check:\n%s", r.Stdout)
	}
	run(0, tok+"\n", "--profile", "basic", "token", "get", "-", "-o", "json")
	r = run(0, tok+"\n", "--profile", "basic", "token", "delete", "-", "--yes")
	if strings.Contains(r.Stderr, "already gone") || mock.has(tok) {
		t.Fatalf("delete:\n%s", r.Stderr)
	}
	r = run(0, tok+"\n", "--profile", "basic", "token", "delete", "-", "--yes")
	if !strings.Contains(r.Stderr, "already gone") {
		t.Fatalf("a second delete, answered with NSX's own not-found error, is already gone:\n%s", r.Stderr)
	}
	run(4, tok+"\n", "--profile", "basic", "token", "get", "-")

	// A URL with no NSX API behind it: plain 404s everywhere.
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "<html><body>Not Found</body></html>")
	}))
	defer html.Close()
	run(0, "", "profile", "set", "nowhere", "--platform", "nsx", "--server", html.URL, "--username", "admin", "--password-env", "NSX_PW")
	r = run(4, "", "--profile", "nowhere", "profile", "check")
	if strings.Contains(squeeze(r.Stdout), "credentials: ok") || !strings.Contains(r.Stderr, "no NSX registration-token API") {
		t.Fatalf("check of a URL without NSX:\n%s\n%s", r.Stdout, r.Stderr)
	}
	r = run(1, tok+"\n", "--profile", "nowhere", "token", "delete", "-", "--yes")
	if strings.Contains(r.Stderr, "already gone") {
		t.Fatalf("a plain 404 was taken for a deleted token:\n%s", r.Stderr)
	}
	run(1, tok+"\n", "--profile", "nowhere", "token", "get", "-")
	if data, _ := os.ReadFile(pe.CachePath()); bytes.Contains(data, []byte(html.URL)) {
		t.Fatalf("plain 404s were cached: %s", data)
	}

	mock.mu.Lock()
	defer mock.mu.Unlock()
	for _, e := range mock.errs {
		t.Errorf("against the spec: %s", e)
	}
	if len(mock.seen) == 0 {
		t.Fatal("the mock saw no request")
	}
}

// squeeze collapses runs of spaces (table padding) to one.
func squeeze(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
}
