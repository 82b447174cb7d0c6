// Package sandbox runs the emulators of the four vendor APIs on one loopback
// listener, with state persisted to a file. It serves `tokenctl sandbox serve`,
// the built-in `sandbox` profile, and the tests.
package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenctl/tokenctl/internal/fsutil"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

// Options configure a Server.
type Options struct {
	sim.Options
	// StatePath is the state file; "" keeps state in memory only.
	StatePath string
	// WaitForLock waits this long for another process to release the state
	// file; 0 fails at once (sandbox serve). The built-in profile waits, so
	// that parallel invocations take turns.
	WaitForLock time.Duration
	// TLS serves HTTPS with a generated self-signed certificate.
	TLS bool
	// Log receives one line per request (method, route, status); nil: none.
	Log io.Writer
	// Faults injects failures and latency.
	Faults Faults
	// OnRequest, when set, is called with every vendor-API request (not the
	// /_sandbox/ control routes) before it is served or failed. Tests only:
	// the record carries the body, secrets included.
	OnRequest func(RequestRecord)
	// BodyTimeout bounds the arrival of one request's body; default
	// DefaultBodyTimeout. A slower body gets 408 and its connection closes.
	BodyTimeout time.Duration
}

// DefaultBodyTimeout is how long a request body may take to arrive.
const DefaultBodyTimeout = 10 * time.Second

// Server is a running sandbox.
type Server struct {
	opts     Options
	env      *sim.Env
	vendors  []sim.Vendor
	mux      *http.ServeMux
	handler  http.Handler
	faults   *faultInjector
	lock     *fsutil.Lock
	requests atomic.Int64

	saveMu  sync.Mutex // serialises writes of the state file
	dirty   atomic.Bool
	kick    chan struct{}
	stopped chan struct{}
	done    chan struct{}

	ln      net.Listener
	httpSrv *http.Server
	url     string
	cert    *tls.Certificate
}

// stateFile is the on-disk format: one JSON object per vendor, keyed by name.
type stateFile struct {
	Version     int                        `json:"version"`
	ClockOffset time.Duration              `json:"clock_offset_ns,omitempty"`
	Vendors     map[string]json.RawMessage `json:"vendors"`
}

const stateVersion = 1

// New creates a sandbox, takes the state file's lock and loads its state.
func New(opts Options) (*Server, error) {
	if opts.LCMStep < 0 {
		return nil, fmt.Errorf("lifecycle step %v must not be negative", opts.LCMStep)
	}
	faults, err := ssp.CheckLCMFaults(opts.LCMFaults)
	if err != nil {
		return nil, fmt.Errorf("lifecycle faults: %w", err)
	}
	opts.LCMFaults = faults
	env := sim.NewEnv(opts.Options)
	s := &Server{
		opts:    opts,
		env:     env,
		mux:     http.NewServeMux(),
		kick:    make(chan struct{}, 1),
		stopped: make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.vendors = vendors(env)
	registerControl(s)
	for _, v := range s.vendors {
		v.Register(s.mux)
	}
	var h http.Handler = s.mux
	if opts.Faults.Rate > 0 || opts.Faults.Latency > 0 || opts.OnRequest != nil {
		s.faults = newFaultInjector(opts.Faults, opts.OnRequest, s.mux)
		h = s.faults
	}
	s.handler = s.count(s.readBodies(h))
	if opts.StatePath != "" {
		var err error
		if opts.WaitForLock > 0 {
			s.lock, err = fsutil.LockFile(opts.StatePath, opts.WaitForLock)
		} else {
			s.lock, err = fsutil.TryLockFile(opts.StatePath)
		}
		if err != nil {
			if errors.Is(err, fsutil.ErrLocked) {
				return nil, fmt.Errorf("sandbox state %s is in use by another tokenctl process; stop it or pass a different --state", opts.StatePath)
			}
			return nil, err
		}
		if err := s.load(); err != nil {
			s.lock.Unlock()
			return nil, err
		}
		if _, err := os.Stat(opts.StatePath); errors.Is(err, os.ErrNotExist) {
			s.dirty.Store(true) // create the file now, so it exists while serving
		}
	}
	env.OnChange(func() {
		s.dirty.Store(true)
		select {
		case s.kick <- struct{}{}:
		default:
		}
	})
	if err := s.flush(); err != nil {
		s.lock.Unlock()
		return nil, err
	}
	go s.saver()
	return s, nil
}

// Env exposes the shared environment (tests advance the clock through it).
func (s *Server) Env() *sim.Env { return s.env }

// Handler is the sandbox's HTTP handler (for httptest servers).
func (s *Server) Handler() http.Handler { return s.handler }

// FaultCounts is how many faults of each kind were injected.
func (s *Server) FaultCounts() map[string]int {
	if s.faults == nil {
		return map[string]int{}
	}
	return s.faults.Counts()
}

// Requests is the number of requests served so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		// Date tells the time by the sandbox clock, which tests move
		// forward: clients that compare expiry timestamps with the
		// server's time (apply's min_lifetime) see the clock the tokens
		// expire by.
		s.env.Lock()
		now := s.env.Now()
		s.env.Unlock()
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
		if s.opts.Log == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r)
		// The pattern, not the raw path: paths can carry secrets (NSX tokens,
		// agent uuids).
		_, pattern := s.mux.Handler(r)
		if pattern == "" {
			pattern = r.Method + " (no route)"
		}
		fmt.Fprintf(s.opts.Log, "%s -> %d (%s)\n", pattern, rec.status, time.Since(start).Round(time.Millisecond))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Hijack lets injected connection resets through the request log.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("connection cannot be hijacked")
	}
	r.status = 0
	return hj.Hijack()
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Start listens on addr (loopback only) and serves in the background.
// It returns the base URL.
func (s *Server) Start(addr string) (string, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	scheme := "http"
	if s.opts.TLS {
		cert, err := generateCert()
		if err != nil {
			ln.Close()
			return "", err
		}
		s.cert = cert
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12, ClientAuth: tls.RequestClientCert})
		scheme = "https"
	}
	s.ln = ln
	s.url = scheme + "://" + ln.Addr().String()
	s.env.SetBaseURL(s.url)
	s.httpSrv = &http.Server{Handler: loopbackHosts(s.handler), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go s.httpSrv.Serve(ln)
	return s.url, nil
}

// URL is the base URL after Start.
func (s *Server) URL() string { return s.url }

// Certificate is the generated TLS certificate (nil without TLS).
func (s *Server) Certificate() *tls.Certificate { return s.cert }

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--listen %q: the sandbox listens on loopback only (127.0.0.1, ::1 or localhost)", addr)
	}
	return nil
}

// Close stops serving, writes the state a last time and releases the lock.
func (s *Server) Close() error {
	var errs []error
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, s.httpSrv.Shutdown(ctx))
		cancel()
	}
	close(s.stopped)
	<-s.done
	errs = append(errs, s.flush())
	errs = append(errs, s.lock.Unlock())
	return errors.Join(errs...)
}

// saver writes the state file at most every 50ms while changes arrive, so a
// burst of creates costs a few writes, not one each.
func (s *Server) saver() {
	defer close(s.done)
	for {
		select {
		case <-s.stopped:
			return
		case <-s.kick:
			_ = s.flush()
			select {
			case <-s.stopped:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// Flush writes the state now if it changed.
func (s *Server) flush() error {
	if s.opts.StatePath == "" || !s.dirty.Swap(false) {
		return nil
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	st := stateFile{Version: stateVersion, Vendors: map[string]json.RawMessage{}}
	s.env.Lock()
	st.ClockOffset = s.env.ClockOffset()
	for _, v := range s.vendors {
		raw, err := v.SaveState()
		if err != nil {
			s.env.Unlock()
			return fmt.Errorf("saving %s state: %w", v.Name(), err)
		}
		st.Vendors[v.Name()] = raw
	}
	s.env.Unlock()
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(s.opts.StatePath, data, 0o600)
}

func (s *Server) load() error {
	data, err := os.ReadFile(s.opts.StatePath)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(data) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return fmt.Errorf("sandbox state %s is not valid JSON (%v); move it aside to start fresh", s.opts.StatePath, err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("sandbox state %s has version %d, this tokenctl reads %d; move it aside to start fresh", s.opts.StatePath, st.Version, stateVersion)
	}
	s.env.SetClockOffset(st.ClockOffset)
	for _, v := range s.vendors {
		if raw, ok := st.Vendors[v.Name()]; ok {
			if err := v.LoadState(raw); err != nil {
				return fmt.Errorf("sandbox state %s, %s section: %w", s.opts.StatePath, v.Name(), err)
			}
		}
	}
	return nil
}

// readBodies reads every request body before any handler runs, within
// BodyTimeout. Handlers hold the lock every emulator shares while they
// work; one that read a slow client's body under it would stall every
// other client. A body that does not arrive in time is 408 and closes the
// connection. Bodies beyond sim.MaxBody are cut there, as the handlers'
// own reads always did.
func (s *Server) readBodies(next http.Handler) http.Handler {
	timeout := s.opts.BodyTimeout
	if timeout <= 0 {
		timeout = DefaultBodyTimeout
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Now().Add(timeout)) // unsupported on a test recorder
		body, err := io.ReadAll(io.LimitReader(r.Body, sim.MaxBody))
		_ = rc.SetReadDeadline(time.Time{})
		if err != nil {
			w.Header().Set("Connection", "close")
			sim.WriteJSON(w, http.StatusRequestTimeout, map[string]string{"error": fmt.Sprintf("the request body did not arrive within %s", timeout)})
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// loopbackHosts refuses requests whose Host header names anything but a
// loopback address or localhost. The sandbox listens on loopback only, but
// a web page could still reach it through DNS rebinding (a name that
// resolves to 127.0.0.1) and use its fixed, public credentials; such a
// request carries the attacker's host name.
func loopbackHosts(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isLoopbackHost(r.Host) {
			sim.WriteJSON(w, http.StatusMisdirectedRequest, map[string]string{"error": "the sandbox answers only requests for a loopback host (127.0.0.1, ::1 or localhost)"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
