package sdwan

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// accessToken is a live OAuth access token (memory only).
type accessToken struct {
	tenantID, operatorID string
	jti                  string
	expires              time.Time
	// profiled records that GET .../profile was called with this token.
	profiled bool
}

// bearer returns the live access token of an Authorization header, or nil.
// Expired tokens are forgotten. Lock held.
func (v *Vendor) bearer(header string) *accessToken {
	token := bearerToken(header)
	if token == "" {
		return nil
	}
	key := hashSecret(token)
	a := v.access[key]
	if a == nil {
		return nil
	}
	if !v.env.Now().Before(a.expires) {
		delete(v.access, key)
		return nil
	}
	return a
}

// oauthError writes an RFC 6749 section 5.2 error body, the shape of the
// vendor's token endpoint (an OAuth2 server, not the SD-WAN API).
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	sim.WriteJSON(w, status, map[string]string{"error": code, "error_description": description})
}

// accessTokenHandler serves POST /oauth2/access_token: HTTP Basic
// client_id:client_secret and the form grant_type=client_credentials&
// scope=tsg_id:<tsg>[ email profile] (pan.dev access-tokens.md).
//
// Choices where the vendor is silent, following RFC 6749:
//   - bad or missing client credentials (the secret in the form is not read):
//     401 invalid_client with WWW-Authenticate: Basic;
//   - no grant_type: 400 invalid_request; another grant: 400
//     unsupported_grant_type;
//   - scope without tsg_id, with another tenant's tsg_id, with two tsg_ids,
//     or with a word other than email or profile (the documented scope words):
//     400 invalid_scope.
//
// The answer echoes the scope words in the order given.
func (v *Vendor) accessTokenHandler(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != OAuthClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(v.clientSecret())) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="tokenctl-sandbox"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, sim.MaxBody)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the body must be an application/x-www-form-urlencoded form")
		return
	}
	switch grant := r.PostForm.Get("grant_type"); grant {
	case "client_credentials":
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "only grant_type=client_credentials is supported")
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	tsgs := 0
	for _, s := range scopes {
		switch {
		case strings.HasPrefix(s, "tsg_id:"):
			if strings.TrimPrefix(s, "tsg_id:") != TSGID {
				oauthError(w, http.StatusBadRequest, "invalid_scope", "this client has no access to "+s)
				return
			}
			tsgs++
		case s == "email" || s == "profile":
		default:
			oauthError(w, http.StatusBadRequest, "invalid_scope", "unknown scope "+s)
			return
		}
	}
	if tsgs != 1 {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "scope must name exactly one tsg_id:<tsg_id>")
		return
	}

	v.env.Lock()
	defer v.env.Unlock()
	now := v.env.Now()
	a := &accessToken{tenantID: TenantID, operatorID: OperatorID, jti: sim.NewUUID(), expires: now.Add(AccessTokenLifetime)}
	token := v.signJWT(map[string]any{
		"sub":   OAuthClientID,
		"scope": scopes,
		"iat":   now.Unix(),
		"exp":   a.expires.Unix(),
		"jti":   a.jti,
	})
	for k, old := range v.access {
		if !now.Before(old.expires) {
			delete(v.access, k)
		}
	}
	v.access[hashSecret(token)] = a
	w.Header().Set("Cache-Control", "no-store")
	sim.WriteJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"token_type":   "Bearer",
		"expires_in":   AccessTokenExpiresIn,
		"scope":        strings.Join(scopes, " "),
	})
}

// signJWT makes a JWT (HS256 with the process's random key) so that clients
// that peek at the claims (exp, scope) see what a real one carries; the
// sandbox itself looks tokens up by hash and never trusts the claims.
func (v *Vendor) signJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	signed := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, v.jwtKey)
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}
