package sdwan

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// call is what a handler knows about an authenticated request.
type call struct {
	// ver is the API version of the path: "v2.0" or "v2.1".
	ver string
	// unified is true on /sdwan/... paths (no tenant segment).
	unified bool
	// tenantID and operatorID are the identity the credential belongs to.
	tenantID, operatorID string
	// sessionID is the profile's session_id: the auth token's id for an
	// X-Auth-Token, the access token's jti for a Bearer token.
	sessionID string
	// tokenSession is the profile's token_session: true when the caller
	// authenticated with an auth token (X-Auth-Token), as the legacy SDK
	// expects after use_token(); false for OAuth access tokens.
	tokenSession bool
}

type handler func(w http.ResponseWriter, r *http.Request, c *call)

// Register adds the routes:
//
//	GET    /v2.{0,1}/api/profile
//	GET    /v2.{0,1}/api/tenants/{tenant_id}/operators/{operator_id}/authtokens
//	POST   /v2.{0,1}/api/tenants/{tenant_id}/operators/{operator_id}/authtokens
//	GET    /v2.{0,1}/api/tenants/{tenant_id}/operators/{operator_id}/authtokens/{authtoken_id}
//	DELETE /v2.{0,1}/api/tenants/{tenant_id}/operators/{operator_id}/authtokens/{authtoken_id}
//	the same under /sdwan/v2.{0,1}/api/ without /tenants/{tenant_id}
//	POST   /oauth2/access_token and /auth/v1/oauth2/access_token
//
// Any other method on those paths (PUT included: the vendor has no update
// call) answers 405 with an Allow header and an _error body, before any
// credential check, as a router would.
func (v *Vendor) Register(mux *http.ServeMux) {
	for _, ver := range []string{"v2.0", "v2.1"} {
		legacy := "/" + ver + "/api"
		legacyTokens := legacy + "/tenants/{tenant_id}/operators/{operator_id}/authtokens"
		mux.HandleFunc("GET "+legacy+"/profile", v.legacy(ver, v.profile))
		mux.HandleFunc("GET "+legacyTokens, v.legacy(ver, v.listTokens))
		mux.HandleFunc("POST "+legacyTokens, v.legacy(ver, v.createToken))
		mux.HandleFunc("GET "+legacyTokens+"/{authtoken_id}", v.legacy(ver, v.getToken))
		mux.HandleFunc("DELETE "+legacyTokens+"/{authtoken_id}", v.legacy(ver, v.deleteToken))
		mux.HandleFunc(legacy+"/profile", methodNotAllowed("GET"))
		mux.HandleFunc(legacyTokens, methodNotAllowed("GET, POST"))
		mux.HandleFunc(legacyTokens+"/{authtoken_id}", methodNotAllowed("GET, DELETE"))

		unified := "/sdwan/" + ver + "/api"
		unifiedTokens := unified + "/operators/{operator_id}/authtokens"
		mux.HandleFunc("GET "+unified+"/profile", v.unified(ver, true, v.profile))
		mux.HandleFunc("GET "+unifiedTokens, v.unified(ver, false, v.listTokens))
		mux.HandleFunc("POST "+unifiedTokens, v.unified(ver, false, v.createToken))
		mux.HandleFunc("GET "+unifiedTokens+"/{authtoken_id}", v.unified(ver, false, v.getToken))
		mux.HandleFunc("DELETE "+unifiedTokens+"/{authtoken_id}", v.unified(ver, false, v.deleteToken))
		mux.HandleFunc(unified+"/profile", methodNotAllowed("GET"))
		mux.HandleFunc(unifiedTokens, methodNotAllowed("GET, POST"))
		mux.HandleFunc(unifiedTokens+"/{authtoken_id}", methodNotAllowed("GET, DELETE"))
	}
	// pan.dev documents /oauth2/access_token on auth.apps.paloaltonetworks.com;
	// the unified SDK posts to /auth/v1/oauth2/access_token. The sandbox has
	// one listener, so both paths live beside the API.
	mux.HandleFunc("POST /oauth2/access_token", v.accessTokenHandler)
	mux.HandleFunc("POST /auth/v1/oauth2/access_token", v.accessTokenHandler)
}

func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "method %s is not allowed here; allowed: %s", r.Method, allow)
	}
}

// legacy wraps a handler of the legacy generation: X-Auth-Token (Go
// canonicalises header names, so any spelling matches) holding the static
// token or a live auth token; anything else is 401.
func (v *Vendor) legacy(ver string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v.env.Lock()
		defer v.env.Unlock()
		c := v.authenticateAuthToken(r.Header.Get("X-Auth-Token"))
		if c == nil {
			writeError(w, http.StatusUnauthorized, codeUnauthorized, messageUnauthorized)
			return
		}
		c.ver = ver
		h(w, r, c)
	}
}

// authenticateAuthToken finds the live (not deleted, not expired) auth token
// whose secret hashes to the same SHA-256. Lock held.
func (v *Vendor) authenticateAuthToken(secret string) *call {
	if secret == "" {
		return nil
	}
	sum := []byte(hashSecret(secret))
	now := v.env.NowMs()
	for tenantID, t := range v.st.Tenants {
		for operatorID, op := range t.Operators {
			for _, tok := range op.AuthTokens {
				if subtle.ConstantTimeCompare(sum, []byte(tok.SecretSHA256)) != 1 {
					continue
				}
				if tok.expired(now) {
					return nil
				}
				return &call{tenantID: tenantID, operatorID: operatorID, sessionID: tok.ID, tokenSession: true}
			}
		}
	}
	return nil
}

// unified wraps a handler of the unified generation: "Authorization: Bearer"
// with a live access token, else 401. pan.dev: "immediately after generating
// an access token, you must make a call to GET /sdwan/v2.1/api/profile. If
// this isn't done, subsequent calls to the SD-WAN API endpoints will return a
// 403." The v2.0 profile call counts too (it is the same resource in an older
// shape), and each access token must make its own profile call.
func (v *Vendor) unified(ver string, isProfile bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v.env.Lock()
		defer v.env.Unlock()
		a := v.bearer(r.Header.Get("Authorization"))
		if a == nil {
			writeError(w, http.StatusUnauthorized, codeUnauthorized, messageUnauthorized)
			return
		}
		if isProfile {
			a.profiled = true
		} else if !a.profiled {
			writeError(w, http.StatusForbidden, codeForbidden, messageProfileMissing)
			return
		}
		h(w, r, &call{ver: ver, unified: true, tenantID: a.tenantID, operatorID: a.operatorID, sessionID: a.jti})
	}
}

// operatorFor checks the path's tenant (legacy only) and operator: a tenant
// other than the caller's is 400 ESP_INVALID_TENANT_DATA, an operator the
// tenant lacks 400 TOKEN_INVALID_OPERATOR_ID (both codes from the spec).
func (v *Vendor) operatorFor(w http.ResponseWriter, r *http.Request, c *call) (*operatorState, bool) {
	tenantID := c.tenantID
	if !c.unified && r.PathValue("tenant_id") != tenantID {
		writeError(w, http.StatusBadRequest, codeInvalidTenant, "tenant %q is not the tenant of this session", r.PathValue("tenant_id"))
		return nil, false
	}
	op := v.operator(tenantID, r.PathValue("operator_id"))
	if op == nil {
		writeError(w, http.StatusBadRequest, codeInvalidOperator, "operator %q does not exist in this tenant", r.PathValue("operator_id"))
		return nil, false
	}
	return op, true
}

// Operator attributes the profile reports besides the exported identities.
const (
	operatorFirstName = "Sandbox"
	operatorLastName  = "Operator"
	operatorRole      = "tenant_super"
)

// profile serves GET .../profile. v2.1 is ProfileV2N1 (id, session_id,
// tenant_id) plus the fields the vendor's SDKs read from it (email, roles,
// region, token_session; sdwan.md 2.4). v2.0 is an OperatorV2N1: every field
// the spec requires, with empty lists where the operator has none.
func (v *Vendor) profile(w http.ResponseWriter, r *http.Request, c *call) {
	roles := []authRole{{Name: operatorRole}}
	if c.ver == "v2.1" {
		sim.WriteJSON(w, http.StatusOK, map[string]any{
			"id":            c.operatorID,
			"session_id":    c.sessionID,
			"tenant_id":     c.tenantID,
			"email":         OperatorEmail,
			"roles":         roles,
			"region":        Region,
			"token_session": c.tokenSession,
		})
		return
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{
		"id":               c.operatorID,
		"tenant_id":        c.tenantID,
		"email":            OperatorEmail,
		"email_validated":  true,
		"first_name":       operatorFirstName,
		"last_name":        operatorLastName,
		"roles":            roles,
		"custom_roles":     []any{},
		"region":           Region,
		"from_esp":         false,
		"disabled":         false,
		"inactive":         false,
		"is_locked":        false,
		"is_system_owned":  false,
		"linked_accounts":  []any{},
		"addresses":        []any{},
		"phone_numbers":    []any{},
		"secondary_emails": []any{},
		"ipv4_list":        []any{},
	})
}

// bearerToken extracts the token of an "Authorization: Bearer <token>" value
// (scheme case-insensitive, RFC 6750).
func bearerToken(header string) string {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
