// Package nsx emulates the registration-token API of VMware NSX Manager
// (see ../../../../shared/api/nsx.md): the Manager API under /api/v1 and its
// Policy API mirror under /policy/api/v1, with NSX's three authentication
// methods (HTTP Basic, session cookie plus X-XSRF-TOKEN, and principal
// identity by client certificate).
//
// Routes (each under /api/v1 and /policy/api/v1 unless noted):
//
//	POST   aaa/registration-token           200 RegistrationToken with the caller's roles
//	GET    aaa/registration-token           405 ApiError: NSX has no list call
//	GET    aaa/registration-token/{token}   200 RegistrationToken; unknown 404 (deprecated in 4.x)
//	DELETE aaa/registration-token/{token}   200, empty body; unknown 404 (deprecated in 4.x)
//	POST   aaa/registration-token/retrieve  RegTokenQuery in, 200 RegistrationToken; 400, 404
//	POST   aaa/registration-token/delete    RegTokenQuery in, 200 empty; 400, 404
//	POST   /api/v1/security/sensor-registration-token   200 RegistrationToken, roles ["sensor"]
//	POST   /api/session/create              form j_username, j_password: 200 + cookie + X-XSRF-TOKEN
//	POST   /api/session/destroy             200, ends the session that authenticated the call
//	POST   /_sandbox/nsx/principal-identities   sandbox control route, see registerIdentity
//
// With sim.Options.NSXNoBodyCalls the retrieve and delete routes answer 404,
// as on a pre-4.x manager. Any other path under /api/ or /policy/api/ answers
// 404 and a known path with another method 405, both with NSX's
// "cannot be processed" ApiError, after authentication.
package nsx

import (
	"encoding/json"
	"mime"
	"net/http"
	"sort"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// RegistrationToken is NSX's RegistrationToken schema ("Appliance
// registration access token"). The sandbox stores exactly this and nothing
// else.
type RegistrationToken struct {
	Token string   `json:"token"`
	Roles []string `json:"roles"`
	// User is "User delegated by token"; NSX 2.x did not return it, and the
	// sensor flavour has none.
	User string `json:"user,omitempty"`
}

// ApiError is NSX's error body. Every field is optional in the vendor's
// schema.
type ApiError struct {
	ModuleName   string `json:"module_name,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	// ErrorCode is an int64 in the vendor's schema, but nsx.md found a real
	// body with the string "269"; see unsupportedRequest.
	ErrorCode     any        `json:"error_code,omitempty"`
	Details       string     `json:"details,omitempty"`
	RelatedErrors []ApiError `json:"related_errors,omitempty"`
}

// Vendor is the NSX emulator.
type Vendor struct {
	env *sim.Env
	// tokens and identities are persisted; sessions are not, so a restarted
	// sandbox forgets them as a restarted manager does. All three are
	// guarded by the Env lock.
	tokens     map[string]RegistrationToken
	identities map[string]string // client certificate SHA-256 (lower-case hex) -> principal name
	sessions   map[string]*session
}

// New returns the NSX emulator.
func New(env *sim.Env) *Vendor {
	return &Vendor{
		env:        env,
		tokens:     map[string]RegistrationToken{},
		identities: map[string]string{},
		sessions:   map[string]*session{},
	}
}

// Name is the vendor's key in the state file.
func (v *Vendor) Name() string { return "nsx" }

// Register adds the routes listed in the package comment.
func (v *Vendor) Register(mux *http.ServeMux) {
	for _, api := range []string{"/api/", "/policy/api/"} {
		base := api + "v1/aaa/registration-token"
		mux.HandleFunc("POST "+base, v.api(write, v.createToken))
		// No list call exists: every other method on the collection is 405.
		mux.HandleFunc(base, v.api(read, methodNotAllowed("POST")))
		mux.HandleFunc("GET "+base+"/{token}", v.api(read, v.getToken))
		mux.HandleFunc("DELETE "+base+"/{token}", v.api(write, v.deleteToken))
		mux.HandleFunc(base+"/{token}", v.api(read, methodNotAllowed("GET, DELETE")))
		// retrieve reads a token: it is the 4.x replacement of GET {token}, so
		// read-only users may call it although it is a POST.
		mux.HandleFunc("POST "+base+"/retrieve", v.api(read, v.bodyCall(v.retrieveToken)))
		mux.HandleFunc("POST "+base+"/delete", v.api(write, v.bodyCall(v.deleteTokenByBody)))
		mux.HandleFunc(api, v.api(read, noSuchRoute))
	}
	// Only the Manager API documents the sensor flavour.
	mux.HandleFunc("POST /api/v1/security/sensor-registration-token", v.api(write, v.createSensorToken))
	mux.HandleFunc("/api/v1/security/sensor-registration-token", v.api(read, methodNotAllowed("POST")))
	mux.HandleFunc("POST /api/session/create", v.createSession)
	mux.HandleFunc("POST /api/session/destroy", v.api(read, v.destroySession))
	mux.HandleFunc("POST /_sandbox/nsx/principal-identities", v.registerIdentity)
}

// access says whether a route changes state; read-only users (auditor) get
// 403 on write routes.
type access bool

const (
	read  access = false
	write access = true
)

// reply is what a handler computed under the Env lock; it is written after
// the lock is released so that a slow client cannot stall the sandbox.
type reply struct {
	status int
	body   any
	header map[string]string
}

func (r reply) write(w http.ResponseWriter) {
	for k, val := range r.header {
		w.Header().Set(k, val)
	}
	if r.body == nil {
		w.WriteHeader(r.status)
		return
	}
	sim.WriteJSON(w, r.status, r.body)
}

type handler func(c caller, r *http.Request, body []byte) reply

// api wraps a vendor route: it reads the body, authenticates the caller (every
// /api and /policy route but session create needs it), refuses writes by
// read-only users, and runs h under the Env lock.
func (v *Vendor) api(acc access, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := sim.ReadBody(r)
		if err != nil {
			reply{status: http.StatusBadRequest, body: ApiError{ModuleName: moduleCommon, ErrorMessage: "The request body could not be read.", ErrorCode: http.StatusBadRequest}}.write(w)
			return
		}
		v.env.Lock()
		c, deny := v.authenticate(r)
		var out reply
		switch {
		case deny != nil:
			out = *deny
		case acc == write && c.readOnly:
			out = forbidden(c)
		default:
			out = h(c, r, body)
		}
		v.env.Unlock()
		out.write(w)
	}
}

const moduleCommon = "common-services"

// errNotFound is NSX's not-found error: code 600 from module common-services
// as in Broadcom's own NSX docs. The real message names the object; the
// sandbox leaves it out because here the identifier is the secret token.
func errNotFound() reply {
	return reply{status: http.StatusNotFound, body: ApiError{
		ModuleName:   moduleCommon,
		ErrorMessage: "The requested object could not be found. Object identifiers are case sensitive.",
		ErrorCode:    600,
	}}
}

// unsupportedRequest is NSX's answer to a URI and method it cannot serve,
// seen in the wild (nsx.md, "ApiError") with error_code as the JSON string
// "269". The sandbox sends it exactly so: it is the one body whose string
// code has evidence behind it, and it lets clients prove they tolerate a
// string error_code. Every other error carries an integer code.
func unsupportedRequest(status int) reply {
	return reply{status: status, body: ApiError{
		ModuleName:   moduleCommon,
		ErrorMessage: "The requested with given URI, HTTP method and set of parameters cannot be processed.",
		ErrorCode:    "269",
	}}
}

func methodNotAllowed(allow string) handler {
	return func(caller, *http.Request, []byte) reply {
		out := unsupportedRequest(http.StatusMethodNotAllowed)
		out.header = map[string]string{"Allow": allow}
		return out
	}
}

func noSuchRoute(caller, *http.Request, []byte) reply {
	return unsupportedRequest(http.StatusNotFound)
}

// forbidden answers a write by a read-only user. NSX documents the 403 but
// not its body; error_code 403 follows the credentials error nsx.md gives, and
// the message names what the method pages require ("crud" on the feature).
func forbidden(c caller) reply {
	return reply{status: http.StatusForbidden, body: ApiError{
		ModuleName:   moduleCommon,
		ErrorMessage: "User '" + c.name + "' does not have the permission (crud) this operation requires.",
		ErrorCode:    http.StatusForbidden,
	}}
}

// newToken issues a token delegating roles and user.
func (v *Vendor) newToken(roles []string, user string) reply {
	t := RegistrationToken{Token: sim.NewUUID(), Roles: append([]string(nil), roles...), User: user}
	v.tokens[t.Token] = t
	v.env.Changed()
	return reply{status: http.StatusOK, body: t}
}

// createToken: "The privileges of the registration token will be the same as
// the caller." Any request body is ignored.
func (v *Vendor) createToken(c caller, _ *http.Request, _ []byte) reply {
	return v.newToken(c.roles, c.name)
}

// createSensorToken: "The privileges of the registration token will be user
// with sensor role". The vendor's example has no user field, so none is set.
func (v *Vendor) createSensorToken(caller, *http.Request, []byte) reply {
	return v.newToken([]string{"sensor"}, "")
}

func (v *Vendor) getToken(_ caller, r *http.Request, _ []byte) reply {
	t, ok := v.tokens[r.PathValue("token")]
	if !ok {
		return errNotFound()
	}
	return reply{status: http.StatusOK, body: t}
}

// deleteToken answers 200 with no body, as the API guide says ("Operation
// doesn't return any data structure").
func (v *Vendor) deleteToken(_ caller, r *http.Request, _ []byte) reply {
	return v.remove(r.PathValue("token"))
}

func (v *Vendor) remove(token string) reply {
	if _, ok := v.tokens[token]; !ok {
		return errNotFound()
	}
	delete(v.tokens, token)
	v.env.Changed()
	return reply{status: http.StatusOK}
}

func (v *Vendor) retrieveToken(token string) reply {
	t, ok := v.tokens[token]
	if !ok {
		return errNotFound()
	}
	return reply{status: http.StatusOK, body: t}
}

func (v *Vendor) deleteTokenByBody(token string) reply { return v.remove(token) }

// bodyCall decodes a RegTokenQuery ({"token": string}, token required) and
// passes the token on. A pre-4.x manager (Options.NSXNoBodyCalls) has no such
// routes: 404. Unknown fields in the body are ignored. A Content-Type other
// than JSON is 415; a missing one is accepted.
func (v *Vendor) bodyCall(next func(token string) reply) handler {
	return func(_ caller, r *http.Request, body []byte) reply {
		if v.env.Options().NSXNoBodyCalls {
			return noSuchRoute(caller{}, r, body)
		}
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				return reply{status: http.StatusUnsupportedMediaType, body: ApiError{
					ModuleName:   moduleCommon,
					ErrorMessage: "Unsupported content type " + ct + "; send application/json.",
					ErrorCode:    http.StatusUnsupportedMediaType,
				}}
			}
		}
		var q map[string]json.RawMessage
		if err := json.Unmarshal(body, &q); err != nil || q == nil {
			return badQuery("The request body must be a JSON object (RegTokenQuery).")
		}
		raw, ok := q["token"]
		if !ok {
			return badQuery("Field 'token' is required.")
		}
		var token string
		if err := json.Unmarshal(raw, &token); err != nil || string(raw) == "null" {
			return badQuery("Field 'token' must be a string.")
		}
		if token == "" {
			return badQuery("Field 'token' must not be empty.")
		}
		return next(token)
	}
}

// badQuery is a 400 whose related_errors entry names the field problem, the
// way NSX nests validation failures under a general message. The vendor
// documents the 400 but not its codes; the sandbox uses 400 for both.
func badQuery(problem string) reply {
	return reply{status: http.StatusBadRequest, body: ApiError{
		ModuleName:   moduleCommon,
		ErrorMessage: "Invalid RegTokenQuery in the request body.",
		ErrorCode:    http.StatusBadRequest,
		RelatedErrors: []ApiError{{
			ModuleName:   moduleCommon,
			ErrorMessage: problem,
			ErrorCode:    http.StatusBadRequest,
		}},
	}}
}

// state is the persisted form: tokens as NSX returned them, and the
// principal identities registered through the control route.
type state struct {
	Tokens              []RegistrationToken `json:"tokens"`
	PrincipalIdentities []principalIdentity `json:"principal_identities"`
}

type principalIdentity struct {
	Name              string `json:"name"`
	CertificateSHA256 string `json:"certificate_sha256"`
}

// SaveState returns the tokens and principal identities, sorted so the file
// is stable. Sessions are not saved.
func (v *Vendor) SaveState() (json.RawMessage, error) {
	st := state{Tokens: []RegistrationToken{}, PrincipalIdentities: []principalIdentity{}}
	for _, t := range v.tokens {
		st.Tokens = append(st.Tokens, t)
	}
	sort.Slice(st.Tokens, func(i, j int) bool { return st.Tokens[i].Token < st.Tokens[j].Token })
	for fp, name := range v.identities {
		st.PrincipalIdentities = append(st.PrincipalIdentities, principalIdentity{Name: name, CertificateSHA256: fp})
	}
	sort.Slice(st.PrincipalIdentities, func(i, j int) bool {
		return st.PrincipalIdentities[i].CertificateSHA256 < st.PrincipalIdentities[j].CertificateSHA256
	})
	return json.Marshal(st)
}

// LoadState restores SaveState's output.
func (v *Vendor) LoadState(raw json.RawMessage) error {
	var st state
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &st); err != nil {
			return err
		}
	}
	v.tokens = map[string]RegistrationToken{}
	for _, t := range st.Tokens {
		if t.Roles == nil {
			t.Roles = []string{}
		}
		v.tokens[t.Token] = t
	}
	v.identities = map[string]string{}
	for _, p := range st.PrincipalIdentities {
		v.identities[p.CertificateSHA256] = p.Name
	}
	return nil
}
