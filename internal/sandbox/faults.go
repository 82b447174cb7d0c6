package sandbox

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// Fault kinds the sandbox can inject.
const (
	Fault429         = "429"
	Fault502         = "502"
	Fault503         = "503"
	Fault504         = "504"
	FaultResetBefore = "reset-before" // connection closed before the request is acted on
	FaultResetAfter  = "reset-after"  // the request is acted on, then the connection closes unanswered
)

// AllFaults lists every kind, the default set.
var AllFaults = []string{Fault429, Fault502, Fault503, Fault504, FaultResetBefore, FaultResetAfter}

// Faults configure failure injection, the way busy or flaky managers fail.
type Faults struct {
	// Rate is the probability (0..1) that a request fails.
	Rate float64
	// Kinds are drawn uniformly; empty means AllFaults.
	Kinds []string
	// RetryAfter is sent with 429 (and 503) answers; negative sends none.
	RetryAfter time.Duration
	// Latency delays every answer.
	Latency time.Duration
	// Seed makes the sequence of decisions reproducible.
	Seed int64
}

// ParseFaultKinds checks a comma-separated list of kinds.
func ParseFaultKinds(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var kinds []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		ok := false
		for _, a := range AllFaults {
			ok = ok || a == k
		}
		if !ok {
			return nil, fmt.Errorf("fault kind %q: must be one of %s", k, strings.Join(AllFaults, ", "))
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

// RequestRecord is one vendor-API request as the sandbox received it, with
// the fault injected into it. Tests use it to prove what a client sent, e.g.
// that a create was never sent again after a failure that may have carried
// it out.
type RequestRecord struct {
	Method string
	Path   string
	Query  string
	// Body is the request body (up to sim.MaxBody). It can hold secrets:
	// the hook exists for tests, and the sandbox itself never logs it.
	Body []byte
	// Fault is the injected fault kind; "" when the request was served
	// normally. FaultResetAfter requests were acted on.
	Fault string
	// Time is when the request had arrived (its body read): tests bound a
	// client's request rate with it (--rps).
	Time time.Time
}

type faultInjector struct {
	f         Faults
	onRequest func(RequestRecord)
	mu        sync.Mutex
	rng       *rand.Rand
	next      http.Handler

	// counts of injected faults by kind, for tests and the serve log.
	counts map[string]int
}

func newFaultInjector(f Faults, onRequest func(RequestRecord), next http.Handler) *faultInjector {
	if len(f.Kinds) == 0 {
		f.Kinds = AllFaults
	}
	seed := uint64(f.Seed)
	return &faultInjector{f: f, onRequest: onRequest, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), next: next, counts: map[string]int{}}
}

// draw decides one request's fate: "" or a fault kind.
func (fi *faultInjector) draw() string {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	if fi.f.Rate <= 0 || fi.rng.Float64() >= fi.f.Rate {
		return ""
	}
	k := fi.f.Kinds[fi.rng.IntN(len(fi.f.Kinds))]
	fi.counts[k]++
	return k
}

// Counts returns how many faults of each kind were injected.
func (fi *faultInjector) Counts() map[string]int {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	out := make(map[string]int, len(fi.counts))
	for k, v := range fi.counts {
		out[k] = v
	}
	return out
}

func (fi *faultInjector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
		fi.next.ServeHTTP(w, r) // control routes never fail
		return
	}
	if fi.f.Latency > 0 {
		select {
		case <-time.After(fi.f.Latency):
		case <-r.Context().Done():
			return
		}
	}
	kind := fi.draw()
	if fi.onRequest != nil {
		fi.record(r, kind)
	}
	switch kind {
	case "":
		fi.next.ServeHTTP(w, r)
	case FaultResetBefore:
		resetConnection(w)
	case FaultResetAfter:
		// Act on the request, then drop the answer on the floor.
		rec := &discardWriter{header: http.Header{}}
		fi.next.ServeHTTP(rec, r)
		resetConnection(w)
	default:
		status, _ := strconv.Atoi(kind)
		if fi.f.RetryAfter >= 0 && (status == 429 || status == 503) {
			w.Header().Set("Retry-After", strconv.Itoa(int(fi.f.RetryAfter/time.Second)))
		}
		writeFault(w, r, status)
	}
}

// record hands the request to the OnRequest hook, leaving its body readable
// for the handler.
func (fi *faultInjector) record(r *http.Request, kind string) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, sim.MaxBody))
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	fi.onRequest(RequestRecord{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body, Fault: kind, Time: time.Now()})
}

// resetConnection closes the client's connection without an answer.
func resetConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST, as a crashing proxy would
	}
	conn.Close()
}

// writeFault answers with the vendor's own error shape for the path.
func writeFault(w http.ResponseWriter, r *http.Request, status int) {
	msg := http.StatusText(status)
	if status == 429 {
		msg = "Too many requests: the sandbox is injecting rate limits (--faults)"
	} else {
		msg += ": injected by the sandbox (--faults)"
	}
	var body string
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/sdwan/") || strings.HasPrefix(p, "/v2."):
		body = fmt.Sprintf(`{"_error":[{"code":"%s","message":%q}]}`, faultCode(status), msg)
	case strings.HasPrefix(p, "/rest/"):
		body = fmt.Sprintf(`{"message":%q,"status-code":%d}`, msg, status)
	case strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/policy/"):
		body = fmt.Sprintf(`{"module_name":"common-services","error_message":%q,"error_code":%d}`, msg, status)
	case strings.HasPrefix(p, "/baremetal/"):
		body = fmt.Sprintf(`{"error_code":%d,"module_name":"baremetal-security","error_message":%q}`, status, msg)
	default:
		body = fmt.Sprintf(`{"error_code":%d,"module_name":"sensor","error_message":%q}`, status, msg)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func faultCode(status int) string {
	switch status {
	case 429:
		return "TOO_MANY_REQUESTS"
	case 502:
		return "BAD_GATEWAY"
	case 503:
		return "SERVICE_UNAVAILABLE"
	default:
		return "GATEWAY_TIMEOUT"
	}
}

// discardWriter lets a handler run to completion without a client.
type discardWriter struct {
	header http.Header
	buf    bytes.Buffer
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(b []byte) (int, error) { return d.buf.Write(b) }
func (d *discardWriter) WriteHeader(int)             {}
