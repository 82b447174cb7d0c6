package client

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Redacted replaces every secret in debug output.
const Redacted = "[REDACTED]"

// sensitiveHeaders never appear in --debug output with their values.
var sensitiveHeaders = []string{
	"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie",
	"X-Xsrf-Token", "X-Auth-Token",
}

// defaultSecretKeys are JSON or form fields whose values are secrets on some
// platform: SSP passphrases, NSX tokens, SD-WAN auth and access tokens,
// OAuth client secrets, NSX session passwords.
var defaultSecretKeys = []string{
	"passphrase", "password", "j_password", "token", "x_auth_token",
	"access_token", "refresh_token", "client_secret", "session_key_c",
}

// urlUserinfoRE finds credentials in URLs (https://user:password@host).
var urlUserinfoRE = regexp.MustCompile(`(?i)(\bhttps?://)[^/?#\s@"']+@`)

// Redactor scrubs secrets from debug output: sensitive headers, secret
// JSON/form fields by name, and any known secret value wherever it appears
// (an agent uuid in a URL path, an NSX token in a fallback GET).
type Redactor struct {
	mu     sync.Mutex
	values []string
	keys   map[string]bool
	keyRE  *regexp.Regexp
	formRE *regexp.Regexp
}

// NewRedactor returns a redactor with the default secret fields.
func NewRedactor() *Redactor {
	r := &Redactor{keys: map[string]bool{}}
	r.AddKeys(defaultSecretKeys...)
	return r
}

// AddKeys marks more JSON/form field names as secret (e.g. "uuid" for the
// agent platform).
func (r *Redactor) AddKeys(keys ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		r.keys[k] = true
	}
	names := make([]string, 0, len(r.keys))
	for k := range r.keys {
		names = append(names, regexp.QuoteMeta(k))
	}
	sort.Strings(names)
	alt := strings.Join(names, "|")
	r.keyRE = regexp.MustCompile(`("(?:` + alt + `)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	r.formRE = regexp.MustCompile(`((?:^|[&?])(?:` + alt + `)=)[^&\s]*`)
}

// AddSecret registers a secret value to scrub wherever it appears.
func (r *Redactor) AddSecret(v string) {
	if len(v) < 4 { // too short to scrub without mangling other text
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.values {
		if s == v {
			return
		}
	}
	r.values = append(r.values, v)
	// Longest first, so a secret containing another is scrubbed whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
}

// String scrubs known secret values and secret fields from s.
func (r *Redactor) String(s string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, Redacted)
	}
	s = r.keyRE.ReplaceAllString(s, `$1"`+Redacted+`"`)
	s = r.formRE.ReplaceAllString(s, `${1}`+Redacted)
	s = urlUserinfoRE.ReplaceAllString(s, `${1}`+Redacted+`@`)
	return s
}

// Header scrubs a header set for logging. It replaces the value slices
// instead of writing into them: resty's log copy of the headers shares them
// with the request that is about to be sent.
func (r *Redactor) Header(h http.Header) {
	for k, vs := range h {
		sensitive := false
		for _, name := range sensitiveHeaders {
			if http.CanonicalHeaderKey(k) == name {
				sensitive = true
			}
		}
		out := make([]string, len(vs))
		for i, v := range vs {
			switch {
			case sensitive && http.CanonicalHeaderKey(k) == "Authorization":
				// Keep the scheme, which helps debugging.
				if scheme, _, ok := strings.Cut(v, " "); ok {
					out[i] = scheme + " " + Redacted
				} else {
					out[i] = Redacted
				}
			case sensitive:
				out[i] = Redacted
			default:
				out[i] = r.String(v)
			}
		}
		h[k] = out
	}
}
