package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFaultsAreReproducibleAndShaped(t *testing.T) {
	draws := func() []string {
		fi := newFaultInjector(Faults{Rate: 0.5, Seed: 42}, http.NotFoundHandler())
		var out []string
		for i := 0; i < 200; i++ {
			out = append(out, fi.draw())
		}
		return out
	}
	a, b := draws(), draws()
	faults := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d differs between runs with the same seed", i)
		}
		if a[i] != "" {
			faults++
		}
	}
	if faults < 70 || faults > 130 {
		t.Fatalf("%d faults in 200 draws at rate 0.5", faults)
	}
}

func TestInjectedStatusesCarryVendorBodies(t *testing.T) {
	acted := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { acted++; io.WriteString(w, "{}") })
	cases := map[string]string{
		"/sensors/registration-tokens":   `"error_code":429`,
		"/api/v1/aaa/registration-token": `"module_name":"common-services"`,
		"/sdwan/v2.1/api/profile":        `"_error":[{"code":"TOO_MANY_REQUESTS"`,
		"/rest/agent-config/1.0/tokens/": `"status-code":429`,
	}
	for path, want := range cases {
		fi := newFaultInjector(Faults{Rate: 1, Kinds: []string{Fault429}, RetryAfter: 0}, next)
		rec := httptest.NewRecorder()
		fi.ServeHTTP(rec, httptest.NewRequest("POST", path, nil))
		if rec.Code != 429 || rec.Header().Get("Retry-After") != "0" || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("%s: %d %v %s", path, rec.Code, rec.Header(), rec.Body)
		}
	}
	if acted != 0 {
		t.Fatalf("an injected 429 reached the handler %d times", acted)
	}
}

func TestResetAfterActs(t *testing.T) {
	acted := 0
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { acted++; io.WriteString(w, "{}") })
	for _, kind := range []string{FaultResetBefore, FaultResetAfter} {
		acted = 0
		srv := httptest.NewServer(newFaultInjector(Faults{Rate: 1, Kinds: []string{kind}}, next))
		_, err := http.Post(srv.URL+"/sensors/registration-tokens", "application/json", strings.NewReader("{}"))
		srv.Close()
		if err == nil {
			t.Fatalf("%s: the client got an answer", kind)
		}
		if want := map[string]int{FaultResetBefore: 0, FaultResetAfter: 1}[kind]; acted != want {
			t.Fatalf("%s: handler ran %d times, want %d", kind, acted, want)
		}
	}
}

func TestLatencyAndControlRoutesExempt(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "{}") })
	fi := newFaultInjector(Faults{Rate: 1, Latency: 30 * time.Millisecond}, next)
	rec := httptest.NewRecorder()
	fi.ServeHTTP(rec, httptest.NewRequest("GET", "/_sandbox/info", nil))
	if rec.Code != 200 {
		t.Fatalf("control route failed: %d", rec.Code)
	}
	if _, err := ParseFaultKinds("429,teapot"); err == nil {
		t.Fatal("unknown kind accepted")
	}
}
