package ssp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

// testNow is the sandbox clock's start in tests.
var testNow = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

type harness struct {
	t    testing.TB
	srv  *sandbox.Server
	ts   *httptest.Server
	path string
	// closed is set by close, so the cleanup does not close twice.
	closed bool
}

// close stops the server and writes the state a last time.
func (h *harness) close() {
	h.t.Helper()
	if h.closed {
		return
	}
	h.closed = true
	h.ts.Close()
	if err := h.srv.Close(); err != nil {
		h.t.Fatal(err)
	}
}

func newHarness(t testing.TB, opts sim.Options) *harness {
	t.Helper()
	return newHarnessState(t, opts, "")
}

func newHarnessState(t testing.TB, opts sim.Options, statePath string) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	srv, err := sandbox.New(sandbox.Options{Options: opts, StatePath: statePath})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	h := &harness{t: t, srv: srv, ts: ts, path: statePath}
	t.Cleanup(h.close)
	return h
}

// advance moves the sandbox clock.
func (h *harness) advance(d time.Duration) {
	env := h.srv.Env()
	env.Lock()
	env.Advance(d)
	env.Unlock()
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// do sends a request as user ("" sends no credentials). body may be nil, a
// string (sent as is) or a value to marshal.
func (h *harness) do(method, path string, body any, user string) resp {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, sim.DefaultPassword)
	}
	res, err := h.ts.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, data}
}

// expect checks the status and returns the response.
func (h *harness) expect(want int, method, path string, body any, user string) resp {
	h.t.Helper()
	r := h.do(method, path, body, user)
	if r.status != want {
		h.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, want, r.body)
	}
	return r
}

// expectError checks an SSP Error body: the status, error_code, module and
// that the message mentions every fragment.
func (h *harness) expectError(want int, module, method, path string, body any, user string, fragments ...string) map[string]any {
	h.t.Helper()
	r := h.expect(want, method, path, body, user)
	m := r.json(h.t)
	if code, _ := m["error_code"].(float64); int(code) != want {
		h.t.Errorf("%s %s: error_code %v, want %d", method, path, m["error_code"], want)
	}
	if m["module_name"] != module {
		h.t.Errorf("%s %s: module_name %v, want %s", method, path, m["module_name"], module)
	}
	msg, _ := m["error_message"].(string)
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			h.t.Errorf("%s %s: error_message %q does not mention %q", method, path, msg, f)
		}
	}
	return m
}

const (
	admin    = sim.AdminUser
	auditor  = sim.AuditorUser
	engineer = ssp.EngineerUser
)

// goodPassphrase satisfies the vendor's rule.
const goodPassphrase = "Sandbox-Passphrase-42"

func (h *harness) createSensorToken(name string, allowed int) map[string]any {
	h.t.Helper()
	body := map[string]any{"display_name": name, "passphrase": goodPassphrase, "description": "Token for ndr sensor"}
	if allowed > 0 {
		body["allowed_instance_count"] = allowed
	}
	return h.expect(http.StatusOK, "POST", "/sensors/registration-tokens", body, admin).json(h.t)
}

func (h *harness) createBaremetalToken(name string, allowed int) map[string]any {
	h.t.Helper()
	body := map[string]any{"display_name": name, "passphrase": goodPassphrase}
	if allowed > 0 {
		body["allowed_instance_count"] = allowed
	}
	return h.expect(http.StatusCreated, "POST", "/baremetal/registration-tokens", body, admin).json(h.t)
}

// register simulates an installer registering with the token.
func (h *harness) register(tokenID string) map[string]any {
	h.t.Helper()
	return h.expect(http.StatusOK, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": tokenID, "passphrase": goodPassphrase}, "").json(h.t)
}

// list decodes a list response.
type listBody struct {
	Offset           int               `json:"offset"`
	NumberOfResults  int               `json:"number_of_results"`
	TotalResultCount *int              `json:"total_result_count"`
	TotalPages       int               `json:"total_pages"`
	SortAscending    *bool             `json:"sort_ascending"`
	SortBy           string            `json:"sort_by"`
	Results          []json.RawMessage `json:"results"`
}

func (h *harness) list(path string, user string) listBody {
	h.t.Helper()
	r := h.expect(http.StatusOK, "GET", path, nil, user)
	var l listBody
	if err := json.Unmarshal(r.body, &l); err != nil {
		h.t.Fatalf("GET %s: %v\n%s", path, err, r.body)
	}
	if l.NumberOfResults != len(l.Results) {
		h.t.Fatalf("GET %s: number_of_results %d but %d results", path, l.NumberOfResults, len(l.Results))
	}
	if l.Offset != -1 {
		h.t.Fatalf("GET %s: offset %d, the emulator echoes -1", path, l.Offset)
	}
	return l
}

// field decodes one field of each result.
func field[T any](t testing.TB, l listBody, path ...string) []T {
	t.Helper()
	out := make([]T, 0, len(l.Results))
	for _, raw := range l.Results {
		var m any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		for _, p := range path {
			m = m.(map[string]any)[p]
		}
		data, _ := json.Marshal(m)
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("field %v: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

// registerHost simulates a baremetal (or sensor) host registering with the
// token under its hostname, as vdefend-cli does.
func (h *harness) registerHost(tokenID, hostname string) map[string]any {
	h.t.Helper()
	return h.expect(http.StatusOK, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": tokenID, "passphrase": goodPassphrase, "hostname": hostname}, "").json(h.t)
}

// setFaults replaces the lifecycle fault setting through its control route.
func (h *harness) setFaults(body map[string]any) map[string]any {
	h.t.Helper()
	return h.expect(http.StatusOK, "POST", "/_sandbox/ssp/faults", body, "").json(h.t)
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// jsonString is v as compact JSON with sorted keys, for comparisons.
func jsonString(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
