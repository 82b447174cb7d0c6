package agent_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

const (
	admin   = sim.AdminUser
	auditor = sim.AuditorUser
	pw      = sim.DefaultPassword
)

var uuid4Re = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// paths of one plugin generation.
type paths struct {
	tokens                  string // collection, no trailing slash
	state, enable, disable  func(agentID string) string
	otherTokens, otherState string // the other generation's paths, which must 404
}

var current = paths{
	tokens:      "/rest/agent-config/1.0/tokens",
	state:       func(id string) string { return "/rest/agents/1.0/" + id + "/state" },
	enable:      func(id string) string { return "/rest/agents/1.0/" + id + "/state/enable" },
	disable:     func(id string) string { return "/rest/agents/1.0/" + id + "/state/disable" },
	otherTokens: "/rest/agent/1.0/tokens",
	otherState:  "/rest/agent/1.0/131073",
}

var legacy = paths{
	tokens:      "/rest/agent/1.0/tokens",
	state:       func(id string) string { return "/rest/agent/1.0/" + id },
	enable:      func(id string) string { return "/rest/agent/1.0/" + id + "/enable" },
	disable:     func(id string) string { return "/rest/agent/1.0/" + id + "/disable" },
	otherTokens: "/rest/agent-config/1.0/tokens",
	otherState:  "/rest/agents/1.0/131073/state",
}

type env struct {
	t   *testing.T
	srv *sandbox.Server
	url string
	c   *http.Client
}

func newEnv(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	srv, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	e := &env{t: t, srv: srv, url: ts.URL, c: ts.Client()}
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return e
}

type req struct {
	method, path, body string
	contentType        string
	user, password     string
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(r req) resp {
	e.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequest(r.method, e.url+r.path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	switch {
	case r.contentType != "":
		hr.Header.Set("Content-Type", r.contentType)
	case r.body != "":
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.user != "" {
		p := r.password
		if p == "" {
			p = pw
		}
		hr.SetBasicAuth(r.user, p)
	}
	res, err := e.c.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func expect(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
}

func decode[T any](t *testing.T, r resp) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return v
}

// restError checks an Atlassian REST error body.
func restError(t *testing.T, r resp, status int, message string) {
	t.Helper()
	expect(t, r, status)
	m := decode[map[string]any](t, r)
	if m["status-code"] != float64(status) || len(m) != 2 {
		t.Fatalf("error body %s", r.body)
	}
	if message != "" && m["message"] != message {
		t.Fatalf("message %q, want %q", m["message"], message)
	}
}

func (e *env) create(p paths, body string) map[string]any {
	e.t.Helper()
	r := e.do(req{method: "POST", path: p.tokens + "/", user: admin, body: body})
	expect(e.t, r, http.StatusOK)
	return decode[map[string]any](e.t, r)
}

func generations(t *testing.T, f func(t *testing.T, e *env, p paths)) {
	t.Run("current", func(t *testing.T) { f(t, newEnv(t, sandbox.Options{}), current) })
	t.Run("legacy", func(t *testing.T) {
		f(t, newEnv(t, sandbox.Options{Options: sim.Options{AgentLegacy: true}}), legacy)
	})
}

func TestTokenCRUD(t *testing.T) {
	generations(t, func(t *testing.T, e *env, p paths) {
		for _, path := range []string{p.tokens, p.tokens + "/"} {
			r := e.do(req{method: "GET", path: path, user: admin})
			expect(t, r, http.StatusOK)
			if strings.TrimSpace(string(r.body)) != "[]" {
				t.Fatalf("empty list %q", r.body)
			}
		}

		// A client uuid is ignored; the response mirrors the request plus the uuid.
		r := e.do(req{method: "POST", path: p.tokens + "/", user: admin, body: `{"uuid":"d0ea6653-05e2-4d51-9d89-665cdfe86be6","name":"informational name","read":true,"change":false}`})
		expect(t, r, http.StatusOK)
		first := decode[map[string]any](t, r)
		id, _ := first["uuid"].(string)
		if !uuid4Re.MatchString(id) || id == "d0ea6653-05e2-4d51-9d89-665cdfe86be6" {
			t.Fatalf("uuid %v", first["uuid"])
		}
		if want := map[string]any{"uuid": id, "name": "informational name", "read": true, "change": false}; !reflect.DeepEqual(first, want) {
			t.Fatalf("create = %v, want %v", first, want)
		}
		// Without the trailing slash, and with defaults.
		r = e.do(req{method: "POST", path: p.tokens, user: admin, body: `{"name":"defaults"}`})
		expect(t, r, http.StatusOK)
		second := decode[map[string]any](t, r)
		if second["read"] != false || second["change"] != false || second["uuid"] == id {
			t.Fatalf("second = %v", second)
		}

		list := decode[[]map[string]any](t, e.do(req{method: "GET", path: p.tokens + "/", user: admin}))
		if !reflect.DeepEqual(list, []map[string]any{first, second}) {
			t.Fatalf("list = %v", list)
		}

		// PUT with and without the uuid in the body.
		upd := map[string]any{"uuid": id, "name": "give me more power", "read": true, "change": true}
		b, _ := json.Marshal(upd)
		r = e.do(req{method: "PUT", path: p.tokens + "/" + id, user: admin, body: string(b)})
		expect(t, r, http.StatusOK)
		if got := decode[map[string]any](t, r); !reflect.DeepEqual(got, upd) {
			t.Fatalf("put = %v, want %v", got, upd)
		}
		r = e.do(req{method: "PUT", path: p.tokens + "/" + id, user: admin, body: `{"name":"neutralised","read":false,"change":false}`})
		expect(t, r, http.StatusOK)
		if got := decode[map[string]any](t, r); !reflect.DeepEqual(got, map[string]any{"uuid": id, "name": "neutralised", "read": false, "change": false}) {
			t.Fatalf("put without uuid = %v", got)
		}
		list = decode[[]map[string]any](t, e.do(req{method: "GET", path: p.tokens, user: admin}))
		if list[0]["name"] != "neutralised" || len(list) != 2 {
			t.Fatalf("list after put = %v", list)
		}

		// Body uuid different from the path: 400, nothing changed.
		r = e.do(req{method: "PUT", path: p.tokens + "/" + id, user: admin, body: `{"uuid":"` + second["uuid"].(string) + `","name":"x"}`})
		restError(t, r, http.StatusBadRequest, "")
		// Unknown uuid: 404 that does not repeat the uuid.
		unknown := sim.NewUUID()
		r = e.do(req{method: "PUT", path: p.tokens + "/" + unknown, user: admin, body: `{"name":"x"}`})
		restError(t, r, http.StatusNotFound, "")
		if strings.Contains(string(r.body), unknown) {
			t.Fatalf("404 repeats the uuid: %s", r.body)
		}
		list = decode[[]map[string]any](t, e.do(req{method: "GET", path: p.tokens, user: admin}))
		if list[0]["name"] != "neutralised" || len(list) != 2 {
			t.Fatalf("list after failed puts = %v", list)
		}

		// No delete: 405, even without credentials, and the token stays.
		for _, user := range []string{admin, ""} {
			r = e.do(req{method: "DELETE", path: p.tokens + "/" + id, user: user})
			restError(t, r, http.StatusMethodNotAllowed, "")
			if r.header.Get("Allow") != "PUT" {
				t.Fatalf("Allow %q", r.header.Get("Allow"))
			}
		}
		if n := len(decode[[]any](t, e.do(req{method: "GET", path: p.tokens, user: admin}))); n != 2 {
			t.Fatalf("%d tokens after DELETE", n)
		}
	})
}

func TestTokenBodyValidation(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	id := e.create(current, `{"name":"t"}`)["uuid"].(string)
	bad := []string{
		``, `not json`, `[]`, `null`, `"name"`, `{}`,
		`{"name":null}`, `{"name":""}`, `{"name":"  "}`, `{"name":5}`,
		`{"name":"n","read":"yes"}`, `{"name":"n","change":1}`,
		`{"name":"n","uuid":7}`, `{"name":"n","admin":true}`,
	}
	for _, method := range []string{"POST", "PUT"} {
		path := current.tokens + "/"
		if method == "PUT" {
			path = current.tokens + "/" + id
		}
		for _, body := range bad {
			r := e.do(req{method: method, path: path, user: admin, body: body, contentType: "application/json"})
			if r.status != http.StatusBadRequest {
				t.Fatalf("%s %q: status %d, want 400; %s", method, body, r.status, r.body)
			}
			restError(t, r, http.StatusBadRequest, "")
		}
		r := e.do(req{method: method, path: path, user: admin, body: `{"name":"n"}`, contentType: "text/plain"})
		restError(t, r, http.StatusUnsupportedMediaType, "")
		// null booleans mean false.
		r = e.do(req{method: method, path: path, user: admin, body: `{"name":"n","read":null,"change":null,"uuid":null}`})
		expect(t, r, http.StatusOK)
	}
	if n := len(decode[[]any](t, e.do(req{method: "GET", path: current.tokens, user: admin}))); n != 2 {
		t.Fatalf("%d tokens, want 2 (only the valid creates)", n)
	}
}

func TestAdminAuth(t *testing.T) {
	generations(t, func(t *testing.T, e *env, p paths) {
		id := e.create(p, `{"name":"t","read":true}`)["uuid"].(string)
		calls := []req{
			{method: "GET", path: p.tokens + "/"},
			{method: "GET", path: p.tokens},
			{method: "POST", path: p.tokens + "/", body: `{"name":"x"}`},
			{method: "PUT", path: p.tokens + "/" + id, body: `{"name":"x"}`},
		}
		const unauth = "Client must be authenticated to access this resource."
		for _, c := range calls {
			restError(t, e.do(c), http.StatusUnauthorized, unauth)
			c.user, c.password = admin, "wrong"
			restError(t, e.do(c), http.StatusUnauthorized, unauth)
			c.user, c.password = "nobody", ""
			restError(t, e.do(c), http.StatusUnauthorized, unauth)
			// The auditor is no Bamboo administrator: 403, reads included.
			c.user = auditor
			restError(t, e.do(c), http.StatusForbidden, "")
		}
		list := decode[[]map[string]any](t, e.do(req{method: "GET", path: p.tokens, user: admin}))
		if len(list) != 1 || list[0]["name"] != "t" {
			t.Fatalf("refused calls changed state: %v", list)
		}
	})
}

func TestGenerationsExcludeEachOther(t *testing.T) {
	generations(t, func(t *testing.T, e *env, p paths) {
		id := e.create(p, `{"name":"t","read":true,"change":true}`)["uuid"].(string)
		for _, c := range []req{
			{method: "GET", path: p.otherTokens + "/"},
			{method: "GET", path: p.otherTokens},
			{method: "POST", path: p.otherTokens + "/", body: `{"name":"x"}`},
			{method: "PUT", path: p.otherTokens + "/" + id, body: `{"name":"x"}`},
			{method: "GET", path: p.otherState + "?uuid=" + id},
			{method: "GET", path: p.tokens + "/" + id}, // no single-token GET in either
		} {
			c.user = admin
			r := e.do(c)
			restError(t, r, http.StatusNotFound, "null for uri: "+e.url+c.path[:len(c.path)-len(queryOf(c.path))])
			if strings.Contains(string(r.body), "uuid=") {
				t.Fatalf("404 repeats the query string: %s", r.body)
			}
		}
	})
}

func queryOf(path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		return path[i:]
	}
	return ""
}

func TestConsumersHonourReadAndChange(t *testing.T) {
	generations(t, func(t *testing.T, e *env, p paths) {
		ro := e.create(p, `{"name":"readOnly","read":true,"change":false}`)["uuid"].(string)
		rw := e.create(p, `{"name":"read and write","read":true,"change":true}`)["uuid"].(string)
		wo := e.create(p, `{"name":"change only","read":false,"change":true}`)["uuid"].(string)
		const agent = "131073"
		state := func(tok string) resp { return e.do(req{method: "GET", path: p.state(agent) + "?uuid=" + tok}) }

		r := state(ro)
		expect(t, r, http.StatusOK)
		want := map[string]any{"id": float64(131073), "name": "Default Agent", "enabled": true, "busy": false}
		if got := decode[map[string]any](t, r); !reflect.DeepEqual(got, want) {
			t.Fatalf("state = %v, want %v", got, want)
		}

		// Missing or unknown token: 401; lacking permission: 403.
		restError(t, e.do(req{method: "GET", path: p.state(agent)}), http.StatusUnauthorized, "")
		restError(t, state(sim.NewUUID()), http.StatusUnauthorized, "")
		restError(t, state(wo), http.StatusForbidden, "")
		for _, path := range []string{p.enable(agent), p.disable(agent)} {
			restError(t, e.do(req{method: "POST", path: path}), http.StatusUnauthorized, "")
			restError(t, e.do(req{method: "POST", path: path + "?uuid=" + sim.NewUUID()}), http.StatusUnauthorized, "")
			restError(t, e.do(req{method: "POST", path: path + "?uuid=" + ro}), http.StatusForbidden, "")
			restError(t, e.do(req{method: "POST", path: path + "?uuid=" + wo}), http.StatusForbidden, "")
			// Admin credentials are no token.
			restError(t, e.do(req{method: "POST", path: path, user: admin}), http.StatusUnauthorized, "")
		}
		if decode[map[string]any](t, state(ro))["enabled"] != true {
			t.Fatal("refused calls changed the agent")
		}

		r = e.do(req{method: "POST", path: p.disable(agent) + "?uuid=" + rw})
		expect(t, r, http.StatusOK)
		if decode[map[string]any](t, r)["enabled"] != false || decode[map[string]any](t, state(ro))["enabled"] != false {
			t.Fatal("disable did not disable")
		}
		expect(t, e.do(req{method: "POST", path: p.disable(agent) + "?uuid=" + rw}), http.StatusOK)
		r = e.do(req{method: "POST", path: p.enable(agent) + "?uuid=" + rw})
		expect(t, r, http.StatusOK)
		if decode[map[string]any](t, state(ro))["enabled"] != true {
			t.Fatal("enable did not enable")
		}

		// Unknown agents, after a valid token.
		restError(t, e.do(req{method: "GET", path: p.state("7") + "?uuid=" + ro}), http.StatusNotFound, "")
		restError(t, e.do(req{method: "GET", path: p.state("abc") + "?uuid=" + ro}), http.StatusNotFound, "")

		// Neutralising a token with PUT takes its powers away.
		expect(t, e.do(req{method: "PUT", path: p.tokens + "/" + rw, user: admin, body: `{"name":"revoked","read":false,"change":false}`}), http.StatusOK)
		restError(t, e.do(req{method: "POST", path: p.disable(agent) + "?uuid=" + rw}), http.StatusForbidden, "")
		restError(t, state(rw), http.StatusForbidden, "")
	})
}

func TestStateRoundTrip(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "state.json")
	opts := sandbox.Options{StatePath: statePath}
	srv, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	e := &env{t: t, srv: srv, url: ts.URL, c: ts.Client()}
	a := e.create(current, `{"name":"a","read":true,"change":true}`)
	b := e.create(current, `{"name":"b","read":true}`)
	expect(t, e.do(req{method: "POST", path: current.disable("131073") + "?uuid=" + a["uuid"].(string)}), http.StatusOK)
	ts.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"agent":`) {
		t.Fatalf("no agent section in %s", raw)
	}

	e = newEnv(t, opts)
	list := decode[[]map[string]any](t, e.do(req{method: "GET", path: current.tokens, user: admin}))
	if !reflect.DeepEqual(list, []map[string]any{a, b}) {
		t.Fatalf("list after restart = %v, want %v", list, []map[string]any{a, b})
	}
	r := e.do(req{method: "GET", path: current.state("131073") + "?uuid=" + b["uuid"].(string)})
	expect(t, r, http.StatusOK)
	if decode[map[string]any](t, r)["enabled"] != false {
		t.Fatalf("agent state not restored: %s", r.body)
	}
}

func TestLoadStateWithoutAgentsKeepsDefaultAgent(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(statePath, []byte(`{"version":1,"vendors":{"agent":{"tokens":[{"uuid":"u1","name":"n","read":true,"change":false}]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sandbox.Options{StatePath: statePath})
	expect(t, e.do(req{method: "GET", path: current.state("131073") + "?uuid=u1"}), http.StatusOK)
}
