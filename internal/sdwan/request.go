package sdwan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/suggest"
)

// Documented limits ("Max size = N" in the spec's descriptions).
const (
	MaxRoles           = 7
	MaxSessionKeyC     = 128
	MaxPermissionValue = 500
)

// roleNames are the 23 names of AuthRole.name, in the vendor's order.
var roleNames = []string{
	"guest", "system", "element", "support_iam_admin", "support_admin",
	"support_viewonly", "support_mfg", "support_super", "support_root",
	"devops", "secops", "tenant_iam_admin", "tenant_network_admin",
	"tenant_security_admin", "tenant_viewonly", "tenant_super", "tenant_root",
	"esp_iam_admin", "esp_machine_admin", "esp_admin", "esp_user", "esp_super",
	"esp_root",
}

// RoleNames returns the documented role names (AuthRole.name).
func RoleNames() []string { return append([]string(nil), roleNames...) }

// IsRole reports whether name is a documented role name.
func IsRole(name string) bool {
	for _, r := range roleNames {
		if r == name {
			return true
		}
	}
	return false
}

// The request types decode leniently, as every type that may also read a
// server's answer must (the profile call's roles[], a v2.0 server's extra
// fields): a user manifest is made strict by its decoder
// (manifest.Document.Decode), never by the types.

// AuthRole is {name}: one of RoleNames.
type AuthRole struct {
	Name string `json:"name"`
}

// AuthPermission is {value}: at most 500 characters.
type AuthPermission struct {
	Value *string `json:"value,omitempty"`
}

// CustomPermission is the spec's CustomPermission: value required, and
// tenant_id too on the legacy generation (the unified spec has no tenant_id).
type CustomPermission struct {
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

// CustomRole is the spec's CustomRole (name required): the permissions,
// disallowed permissions and custom permissions of a token.
type CustomRole struct {
	CustomPermissions   []CustomPermission `json:"custom_permissions,omitempty"`
	Disabled            *bool              `json:"disabled,omitempty"`
	DisallowPermissions []AuthPermission   `json:"disallow_permissions,omitempty"`
	ID                  *string            `json:"id,omitempty"`
	Inactive            *bool              `json:"inactive,omitempty"`
	Name                string             `json:"name"`
	Permissions         []AuthPermission   `json:"permissions,omitempty"`
	Roles               []AuthRole         `json:"roles,omitempty"`
}

// AuthTokenRequest is the body of POST .../authtokens: the fields of
// AuthToken / AuthTokenV2N1 a client sets. id, x_auth_token and
// is_system_owned are read-only (v2.1 rejects them with
// AUTH_TOKEN_CANNOT_SET_READONLY_FIELDS), so they are no manifest fields.
type AuthTokenRequest struct {
	Roles       []AuthRole   `json:"roles,omitempty"`
	CustomRoles []CustomRole `json:"custom_roles,omitempty"`
	// ExpiresUTCMs is epoch milliseconds. The spec says "expiry time in
	// seconds", but the name, the vendor's own scripts and the API use
	// milliseconds.
	ExpiresUTCMs *int64  `json:"expires_utc_ms,omitempty"`
	SessionKeyC  *string `json:"session_key_c,omitempty"`
}

// ManifestHint implements manifest.Hinter: a role written as a bare name.
func (r *AuthTokenRequest) ManifestHint(field, got string) string {
	if got == "string" && (field == "roles" || strings.HasSuffix(field, ".roles")) {
		return `a role is {"name": ROLE} (the vendor's AuthRole), not a plain string`
	}
	return ""
}

// msBefore2001 bounds values that look like epoch seconds: 10^12 ms is
// September 2001, while 10^12 s is 33 658 AD.
const msBefore2001 = 1_000_000_000_000

// Validate applies the vendor's documented rules: at most 7 roles, each a
// documented name; custom roles with a name, permission values of at most
// 500 characters, custom permissions with a value (and a tenant_id on the
// legacy generation); an expiry in the future, required because the vendor
// SDK lists expires_utc_ms as required and the server rejects a create
// without it; session_key_c of at most 128 characters. Every problem is
// reported, each naming its field.
func (r *AuthTokenRequest) Validate(source string, api API, now time.Time) []exit.Problem {
	var ps []exit.Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, exit.Problem{Source: source, Field: field, Rule: fmt.Sprintf(format, args...)})
	}
	if n := len(r.Roles); n > MaxRoles {
		add("roles", "at most %d roles are allowed (Max size = %d); %d given", MaxRoles, MaxRoles, n)
	}
	for i, role := range r.Roles {
		checkRole(add, fmt.Sprintf("roles[%d].name", i), role.Name)
	}
	for i, cr := range r.CustomRoles {
		path := fmt.Sprintf("custom_roles[%d]", i)
		if strings.TrimSpace(cr.Name) == "" {
			add(path+".name", "required")
		}
		for j, role := range cr.Roles {
			checkRole(add, fmt.Sprintf("%s.roles[%d].name", path, j), role.Name)
		}
		for _, list := range []struct {
			name  string
			perms []AuthPermission
		}{{"permissions", cr.Permissions}, {"disallow_permissions", cr.DisallowPermissions}} {
			for j, p := range list.perms {
				if p.Value != nil && utf8.RuneCountInString(*p.Value) > MaxPermissionValue {
					add(fmt.Sprintf("%s.%s[%d].value", path, list.name, j), "at most %d characters (Max size = %d)", MaxPermissionValue, MaxPermissionValue)
				}
			}
		}
		for j, p := range cr.CustomPermissions {
			if p.Value == nil || *p.Value == "" {
				add(fmt.Sprintf("%s.custom_permissions[%d].value", path, j), "required")
			}
			if api.Generation == Legacy && (p.TenantID == nil || *p.TenantID == "") {
				add(fmt.Sprintf("%s.custom_permissions[%d].tenant_id", path, j), "required by the legacy API")
			}
		}
	}
	switch {
	case r.ExpiresUTCMs == nil:
		add("expires_utc_ms", "required: give --expires DURATION (e.g. 24h, 30d) or --expires-at RFC3339, or expires_utc_ms in epoch milliseconds")
	case *r.ExpiresUTCMs <= now.UnixMilli():
		rule := fmt.Sprintf("%d (%s) is not in the future", *r.ExpiresUTCMs, time.UnixMilli(*r.ExpiresUTCMs).UTC().Format(time.RFC3339))
		if *r.ExpiresUTCMs > 0 && *r.ExpiresUTCMs < msBefore2001 {
			rule += "; it looks like epoch seconds, but the API takes epoch milliseconds"
		}
		add("expires_utc_ms", "%s", rule)
	}
	if r.SessionKeyC != nil {
		if n := utf8.RuneCountInString(*r.SessionKeyC); n > MaxSessionKeyC {
			add("session_key_c", "at most %d characters (Max size = %d); %d given", MaxSessionKeyC, MaxSessionKeyC, n)
		}
	}
	return ps
}

func checkRole(add func(field, format string, args ...any), field, name string) {
	if IsRole(name) {
		return
	}
	if name == "" {
		add(field, "required: a role name")
		return
	}
	if s := closestRole(name); s != "" {
		add(field, "%q is not a documented role (did you mean %q?)", name, s)
		return
	}
	add(field, "%q is not a documented role; roles: %s", name, strings.Join(roleNames, ", "))
}

// closestRole suggests a role name within two edits, or "".
func closestRole(name string) string {
	best, bestD := "", 3
	for _, r := range roleNames {
		if d := suggest.Distance(name, r); d < bestD {
			best, bestD = r, d
		}
	}
	return best
}

// daysRE is compiled on first use, not at start-up.
var daysRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+)d(.*)$`) })

// ParseLifetime parses --expires: a Go duration (90m, 24h, 1h30m) or days
// with a "d" suffix (30d, 1d12h). It must be positive.
func ParseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	rest := s
	if m := daysRE().FindStringSubmatch(s); m != nil {
		days, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || days > 1_000_000 {
			return 0, fmt.Errorf("%q: too many days", s)
		}
		d = time.Duration(days) * 24 * time.Hour
		rest = m[2]
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q: not a duration such as 24h, 30d or 1d12h", s)
		}
		d += r
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: must be positive", s)
	}
	return d, nil
}

// BlankSecret returns raw with a non-empty x_auth_token replaced by "":
// the secret is the create's alone, and a list, get or delete never shows
// it even when a server sends it.
func BlankSecret(raw json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("unexpected response (not the documented JSON): %w", err)
	}
	v, ok := m["x_auth_token"]
	if !ok || string(v) == `""` || string(v) == "null" {
		return raw, nil
	}
	m["x_auth_token"] = json.RawMessage(`""`)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
