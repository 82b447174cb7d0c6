// Package sim is the shared kit of the sandbox emulators: the clock, the
// users, the lock that guards every vendor's state, and small HTTP helpers.
// Each vendor API lives in its own package beside this one and implements
// Vendor; package sandbox assembles them on one listener.
package sim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// Fixed sandbox credentials, documented in README.md and printed by
// `tokenctl sandbox serve`.
const (
	AdminUser       = "admin"
	AuditorUser     = "auditor"
	DefaultPassword = "tokenctl-sandbox"
)

// User is one account the emulators accept.
type User struct {
	Name     string
	Password string
	// ReadOnly users get 403 on every write.
	ReadOnly bool
}

// Options configure an Env.
type Options struct {
	// Password replaces DefaultPassword for both users.
	Password string
	// Seed makes generated data (seeded sensors, faults) reproducible.
	Seed int64
	// SeedSensors is the number of generated SSP sensors.
	SeedSensors int
	// AgentLegacy serves only the pre-1.5 agent-config paths.
	AgentLegacy bool
	// NSXSessionIdle is the idle timeout of NSX sessions; 0 means 1800s, as
	// on a default manager.
	NSXSessionIdle time.Duration
	// NSXNoBodyCalls emulates a pre-4.x NSX manager: the POST
	// .../registration-token/retrieve and .../delete routes answer 404.
	NSXNoBodyCalls bool
	// LCMStep is how long each step of an SSP lifecycle operation lasts on
	// the sandbox clock (a baremetal install, upgrade or uninstall, a sensor
	// registration): ACCEPTED for one step, RUNNING for the next, then done.
	// 0 means DefaultLCMStep.
	LCMStep time.Duration
	// LCMFaults make SSP lifecycle operations fail.
	LCMFaults LCMFaults
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// DefaultLCMStep is the length of one lifecycle step when Options.LCMStep is 0.
const DefaultLCMStep = 2 * time.Second

// LCMFaults make lifecycle operations (installs at registration, upgrades,
// uninstalls, sensor registrations) fail, reproducibly.
type LCMFaults struct {
	// FailRate is the fraction (0..1) of operations that fail, drawn from
	// Options.Seed and the host's name, so a run is reproducible.
	FailRate float64 `json:"fail_rate"`
	// FailHosts is a regular expression: operations on hosts whose name
	// (display_name) matches it fail.
	FailHosts string `json:"fail_hosts"`
	// TaskOutcome forces how new baremetal tasks end: "" (as their servers
	// do), TIMEDOUT, ABORTED or FAILED (every server fails).
	TaskOutcome string `json:"task_outcome"`
}

// Env is shared by every vendor emulator of one sandbox.
type Env struct {
	mu      sync.Mutex
	opts    Options
	users   map[string]User
	offset  time.Duration
	changed func()
	baseURL string
}

// NewEnv returns an Env with the admin and auditor users.
func NewEnv(opts Options) *Env {
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Env{
		opts: opts,
		users: map[string]User{
			AdminUser:   {Name: AdminUser, Password: opts.Password},
			AuditorUser: {Name: AuditorUser, Password: opts.Password, ReadOnly: true},
		},
		changed: func() {},
	}
}

// Options returns the options the Env was made with.
func (e *Env) Options() Options { return e.opts }

// Lock guards all vendor state; handlers hold it while they read or write.
func (e *Env) Lock() { e.mu.Lock() }

// Unlock releases Lock.
func (e *Env) Unlock() { e.mu.Unlock() }

// OnChange sets the function Changed calls (the state saver).
func (e *Env) OnChange(f func()) { e.changed = f }

// Changed tells the saver that state was modified. Call it with the lock held,
// after the mutation.
func (e *Env) Changed() { e.changed() }

// Now is the sandbox clock: the real time plus any advance.
func (e *Env) Now() time.Time { return e.opts.Now().Add(e.offset) }

// NowMs is Now in epoch milliseconds, the vendors' timestamp unit.
func (e *Env) NowMs() int64 { return e.Now().UnixMilli() }

// Advance moves the sandbox clock forward (lock held).
func (e *Env) Advance(d time.Duration) { e.offset += d }

// ClockOffset is the total advance, persisted with the state (lock held).
func (e *Env) ClockOffset() time.Duration { return e.offset }

// SetClockOffset restores a persisted advance (lock held).
func (e *Env) SetClockOffset(d time.Duration) { e.offset = d }

// SetBaseURL records the URL the sandbox listens on, for bodies that name it.
func (e *Env) SetBaseURL(u string) { e.baseURL = u }

// BaseURL is the sandbox's own URL ("" before it listens).
func (e *Env) BaseURL() string { return e.baseURL }

// Authenticate checks a user name and password.
func (e *Env) Authenticate(name, password string) (User, bool) {
	u, ok := e.users[name]
	if !ok || u.Password != password {
		return User{}, false
	}
	return u, true
}

// BasicAuth checks the request's HTTP Basic credentials.
func (e *Env) BasicAuth(r *http.Request) (User, bool) {
	name, password, ok := r.BasicAuth()
	if !ok {
		return User{}, false
	}
	return e.Authenticate(name, password)
}

// Vendor is one emulated API.
type Vendor interface {
	// Name is the vendor's key in the state file: ssp, nsx, sdwan, agent.
	Name() string
	// Register adds the vendor's routes (Go 1.22 method patterns).
	Register(mux *http.ServeMux)
	// SaveState returns the vendor's state as JSON; called with the Env lock held.
	SaveState() (json.RawMessage, error)
	// LoadState restores SaveState's output; called before serving.
	LoadState(json.RawMessage) error
}

// NewUUID returns a random RFC 4122 version 4 UUID.
func NewUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// RandomString returns n random bytes, URL-safe base64 encoded.
func RandomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// WriteJSON writes v as the JSON body with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v == nil {
		return
	}
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// MaxBody bounds request bodies the emulators read.
const MaxBody = 1 << 20

// ReadBody reads a request body up to MaxBody.
func ReadBody(r *http.Request) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r.Body, MaxBody))
}
