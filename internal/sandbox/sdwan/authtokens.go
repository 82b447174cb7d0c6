package sdwan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// Documented size limits ("Max size = N" in the spec's descriptions).
const (
	maxSessionKeyC     = 128
	maxPermissionValue = 500
)

// authRole is AuthRole: {name}, one of RoleNames.
type authRole struct {
	Name string `json:"name"`
}

// authPermission is AuthPermission.
type authPermission struct {
	Value *string `json:"value,omitempty"`
}

// customPermission is CustomPermission: value is required, and tenant_id too
// in the legacy spec (the unified spec has no tenant_id).
type customPermission struct {
	AllowedAfterMs     *int64  `json:"allowed_after_ms,omitempty"`
	AllowedBeforeMs    *int64  `json:"allowed_before_ms,omitempty"`
	Disabled           *bool   `json:"disabled,omitempty"`
	DisabledReason     *string `json:"disabled_reason,omitempty"`
	DisallowPermission *bool   `json:"disallow_permission,omitempty"`
	ID                 *string `json:"id,omitempty"`
	Inactive           *bool   `json:"inactive,omitempty"`
	InactiveReason     *string `json:"inactive_reason,omitempty"`
	Region             *string `json:"region,omitempty"`
	TenantID           *string `json:"tenant_id,omitempty"`
	Value              *string `json:"value,omitempty"`
}

// customRole is CustomRole: name is required.
type customRole struct {
	CustomPermissions   []customPermission `json:"custom_permissions,omitempty"`
	Disabled            *bool              `json:"disabled,omitempty"`
	DisallowPermissions []authPermission   `json:"disallow_permissions,omitempty"`
	ID                  *string            `json:"id,omitempty"`
	Inactive            *bool              `json:"inactive,omitempty"`
	Name                *string            `json:"name,omitempty"`
	Permissions         []authPermission   `json:"permissions,omitempty"`
	Roles               []authRole         `json:"roles,omitempty"`
}

// authToken is a stored auth token. The secret is kept as its SHA-256 only.
type authToken struct {
	ID           string       `json:"id"`
	SecretSHA256 string       `json:"x_auth_token_sha256"`
	Roles        []authRole   `json:"roles"`
	CustomRoles  []customRole `json:"custom_roles"`
	// ExpiresUTCMs is epoch milliseconds; 0 means no expiry (only the
	// system-owned token, whose body then has no expires_utc_ms).
	ExpiresUTCMs  int64   `json:"expires_utc_ms,omitempty"`
	IsSystemOwned bool    `json:"is_system_owned"`
	SessionKeyC   *string `json:"session_key_c,omitempty"`
	CreatedOnUTC  int64   `json:"created_on_utc"`
	Etag          int     `json:"etag"`
}

func (t *authToken) expired(nowMs int64) bool {
	return t.ExpiresUTCMs != 0 && nowMs >= t.ExpiresUTCMs
}

// authTokenBody is AuthToken (v2.0) / AuthTokenV2N1 (v2.1) on the wire, with
// the vendor's object metadata (_etag, _schema, _created_on_utc,
// _updated_on_utc; their examples show _created_on_utc equal to the numeric
// id and _updated_on_utc 0 for an object never updated, and no auth token is
// ever updated: there is no PUT).
type authTokenBody struct {
	ID           string       `json:"id"`
	Etag         int          `json:"_etag"`
	Schema       int          `json:"_schema"`
	CreatedOnUTC int64        `json:"_created_on_utc"`
	UpdatedOnUTC int64        `json:"_updated_on_utc"`
	CustomRoles  []customRole `json:"custom_roles"`
	ExpiresUTCMs *int64       `json:"expires_utc_ms,omitempty"`
	// IsSystemOwned is v2.1 only: the v2.0 schema has no such field.
	IsSystemOwned *bool      `json:"is_system_owned,omitempty"`
	Roles         []authRole `json:"roles"`
	SessionKeyC   *string    `json:"session_key_c,omitempty"`
	// XAuthToken is set in the create response only. List, get and delete
	// omit the field entirely: the vendor shows the secret once.
	XAuthToken string `json:"x_auth_token,omitempty"`
}

// body renders the token for API version ver; secret is "" except on create.
// _schema is the version's schema number (AuthToken 0, AuthTokenV2N1 1).
func (t *authToken) body(ver, secret string) authTokenBody {
	b := authTokenBody{
		ID:           t.ID,
		Etag:         t.Etag,
		CreatedOnUTC: t.CreatedOnUTC,
		CustomRoles:  t.CustomRoles,
		Roles:        t.Roles,
		SessionKeyC:  t.SessionKeyC,
		XAuthToken:   secret,
	}
	if b.CustomRoles == nil {
		b.CustomRoles = []customRole{}
	}
	if b.Roles == nil {
		b.Roles = []authRole{}
	}
	if t.ExpiresUTCMs != 0 {
		exp := t.ExpiresUTCMs
		b.ExpiresUTCMs = &exp
	}
	if ver == "v2.1" {
		owned := t.IsSystemOwned
		b.IsSystemOwned = &owned
		b.Schema = 1
	}
	return b
}

// sortedTokens returns the operator's tokens oldest first (ids are
// equal-length numbers, so this is creation order).
func sortedTokens(op *operatorState) []*authToken {
	toks := make([]*authToken, 0, len(op.AuthTokens))
	for _, t := range op.AuthTokens {
		toks = append(toks, t)
	}
	sort.Slice(toks, func(i, j int) bool {
		a, b := toks[i].ID, toks[j].ID
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	})
	return toks
}

// listTokens serves GET .../authtokens: ListResponse plus items. The spec's
// ListResponse.id is a non-nullable string the vendor never explains, so it
// is left out. Expired tokens stay listed (they are not deleted, only no
// longer accepted); no paging, since none is documented for this collection.
func (v *Vendor) listTokens(w http.ResponseWriter, r *http.Request, c *call) {
	op, ok := v.operatorFor(w, r, c)
	if !ok {
		return
	}
	items := []authTokenBody{}
	for _, t := range sortedTokens(op) {
		items = append(items, t.body(c.ver, ""))
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{
		"count":     len(items),
		"tenant_id": c.tenantID,
		"items":     items,
	})
}

// getToken serves GET .../authtokens/{authtoken_id}; unknown ids are 404.
func (v *Vendor) getToken(w http.ResponseWriter, r *http.Request, c *call) {
	op, ok := v.operatorFor(w, r, c)
	if !ok {
		return
	}
	t := op.AuthTokens[r.PathValue("authtoken_id")]
	if t == nil {
		writeError(w, http.StatusNotFound, codeNotFound, "auth token %q not found", r.PathValue("authtoken_id"))
		return
	}
	sim.WriteJSON(w, http.StatusOK, t.body(c.ver, ""))
}

// deleteToken serves DELETE .../authtokens/{authtoken_id}: 200 with the
// deleted object; the token stops authenticating at once. Unknown ids
// (including ones already deleted) are 404. A system-owned token is 400
// AUTH_TOKEN_SYSTEM_OPERATIONS_NOT_ALLOWED on both versions: the spec names
// the code for v2.1 only, but protection is a property of the object, not
// of the API version that asks.
func (v *Vendor) deleteToken(w http.ResponseWriter, r *http.Request, c *call) {
	op, ok := v.operatorFor(w, r, c)
	if !ok {
		return
	}
	id := r.PathValue("authtoken_id")
	t := op.AuthTokens[id]
	if t == nil {
		writeError(w, http.StatusNotFound, codeNotFound, "auth token %q not found", id)
		return
	}
	if t.IsSystemOwned {
		writeError(w, http.StatusBadRequest, codeSystemOperation, "auth token %q is system owned and cannot be deleted", id)
		return
	}
	delete(op.AuthTokens, id)
	v.env.Changed()
	sim.WriteJSON(w, http.StatusOK, t.body(c.ver, ""))
}

// createToken serves POST .../authtokens: 200 (not 201) with the new token
// and its secret, the only response that carries x_auth_token. Every problem
// of the body is listed in one 400 _error list.
//
// There is no limit on active tokens: the vendor names
// TOKEN_ACTIVE_TOKEN_EXCEEDED but publishes no number.
func (v *Vendor) createToken(w http.ResponseWriter, r *http.Request, c *call) {
	op, ok := v.operatorFor(w, r, c)
	if !ok {
		return
	}
	raw, err := sim.ReadBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidJSON, "cannot read the request body")
		return
	}
	t, errs := v.parseCreate(raw, c)
	if len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, errs...)
		return
	}
	id := v.nextID()
	t.ID = strconv.FormatInt(id, 10)
	t.CreatedOnUTC = id
	t.Etag = 1
	secret := newSecret()
	t.SecretSHA256 = hashSecret(secret)
	op.AuthTokens[t.ID] = t
	v.env.Changed()
	sim.WriteJSON(w, http.StatusOK, t.body(c.ver, secret))
}

// parseCreate validates a create body with the vendor's rules:
//   - roles: an array of at most 7 {name} (SESSION_INVALID_ROLE_LIST_SIZE),
//     each name one of RoleNames (AUTH_ROLE_INVALID); may be absent or empty.
//   - custom_roles: the spec's CustomRole shape (name required; permissions
//     values at most 500 characters; custom_permissions need value, and
//     tenant_id on the legacy generation whose spec requires it; roles as
//     above). Shape errors are INVALID_JSON_INPUT: the vendor names no code.
//   - expires_utc_ms: required (the vendor SDK lists it as a required
//     attribute), an integer in epoch milliseconds later than now, else
//     INVALID_EXPIRES_UTC_MS. A value in seconds lies in 1970 and fails.
//   - session_key_c: a string of at most 128 characters, else
//     TOKEN_INVALID_SESSION_DATA (the spec's code for session data).
//   - v2.1: id, x_auth_token and is_system_owned are read-only:
//     AUTH_TOKEN_CANNOT_SET_READONLY_FIELDS when one carries a value (null,
//     "" and false, what a client sends to mean "unset", are accepted).
//     v2.0 ignores them.
//
// Unknown fields (such as _etag echoed back) are ignored.
func (v *Vendor) parseCreate(raw []byte, c *call) (*authToken, []apiError) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, []apiError{{Code: codeInvalidJSON, Message: "the body must be a JSON object (AuthToken)"}}
	}
	present := func(k string) (json.RawMessage, bool) {
		r, ok := fields[k]
		r = bytes.TrimSpace(r)
		if !ok || string(r) == "null" {
			return nil, false
		}
		return r, true
	}
	var errs []apiError
	add := func(code, format string, args ...any) {
		errs = append(errs, apiError{Code: code, Message: fmt.Sprintf(format, args...)})
	}
	t := &authToken{Roles: []authRole{}, CustomRoles: []customRole{}}

	if c.ver == "v2.1" {
		var set []string
		for _, k := range []string{"id", "x_auth_token"} {
			if r, ok := present(k); ok {
				var s string
				if json.Unmarshal(r, &s) != nil || s != "" {
					set = append(set, k)
				}
			}
		}
		if r, ok := present("is_system_owned"); ok && string(r) != "false" {
			set = append(set, "is_system_owned")
		}
		if len(set) > 0 {
			add(codeReadonlyFields, "read-only fields cannot be set: %s", strings.Join(set, ", "))
		}
	}

	if r, ok := present("roles"); ok {
		var items []json.RawMessage
		if err := json.Unmarshal(r, &items); err != nil {
			add(codeInvalidJSON, "roles must be an array of {\"name\": <role>}")
		} else {
			if len(items) > MaxRoles {
				add(codeRoleListSize, "roles has %d entries; at most %d are allowed", len(items), MaxRoles)
			}
			for i, item := range items {
				var role struct {
					Name *string `json:"name"`
				}
				if err := json.Unmarshal(item, &role); err != nil || role.Name == nil {
					add(codeRoleInvalid, "roles[%d] must be an object {\"name\": <role>}", i)
					continue
				}
				if !v.roles[*role.Name] {
					add(codeRoleInvalid, "roles[%d].name %q is not a valid role", i, *role.Name)
					continue
				}
				t.Roles = append(t.Roles, authRole{Name: *role.Name})
			}
		}
	}

	if r, ok := present("custom_roles"); ok {
		var items []json.RawMessage
		if err := json.Unmarshal(r, &items); err != nil {
			add(codeInvalidJSON, "custom_roles must be an array of CustomRole objects")
		} else {
			for i, item := range items {
				cr, crErrs := v.parseCustomRole(fmt.Sprintf("custom_roles[%d]", i), item, !c.unified)
				errs = append(errs, crErrs...)
				if len(crErrs) == 0 {
					t.CustomRoles = append(t.CustomRoles, cr)
				}
			}
		}
	}

	if r, ok := present("expires_utc_ms"); !ok {
		add(codeInvalidExpires, "expires_utc_ms is required: the expiry time in epoch milliseconds")
	} else if n, err := strconv.ParseInt(string(r), 10, 64); err != nil {
		add(codeInvalidExpires, "expires_utc_ms must be an integer: the expiry time in epoch milliseconds")
	} else if now := v.env.NowMs(); n <= now {
		add(codeInvalidExpires, "expires_utc_ms %d is not in the future (now is %d, in epoch milliseconds)", n, now)
	} else {
		t.ExpiresUTCMs = n
	}

	if r, ok := present("session_key_c"); ok {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			add(codeInvalidSession, "session_key_c must be a string")
		} else if n := utf8.RuneCountInString(s); n > maxSessionKeyC {
			add(codeInvalidSession, "session_key_c has %d characters; at most %d are allowed", n, maxSessionKeyC)
		} else {
			t.SessionKeyC = &s
		}
	}
	return t, errs
}

// parseCustomRole checks one CustomRole; path names it in messages.
func (v *Vendor) parseCustomRole(path string, raw json.RawMessage, legacy bool) (customRole, []apiError) {
	var cr customRole
	var errs []apiError
	add := func(code, format string, args ...any) {
		errs = append(errs, apiError{Code: code, Message: path + fmt.Sprintf(format, args...)})
	}
	if err := json.Unmarshal(raw, &cr); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			add(codeInvalidJSON, ".%s must be %s", te.Field, jsonKind(te.Type))
		} else {
			add(codeInvalidJSON, " must be a CustomRole object")
		}
		return cr, errs
	}
	if cr.Name == nil || *cr.Name == "" {
		add(codeInvalidJSON, ".name is required")
	}
	for i, role := range cr.Roles {
		if !v.roles[role.Name] {
			add(codeRoleInvalid, ".roles[%d].name %q is not a valid role", i, role.Name)
		}
	}
	for _, list := range []struct {
		name  string
		perms []authPermission
	}{{"permissions", cr.Permissions}, {"disallow_permissions", cr.DisallowPermissions}} {
		for i, p := range list.perms {
			if p.Value != nil && utf8.RuneCountInString(*p.Value) > maxPermissionValue {
				add(codeInvalidJSON, ".%s[%d].value has more than %d characters", list.name, i, maxPermissionValue)
			}
		}
	}
	for i, p := range cr.CustomPermissions {
		if p.Value == nil {
			add(codeInvalidJSON, ".custom_permissions[%d].value is required", i)
		}
		if legacy && p.TenantID == nil {
			add(codeInvalidJSON, ".custom_permissions[%d].tenant_id is required", i)
		}
	}
	return cr, errs
}

// jsonKind names the JSON type a Go type decodes from, for messages.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
