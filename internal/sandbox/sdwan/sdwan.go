// Package sdwan emulates the Palo Alto Networks Prisma SD-WAN operator auth
// token API in both of its generations:
//
//   - legacy ("CloudGenix"): /v2.0/api/... and /v2.1/api/..., the tenant in the
//     path, authenticated with the X-Auth-Token header;
//   - unified (Prisma SASE): /sdwan/v2.0/api/... and /sdwan/v2.1/api/..., no
//     tenant segment, authenticated with an OAuth2 Bearer access token from
//     POST /oauth2/access_token (also /auth/v1/oauth2/access_token), served on
//     the same listener.
//
// Both generations share one store of auth tokens per tenant and operator.
// Bodies, codes and fields follow the vendor's OpenAPI (SystemAdministration
// subset in ../shared/api/specs) and ../shared/api/sdwan.md; where the vendor
// is silent, the doc comment at the spot says what was chosen and why.
//
// Secrets: the state file holds only the SHA-256 of each auth token; the
// plaintext exists once, in the create response. OAuth access tokens live in
// memory only and die with the process.
package sdwan

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// Fixed sandbox identities. They are printed by `tokenctl sandbox serve` and
// in the docs, so they never change. Ids are numeric strings as the vendor's
// are: tenant ids are short numbers (e.g. "1092" in vendor examples), object
// ids 17 digits (epoch milliseconds followed by a 4-digit sequence).
const (
	// TenantID is the one tenant; legacy paths must name it.
	TenantID = "1999"
	// OperatorID is the one operator (the profile's "id"); it owns every token.
	OperatorID = "17000000000000042"
	// OperatorEmail is the operator's email, as the profile reports it.
	OperatorEmail = "operator@tokenctl-sandbox.example"
	// Region is the operator's region, as the profile reports it.
	Region = "us"
	// TSGID is the Prisma SASE tenant service group the OAuth client may ask
	// for (scope "tsg_id:<TSGID>").
	TSGID = "1999000042"

	// StaticAuthToken is the legacy X-Auth-Token that always works. It is the
	// secret of the system-owned token SystemTokenID, which has no expiry
	// and cannot be deleted, so the sandbox can never lock its user out.
	StaticAuthToken = "tokenctl-sandbox-token"
	// SystemTokenID is the id of the system-owned auth token present from
	// the start (its secret is StaticAuthToken).
	SystemTokenID = "17000000000000043"

	// OAuthClientID is the OAuth2 client id of the unified generation.
	OAuthClientID = "tokenctl-sandbox"
	// DefaultOAuthClientSecret is the client secret unless sim.Options.Password
	// replaces it (as it replaces the users' passwords).
	DefaultOAuthClientSecret = sim.DefaultPassword

	// AccessTokenLifetime is how long an OAuth access token is accepted:
	// "Access tokens have a lifespan of 15 minutes" (pan.dev).
	AccessTokenLifetime = 15 * time.Minute
	// AccessTokenExpiresIn is the "expires_in" the token endpoint reports,
	// one second short of the lifetime as the vendor's does.
	AccessTokenExpiresIn = 899
)

// MaxRoles is the documented "Max size = 7" of an auth token's roles.
const MaxRoles = 7

// RoleNames returns the 23 documented role names (AuthRole.name), in the
// vendor's order.
func RoleNames() []string {
	return []string{
		"guest", "system", "element", "support_iam_admin", "support_admin",
		"support_viewonly", "support_mfg", "support_super", "support_root",
		"devops", "secops", "tenant_iam_admin", "tenant_network_admin",
		"tenant_security_admin", "tenant_viewonly", "tenant_super", "tenant_root",
		"esp_iam_admin", "esp_machine_admin", "esp_admin", "esp_user", "esp_super",
		"esp_root",
	}
}

// Vendor is the SD-WAN emulator. Its state is guarded by the Env lock.
type Vendor struct {
	env *sim.Env
	st  state
	// access holds the live OAuth access tokens by SHA-256; in memory only.
	access map[string]*accessToken
	// jwtKey signs access tokens; a new key per process, which is why access
	// tokens never outlive a restart.
	jwtKey []byte
	roles  map[string]bool
}

// New returns the emulator with its seeded tenant, operator and system token.
func New(env *sim.Env) *Vendor {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	v := &Vendor{env: env, access: map[string]*accessToken{}, jwtKey: key, roles: map[string]bool{}}
	for _, n := range RoleNames() {
		v.roles[n] = true
	}
	v.seed()
	return v
}

// Name is the vendor's key in the state file.
func (v *Vendor) Name() string { return "sdwan" }

// state is what the state file keeps: tokens by tenant, operator and id.
type state struct {
	Tenants map[string]*tenantState `json:"tenants"`
	// LastID is the last object id handed out; ids only grow.
	LastID int64 `json:"last_id"`
}

type tenantState struct {
	Operators map[string]*operatorState `json:"operators"`
}

type operatorState struct {
	AuthTokens map[string]*authToken `json:"authtokens"`
}

// seed makes sure the fixed tenant, operator and system token exist; it runs
// on start and after loading a state file (which may predate them).
func (v *Vendor) seed() {
	if v.st.Tenants == nil {
		v.st.Tenants = map[string]*tenantState{}
	}
	t := v.st.Tenants[TenantID]
	if t == nil {
		t = &tenantState{}
		v.st.Tenants[TenantID] = t
	}
	if t.Operators == nil {
		t.Operators = map[string]*operatorState{}
	}
	op := t.Operators[OperatorID]
	if op == nil {
		op = &operatorState{}
		t.Operators[OperatorID] = op
	}
	if op.AuthTokens == nil {
		op.AuthTokens = map[string]*authToken{}
	}
	created, _ := strconv.ParseInt(SystemTokenID, 10, 64)
	op.AuthTokens[SystemTokenID] = &authToken{
		ID:            SystemTokenID,
		SecretSHA256:  hashSecret(StaticAuthToken),
		Roles:         []authRole{{Name: "tenant_super"}},
		CustomRoles:   []customRole{},
		IsSystemOwned: true,
		CreatedOnUTC:  created,
		Etag:          1,
	}
	if v.st.LastID < created {
		v.st.LastID = created
	}
}

// SaveState returns the tokens (secrets as SHA-256 only). Lock held.
func (v *Vendor) SaveState() (json.RawMessage, error) {
	return json.Marshal(v.st)
}

// LoadState restores SaveState's output.
func (v *Vendor) LoadState(raw json.RawMessage) error {
	var st state
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &st); err != nil {
			return err
		}
	}
	v.st = st
	v.seed()
	return nil
}

// operator returns the operator's store, or nil.
func (v *Vendor) operator(tenantID, operatorID string) *operatorState {
	t := v.st.Tenants[tenantID]
	if t == nil {
		return nil
	}
	return t.Operators[operatorID]
}

// nextID returns a new 17-digit id shaped like the vendor's: the epoch
// milliseconds followed by a 4-digit sequence, never smaller than the last.
func (v *Vendor) nextID() int64 {
	id := v.env.NowMs() * 10000
	if id <= v.st.LastID {
		id = v.st.LastID + 1
	}
	v.st.LastID = id
	return id
}

// clientSecret is the OAuth client secret: sim.Options.Password if set.
func (v *Vendor) clientSecret() string {
	if p := v.env.Options().Password; p != "" {
		return p
	}
	return DefaultOAuthClientSecret
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// newSecret returns a new auth token secret: 64 hex digits. Hex keeps it free
// of "-", which the vendor's SDKs read as a separator before URL-encoded
// region hints (parse_auth_token); a region hint would steer them to the real
// cloud, so none is embedded.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Error codes. The spec names the 400 codes; the others are the sandbox's
// choice where the vendor publishes none (sdwan.md marks them INFERRED).
const (
	codeInvalidTenant     = "ESP_INVALID_TENANT_DATA"
	codeInvalidOperator   = "TOKEN_INVALID_OPERATOR_ID"
	codeInvalidSession    = "TOKEN_INVALID_SESSION_DATA"
	codeInvalidExpires    = "INVALID_EXPIRES_UTC_MS"
	codeRoleListSize      = "SESSION_INVALID_ROLE_LIST_SIZE"
	codeRoleInvalid       = "AUTH_ROLE_INVALID"
	codeReadonlyFields    = "AUTH_TOKEN_CANNOT_SET_READONLY_FIELDS"
	codeSystemOperation   = "AUTH_TOKEN_SYSTEM_OPERATIONS_NOT_ALLOWED"
	codeInvalidJSON       = "INVALID_JSON_INPUT"
	codeUnauthorized      = "UNAUTHORIZED"
	codeForbidden         = "FORBIDDEN"
	codeNotFound          = "NOT_FOUND"
	codeMethodNotAllowed  = "METHOD_NOT_ALLOWED"
	messageUnauthorized   = "Unauthorized"
	messageProfileMissing = "call GET /sdwan/v2.1/api/profile with this access token before any other SD-WAN API call"
)

// apiError is one entry of the vendor's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeErrors writes the vendor's error body {"_error":[{code,message}...]}.
func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	sim.WriteJSON(w, status, map[string][]apiError{"_error": errs})
}

func writeError(w http.ResponseWriter, status int, code, format string, args ...any) {
	writeErrors(w, status, apiError{Code: code, Message: fmt.Sprintf(format, args...)})
}
