package nsx

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// DefaultSessionIdle is the idle timeout of a session when
// Options.NSXSessionIdle is 0: `get service http` shows "Session timeout:
// 1800" on a default manager.
const DefaultSessionIdle = 1800 * time.Second

// Roles the emulated users hold. enterprise_admin and auditor are NSX's own
// role names; a principal identity gets enterprise_admin.
const (
	roleEnterpriseAdmin = "enterprise_admin"
	roleAuditor         = "auditor"
)

// caller is the authenticated principal of a request.
type caller struct {
	name     string
	roles    []string
	readOnly bool
	// sessionID is set when a session cookie authenticated the call, so
	// that /api/session/destroy knows what to end.
	sessionID string
}

func callerFor(u sim.User) caller {
	if u.ReadOnly {
		return caller{name: u.Name, roles: []string{roleAuditor}, readOnly: true}
	}
	return caller{name: u.Name, roles: []string{roleEnterpriseAdmin}}
}

// session is one cookie session. Sessions live in memory only.
type session struct {
	user     sim.User
	xsrf     string
	lastUsed time.Time
}

// authFailed is the body NSX sends for bad credentials (nsx.md): a 403, not a
// 401. The sandbox sends the same body for every authentication failure
// (missing credentials, unknown or expired session, missing or wrong
// X-XSRF-TOKEN, unregistered certificate) and says which in details, which
// the vendor schema allows.
func authFailed(details string) *reply {
	return &reply{status: http.StatusForbidden, body: ApiError{
		ModuleName:   moduleCommon,
		ErrorMessage: "The credentials were incorrect or the account specified has been locked.",
		ErrorCode:    http.StatusForbidden,
		Details:      details,
	}}
}

// authenticate identifies the caller (Env lock held). Explicit credentials
// win: an Authorization header is checked as HTTP Basic; otherwise a
// JSESSIONID cookie must name a live session and come with its
// X-XSRF-TOKEN; otherwise a TLS client certificate whose SHA-256 is
// registered authenticates as that principal identity. None of them: 403.
func (v *Vendor) authenticate(r *http.Request) (caller, *reply) {
	if r.Header.Get("Authorization") != "" {
		u, ok := v.env.BasicAuth(r)
		if !ok {
			return caller{}, authFailed("")
		}
		return callerFor(u), nil
	}
	if ck, err := r.Cookie("JSESSIONID"); err == nil {
		return v.sessionCaller(ck.Value, r.Header.Get("X-XSRF-TOKEN"))
	}
	if fp, ok := peerFingerprint(r); ok {
		if name, ok := v.identities[fp]; ok {
			return caller{name: name, roles: []string{roleEnterpriseAdmin}}, nil
		}
		return caller{}, authFailed("The client certificate is not registered as a principal identity.")
	}
	return caller{}, authFailed("No credentials were sent.")
}

func (v *Vendor) idleTimeout() time.Duration {
	if d := v.env.Options().NSXSessionIdle; d > 0 {
		return d
	}
	return DefaultSessionIdle
}

// sessionCaller checks a session cookie and its XSRF header. A session idle
// for the timeout or longer is gone; a successful call restarts the timer.
func (v *Vendor) sessionCaller(id, xsrf string) (caller, *reply) {
	s, ok := v.sessions[id]
	now := v.env.Now()
	if ok && now.Sub(s.lastUsed) >= v.idleTimeout() {
		delete(v.sessions, id)
		ok = false
	}
	if !ok {
		return caller{}, authFailed("The session is unknown, destroyed or expired; create a new one.")
	}
	if xsrf == "" || subtle.ConstantTimeCompare([]byte(xsrf), []byte(s.xsrf)) != 1 {
		return caller{}, authFailed("The X-XSRF-TOKEN header is missing or does not match the session.")
	}
	s.lastUsed = now
	c := callerFor(s.user)
	c.sessionID = id
	return c, nil
}

// createSession is POST /api/session/create: form fields j_username and
// j_password. Success is 200 with no body, the JSESSIONID cookie and the
// X-XSRF-TOKEN header, both needed on every later call.
//
// The cookie carries Secure only when the request came over TLS, as a
// Tomcat-style container does: a real manager always serves HTTPS, and over
// the sandbox's plain HTTP a Secure cookie would never be sent back by a
// cookie jar.
func (v *Vendor) createSession(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, sim.MaxBody)
	_ = r.ParseForm()
	name, password := r.PostForm.Get("j_username"), r.PostForm.Get("j_password")

	v.env.Lock()
	u, ok := v.env.Authenticate(name, password)
	var id, xsrf string
	if ok {
		v.sweepSessions()
		id = newSessionID()
		xsrf = sim.NewUUID()
		v.sessions[id] = &session{user: u, xsrf: xsrf, lastUsed: v.env.Now()}
	}
	v.env.Unlock()

	if !ok {
		authFailed("").write(w)
		return
	}
	attrs := "; Path=/; Secure; HttpOnly; SameSite=Lax"
	if r.TLS == nil {
		attrs = "; Path=/; HttpOnly; SameSite=Lax"
	}
	w.Header().Set("Set-Cookie", "JSESSIONID="+id+attrs)
	w.Header().Set("X-XSRF-TOKEN", xsrf)
	w.WriteHeader(http.StatusOK)
}

// sweepSessions drops expired sessions so that abandoned ones do not pile up
// (Env lock held).
func (v *Vendor) sweepSessions() {
	now, idle := v.env.Now(), v.idleTimeout()
	for id, s := range v.sessions {
		if now.Sub(s.lastUsed) >= idle {
			delete(v.sessions, id)
		}
	}
}

// newSessionID is 32 upper-case hex digits, like the vendor's example
// JSESSIONID.
func newSessionID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// destroySession is POST /api/session/destroy. It needs the same
// authentication as any call; when a session authenticated it, that session
// ends. Called with Basic or a certificate it has nothing to end and answers
// 200 all the same.
func (v *Vendor) destroySession(c caller, _ *http.Request, _ []byte) reply {
	if c.sessionID != "" {
		delete(v.sessions, c.sessionID)
	}
	return reply{status: http.StatusOK}
}

// peerFingerprint is the SHA-256 of the TLS client certificate, if one was
// presented. The sandbox's TLS listener requests but does not verify client
// certificates; the handshake still proves the client holds the key.
func peerFingerprint(r *http.Request) (string, bool) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return "", false
	}
	sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:]), true
}

// registerIdentity is the sandbox control route
//
//	POST /_sandbox/nsx/principal-identities
//	{"name": "<principal name>", "certificate_pem": "-----BEGIN CERTIFICATE-----..."}
//
// It registers a client certificate as a principal identity, as an NSX admin
// would beforehand ("the client certificate needs to be registered with NSX-T
// manager prior"); NSX's own principal-identity API is out of scope. Answers
// 201 {"name", "certificate_sha256"}; 400 {"error": "..."} for a missing name
// or a body without a parseable certificate. Registering the same certificate
// again replaces its name. Identities persist in the state file. Like every
// /_sandbox route it needs no credentials.
func (v *Vendor) registerIdentity(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name           string `json:"name"`
		CertificatePEM string `json:"certificate_pem"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, sim.MaxBody)).Decode(&body); err != nil {
		sim.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": `body must be {"name": "...", "certificate_pem": "..."}`})
		return
	}
	if strings.TrimSpace(body.Name) == "" {
		sim.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "name is required"})
		return
	}
	block, _ := pem.Decode([]byte(body.CertificatePEM))
	if block == nil || block.Type != "CERTIFICATE" {
		sim.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "certificate_pem must hold a PEM CERTIFICATE block"})
		return
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		sim.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "certificate_pem: " + err.Error()})
		return
	}
	sum := sha256.Sum256(block.Bytes)
	fp := hex.EncodeToString(sum[:])

	v.env.Lock()
	v.identities[fp] = body.Name
	v.env.Changed()
	v.env.Unlock()
	sim.WriteJSON(w, http.StatusCreated, principalIdentity{Name: body.Name, CertificateSHA256: fp})
}
