package nsx_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

const (
	admin   = sim.AdminUser
	auditor = sim.AuditorUser
	pw      = sim.DefaultPassword
)

var (
	uuid4Re   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	cookieRe  = regexp.MustCompile(`^JSESSIONID=([0-9A-F]{32}); Path=/; HttpOnly; SameSite=Lax$`)
	prefixes  = []string{"/api/v1", "/policy/api/v1"}
	badCreds  = map[string]any{"module_name": "common-services", "error_message": "The credentials were incorrect or the account specified has been locked.", "error_code": float64(403)}
	unsupport = "The requested with given URI, HTTP method and set of parameters cannot be processed."
)

// env is one sandbox under test, served over plain HTTP by httptest.
type env struct {
	t   *testing.T
	srv *sandbox.Server
	url string
	c   *http.Client
}

func newEnv(t *testing.T, opts sim.Options) *env {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &env{t: t, srv: srv, url: ts.URL, c: ts.Client()}
}

func (e *env) advance(d time.Duration) {
	e.srv.Env().Lock()
	e.srv.Env().Advance(d)
	e.srv.Env().Unlock()
}

// req describes one request; the zero value sends no credentials.
type req struct {
	method, path string
	body         string
	contentType  string
	user         string // Basic credentials (password pw unless password is set)
	password     string
	session      *session
	noXSRF       bool
	xsrf         string // overrides the session's
}

type session struct {
	id, xsrf string
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func (e *env) do(r req) resp {
	e.t.Helper()
	return doWith(e.t, e.c, e.url, r)
}

func doWith(t *testing.T, c *http.Client, base string, r req) resp {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, base+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	} else if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.user != "" {
		p := r.password
		if p == "" {
			p = pw
		}
		hr.SetBasicAuth(r.user, p)
	}
	if r.session != nil {
		hr.Header.Set("Cookie", "JSESSIONID="+r.session.id)
		if !r.noXSRF {
			hr.Header.Set("X-XSRF-TOKEN", r.session.xsrf)
		}
	}
	if r.xsrf != "" {
		hr.Header.Set("X-XSRF-TOKEN", r.xsrf)
	}
	res, err := c.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func expect(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
}

// createToken creates a registration token as admin over prefix.
func (e *env) createToken(prefix string) map[string]any {
	e.t.Helper()
	r := e.do(req{method: "POST", path: prefix + "/aaa/registration-token", user: admin})
	expect(e.t, r, http.StatusOK)
	return r.json(e.t)
}

func tokenQuery(token string) string {
	b, _ := json.Marshal(map[string]string{"token": token})
	return string(b)
}

func TestCreateGetDeleteDeprecatedPaths(t *testing.T) {
	for _, prefix := range prefixes {
		t.Run(prefix, func(t *testing.T) {
			e := newEnv(t, sim.Options{})
			// Any body on create is ignored.
			r := e.do(req{method: "POST", path: prefix + "/aaa/registration-token", user: admin, body: `{"roles":["sensor"]}`})
			expect(t, r, http.StatusOK)
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			tok := r.json(t)
			token, _ := tok["token"].(string)
			if !uuid4Re.MatchString(token) {
				t.Fatalf("token %q is not a UUID4", tok["token"])
			}
			want := map[string]any{"token": token, "roles": []any{"enterprise_admin"}, "user": "admin"}
			if !reflect.DeepEqual(tok, want) {
				t.Fatalf("create = %v, want %v", tok, want)
			}

			r = e.do(req{method: "GET", path: prefix + "/aaa/registration-token/" + token, user: admin})
			expect(t, r, http.StatusOK)
			if got := r.json(t); !reflect.DeepEqual(got, want) {
				t.Fatalf("get = %v, want %v", got, want)
			}

			r = e.do(req{method: "DELETE", path: prefix + "/aaa/registration-token/" + token, user: admin})
			expect(t, r, http.StatusOK)
			if len(r.body) != 0 {
				t.Fatalf("delete body %q, want empty", r.body)
			}

			for _, method := range []string{"GET", "DELETE"} {
				r = e.do(req{method: method, path: prefix + "/aaa/registration-token/" + token, user: admin})
				expect(t, r, http.StatusNotFound)
				m := r.json(t)
				if m["error_code"] != float64(600) || m["module_name"] != "common-services" {
					t.Fatalf("%s after delete: %v", method, m)
				}
				if bytes.Contains(r.body, []byte(token)) {
					t.Fatalf("404 body repeats the secret token: %s", r.body)
				}
			}
		})
	}
}

func TestManagerAndPolicyShareTokens(t *testing.T) {
	e := newEnv(t, sim.Options{})
	token := e.createToken("/api/v1")["token"].(string)
	expect(t, e.do(req{method: "GET", path: "/policy/api/v1/aaa/registration-token/" + token, user: admin}), http.StatusOK)
	token = e.createToken("/policy/api/v1")["token"].(string)
	expect(t, e.do(req{method: "POST", path: "/api/v1/aaa/registration-token/retrieve", user: admin, body: tokenQuery(token)}), http.StatusOK)
}

func TestRetrieveAndDeleteByBody(t *testing.T) {
	for _, prefix := range prefixes {
		t.Run(prefix, func(t *testing.T) {
			e := newEnv(t, sim.Options{})
			tok := e.createToken(prefix)
			token := tok["token"].(string)
			retrieve := prefix + "/aaa/registration-token/retrieve"
			del := prefix + "/aaa/registration-token/delete"

			r := e.do(req{method: "POST", path: retrieve, user: admin, body: tokenQuery(token)})
			expect(t, r, http.StatusOK)
			if got := r.json(t); !reflect.DeepEqual(got, tok) {
				t.Fatalf("retrieve = %v, want %v", got, tok)
			}
			// Unknown fields in the query are ignored.
			expect(t, e.do(req{method: "POST", path: retrieve, user: admin, body: `{"token":"` + token + `","x":1}`}), http.StatusOK)

			for _, path := range []string{retrieve, del} {
				for _, body := range []string{``, `not json`, `[]`, `null`, `{}`, `{"token":null}`, `{"token":5}`, `{"token":["a"]}`, `{"token":""}`} {
					r := e.do(req{method: "POST", path: path, user: admin, body: body, contentType: "application/json"})
					expect(t, r, http.StatusBadRequest)
					m := r.json(t)
					rel, _ := m["related_errors"].([]any)
					if m["error_code"] != float64(400) || len(rel) != 1 || m["error_message"] == "" {
						t.Fatalf("%s body %q: 400 body %s", path, body, r.body)
					}
				}
				r := e.do(req{method: "POST", path: path, user: admin, body: tokenQuery(token), contentType: "text/plain"})
				expect(t, r, http.StatusUnsupportedMediaType)
				// A missing Content-Type is accepted.
				hr, _ := http.NewRequest("POST", e.url+path, strings.NewReader(tokenQuery(sim.NewUUID())))
				hr.SetBasicAuth(admin, pw)
				res, err := e.c.Do(hr)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusNotFound {
					t.Fatalf("unknown token without Content-Type: %d, want 404", res.StatusCode)
				}
			}

			r = e.do(req{method: "POST", path: del, user: admin, body: tokenQuery(token)})
			expect(t, r, http.StatusOK)
			if len(r.body) != 0 {
				t.Fatalf("delete body %q", r.body)
			}
			for _, path := range []string{retrieve, del} {
				r := e.do(req{method: "POST", path: path, user: admin, body: tokenQuery(token)})
				expect(t, r, http.StatusNotFound)
				if r.json(t)["error_code"] != float64(600) {
					t.Fatalf("%s: %s", path, r.body)
				}
			}
			expect(t, e.do(req{method: "GET", path: prefix + "/aaa/registration-token/" + token, user: admin}), http.StatusNotFound)
		})
	}
}

func TestNoBodyCallsOnOldManager(t *testing.T) {
	e := newEnv(t, sim.Options{NSXNoBodyCalls: true})
	for _, prefix := range prefixes {
		token := e.createToken(prefix)["token"].(string)
		for _, op := range []string{"retrieve", "delete"} {
			r := e.do(req{method: "POST", path: prefix + "/aaa/registration-token/" + op, user: admin, body: tokenQuery(token)})
			expect(t, r, http.StatusNotFound)
			if m := r.json(t); m["error_code"] != "269" || m["error_message"] != unsupport {
				t.Fatalf("%s: %v", op, m)
			}
		}
		// The deprecated calls still work, and the token survived.
		expect(t, e.do(req{method: "GET", path: prefix + "/aaa/registration-token/" + token, user: admin}), http.StatusOK)
		expect(t, e.do(req{method: "DELETE", path: prefix + "/aaa/registration-token/" + token, user: admin}), http.StatusOK)
	}
}

func TestNoListCall(t *testing.T) {
	e := newEnv(t, sim.Options{})
	for _, prefix := range prefixes {
		path := prefix + "/aaa/registration-token"
		for _, method := range []string{"GET", "PUT", "DELETE"} {
			r := e.do(req{method: method, path: path, user: admin})
			expect(t, r, http.StatusMethodNotAllowed)
			m := r.json(t)
			// The one error that carries its code as a string, as seen in the wild.
			if m["error_code"] != "269" || m["module_name"] != "common-services" || m["error_message"] != unsupport {
				t.Fatalf("%s %s: %v", method, path, m)
			}
			if r.header.Get("Allow") != "POST" {
				t.Fatalf("Allow %q", r.header.Get("Allow"))
			}
		}
		// Authentication comes first.
		expect(t, e.do(req{method: "GET", path: path}), http.StatusForbidden)
		r := e.do(req{method: "PUT", path: path + "/" + sim.NewUUID(), user: admin})
		expect(t, r, http.StatusMethodNotAllowed)
		if r.header.Get("Allow") != "GET, DELETE" {
			t.Fatalf("Allow %q", r.header.Get("Allow"))
		}
	}
}

func TestUnknownPaths(t *testing.T) {
	e := newEnv(t, sim.Options{})
	for _, path := range []string{"/api/v1/aaa/registration-tokens", "/policy/api/v1/nothing", "/policy/api/v1/security/sensor-registration-token", "/api/v2/x"} {
		expect(t, e.do(req{method: "POST", path: path}), http.StatusForbidden)
		r := e.do(req{method: "POST", path: path, user: admin})
		expect(t, r, http.StatusNotFound)
		if r.json(t)["error_code"] != "269" {
			t.Fatalf("%s: %s", path, r.body)
		}
	}
}

func TestSensorRegistrationToken(t *testing.T) {
	e := newEnv(t, sim.Options{})
	r := e.do(req{method: "POST", path: "/api/v1/security/sensor-registration-token", user: admin})
	expect(t, r, http.StatusOK)
	m := r.json(t)
	token, _ := m["token"].(string)
	if !uuid4Re.MatchString(token) || !reflect.DeepEqual(m["roles"], []any{"sensor"}) {
		t.Fatalf("sensor token %v", m)
	}
	if _, ok := m["user"]; ok {
		t.Fatalf("sensor token has a user: %v", m)
	}
	r = e.do(req{method: "POST", path: "/api/v1/aaa/registration-token/retrieve", user: auditor, body: tokenQuery(token)})
	expect(t, r, http.StatusOK)
	if !reflect.DeepEqual(r.json(t), m) {
		t.Fatalf("retrieve = %s", r.body)
	}
	expect(t, e.do(req{method: "GET", path: "/api/v1/security/sensor-registration-token", user: admin}), http.StatusMethodNotAllowed)
	expect(t, e.do(req{method: "POST", path: "/api/v1/security/sensor-registration-token", user: auditor}), http.StatusForbidden)
	expect(t, e.do(req{method: "POST", path: "/api/v1/security/sensor-registration-token"}), http.StatusForbidden)
}

func TestBasicAuthFailuresAre403(t *testing.T) {
	e := newEnv(t, sim.Options{})
	path := "/api/v1/aaa/registration-token"
	for name, r := range map[string]req{
		"wrong password": {method: "POST", path: path, user: admin, password: "nope"},
		"unknown user":   {method: "POST", path: path, user: "root"},
	} {
		res := e.do(r)
		expect(t, res, http.StatusForbidden)
		if got := res.json(t); !reflect.DeepEqual(got, badCreds) {
			t.Fatalf("%s: body %v, want %v", name, got, badCreds)
		}
	}
	// Not Basic at all.
	hr, _ := http.NewRequest("POST", e.url+path, nil)
	hr.Header.Set("Authorization", "Bearer abc")
	res, err := e.c.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("Bearer: %d", res.StatusCode)
	}
	// No credentials: the same body plus details.
	r := e.do(req{method: "POST", path: path})
	expect(t, r, http.StatusForbidden)
	m := r.json(t)
	if m["error_code"] != float64(403) || m["error_message"] != badCreds["error_message"] || m["details"] == nil {
		t.Fatalf("missing credentials: %v", m)
	}
	// Session routes other than create need credentials too.
	expect(t, e.do(req{method: "POST", path: "/api/session/destroy"}), http.StatusForbidden)
}

func TestAuditorIsReadOnly(t *testing.T) {
	e := newEnv(t, sim.Options{})
	for _, prefix := range prefixes {
		token := e.createToken(prefix)["token"].(string)
		base := prefix + "/aaa/registration-token"
		writes := []req{
			{method: "POST", path: base},
			{method: "DELETE", path: base + "/" + token},
			{method: "POST", path: base + "/delete", body: tokenQuery(token)},
		}
		for _, w := range writes {
			w.user = auditor
			r := e.do(w)
			expect(t, r, http.StatusForbidden)
			m := r.json(t)
			if m["error_code"] != float64(403) || m["module_name"] != "common-services" || !strings.Contains(m["error_message"].(string), "auditor") {
				t.Fatalf("%s %s: %v", w.method, w.path, m)
			}
		}
		// Reads work, retrieve included, and nothing was deleted.
		expect(t, e.do(req{method: "GET", path: base + "/" + token, user: auditor}), http.StatusOK)
		expect(t, e.do(req{method: "POST", path: base + "/retrieve", user: auditor, body: tokenQuery(token)}), http.StatusOK)
	}
}

// login creates a session over the given client and base URL.
func login(t *testing.T, c *http.Client, base, user, password string) (session, *http.Response) {
	t.Helper()
	form := url.Values{"j_username": {user}, "j_password": {password}}
	res, err := c.Post(base+"/api/session/create", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return session{}, res
	}
	if len(b) != 0 {
		t.Fatalf("session create body %q, want empty", b)
	}
	var s session
	for _, ck := range res.Cookies() {
		if ck.Name == "JSESSIONID" {
			s.id = ck.Value
		}
	}
	s.xsrf = res.Header.Get("X-XSRF-TOKEN")
	if !uuid4Re.MatchString(s.xsrf) {
		t.Fatalf("X-XSRF-TOKEN %q is not a UUID", s.xsrf)
	}
	return s, res
}

func TestSessionAuth(t *testing.T) {
	e := newEnv(t, sim.Options{})
	_, res := login(t, e.c, e.url, admin, "wrong")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("bad credentials: %d", res.StatusCode)
	}
	_, res = login(t, e.c, e.url, "", "")
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("no credentials: %d", res.StatusCode)
	}

	s, res := login(t, e.c, e.url, admin, pw)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", res.StatusCode)
	}
	// Plain HTTP: no Secure attribute, or a cookie jar would never send it back.
	if m := cookieRe.FindStringSubmatch(res.Header.Get("Set-Cookie")); m == nil || m[1] != s.id {
		t.Fatalf("Set-Cookie %q", res.Header.Get("Set-Cookie"))
	}

	path := "/api/v1/aaa/registration-token"
	r := e.do(req{method: "POST", path: path, session: &s})
	expect(t, r, http.StatusOK)
	if m := r.json(t); m["user"] != admin || !reflect.DeepEqual(m["roles"], []any{"enterprise_admin"}) {
		t.Fatalf("create via session: %v", m)
	}

	for name, bad := range map[string]req{
		"no XSRF":         {session: &s, noXSRF: true},
		"wrong XSRF":      {session: &s, noXSRF: true, xsrf: sim.NewUUID()},
		"XSRF, no cookie": {xsrf: s.xsrf},
		"unknown session": {session: &session{id: strings.Repeat("A", 32), xsrf: s.xsrf}},
	} {
		bad.method, bad.path = "POST", path
		r := e.do(bad)
		expect(t, r, http.StatusForbidden)
		if r.json(t)["error_code"] != float64(403) {
			t.Fatalf("%s: %s", name, r.body)
		}
	}
	// The failures did not end the session.
	expect(t, e.do(req{method: "POST", path: path, session: &s}), http.StatusOK)

	// A second session is independent of the first.
	s2, _ := login(t, e.c, e.url, admin, pw)
	if s2.id == s.id || s2.xsrf == s.xsrf {
		t.Fatal("sessions share id or XSRF token")
	}
	expect(t, e.do(req{method: "POST", path: path, session: &session{id: s2.id, xsrf: s.xsrf}}), http.StatusForbidden)

	// Destroy needs the XSRF header too, then ends the session.
	expect(t, e.do(req{method: "POST", path: "/api/session/destroy", session: &s, noXSRF: true}), http.StatusForbidden)
	r = e.do(req{method: "POST", path: "/api/session/destroy", session: &s})
	expect(t, r, http.StatusOK)
	if len(r.body) != 0 {
		t.Fatalf("destroy body %q", r.body)
	}
	expect(t, e.do(req{method: "POST", path: path, session: &s}), http.StatusForbidden)
	expect(t, e.do(req{method: "POST", path: "/api/session/destroy", session: &s}), http.StatusForbidden)
	expect(t, e.do(req{method: "POST", path: path, session: &s2}), http.StatusOK)

	// Basic wins over a stale cookie; destroy with Basic is a no-op 200.
	expect(t, e.do(req{method: "POST", path: path, session: &s, user: admin}), http.StatusOK)
	expect(t, e.do(req{method: "POST", path: "/api/session/destroy", user: admin}), http.StatusOK)

	// An auditor session is read-only.
	sa, _ := login(t, e.c, e.url, auditor, pw)
	expect(t, e.do(req{method: "POST", path: path, session: &sa}), http.StatusForbidden)
	expect(t, e.do(req{method: "GET", path: path + "/" + sim.NewUUID(), session: &sa}), http.StatusNotFound)
}

func TestSessionIdleExpiry(t *testing.T) {
	path := "/api/v1/aaa/registration-token/" + sim.NewUUID()
	t.Run("default 1800s", func(t *testing.T) {
		e := newEnv(t, sim.Options{})
		s, _ := login(t, e.c, e.url, admin, pw)
		e.advance(29 * time.Minute)
		expect(t, e.do(req{method: "GET", path: path, session: &s}), http.StatusNotFound)
		// That call restarted the idle timer.
		e.advance(29 * time.Minute)
		expect(t, e.do(req{method: "GET", path: path, session: &s}), http.StatusNotFound)
		e.advance(30 * time.Minute)
		r := e.do(req{method: "GET", path: path, session: &s})
		expect(t, r, http.StatusForbidden)
		// Gone for good, even though the next call comes at once.
		expect(t, e.do(req{method: "GET", path: path, session: &s}), http.StatusForbidden)
	})
	t.Run("NSXSessionIdle", func(t *testing.T) {
		e := newEnv(t, sim.Options{NSXSessionIdle: 5 * time.Minute})
		s, _ := login(t, e.c, e.url, admin, pw)
		e.advance(4 * time.Minute)
		expect(t, e.do(req{method: "GET", path: path, session: &s}), http.StatusNotFound)
		e.advance(6 * time.Minute)
		expect(t, e.do(req{method: "GET", path: path, session: &s}), http.StatusForbidden)
		// Basic is unaffected by the clock.
		expect(t, e.do(req{method: "GET", path: path, user: admin}), http.StatusNotFound)
	})
}
