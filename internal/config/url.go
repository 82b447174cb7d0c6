package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// ErrUserinfo is CheckServerURL's answer to credentials in a URL.
var ErrUserinfo = errors.New("must not hold credentials (user:password@): they would be stored and printed with the URL; use --username with --password-env, --password-command or --password-stdin")

// CheckServerURL checks a server URL fully: http or https, no spaces or
// control characters, a well-formed host (a DNS name or an IP address), a
// port from 1 to 65535 when one is given, no credentials, no query and no
// fragment. A path (a reverse proxy's prefix) is allowed. The error is the
// rule that failed, without the field's name.
func CheckServerURL(raw string) error {
	if raw == "" {
		return errors.New("must not be empty")
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }); i >= 0 {
		return fmt.Errorf("%q has a space or control character at position %d", RedactURL(raw), i+1)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return fmt.Errorf("%q is not a URL such as https://manager.example.com", RedactURL(raw))
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%q must start with https:// (or http:// for a plain-HTTP server)", RedactURL(raw))
	}
	if u.User != nil {
		return ErrUserinfo
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	if !validHost(host) {
		return fmt.Errorf("%q: host %q is not a well-formed DNS name or IP address", raw, host)
	}
	if strings.HasSuffix(u.Host, ":") || port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %q must be a number from 1 to 65535", raw, port)
		}
	}
	if u.RawQuery != "" || u.ForceQuery {
		return fmt.Errorf("%q must not have a query (?...): tokenctl adds each call's own", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q must not have a fragment (#...)", raw)
	}
	return nil
}

// validHost accepts an IP address or a DNS name: dot-separated labels of
// 1 to 63 letters, digits, '-' or '_' that neither start nor end with '-',
// at most 253 characters, and a final dot allowed.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if strings.Contains(h, ":") { // an IPv6 literal that did not parse
		return false
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// RedactURL hides the userinfo (user:password@) of a URL, wherever a URL
// is printed; anything that does not parse as a URL with userinfo is
// returned as it is.
func RedactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return s
	}
	return scheme + "://" + "REDACTED@" + rest[at+1:]
}
