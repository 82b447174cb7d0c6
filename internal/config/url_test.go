package config

import (
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
)

func TestCheckServerURL(t *testing.T) {
	good := []string{
		"https://ssp.example.com", "http://127.0.0.1:8080", "https://[::1]:8443", "https://nsx-01.lab.example.com/proxy/ssp",
		"https://host_with_underscore.corp", "https://10.0.0.1", "https://example.com.", "https://h:65535",
	}
	for _, u := range good {
		if err := CheckServerURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	bad := map[string]string{
		"":                         "empty",
		"ftp://x":                  "must start with https://",
		"ssp.example.com":          "must start with https://",
		"https://":                 "no host",
		"https://:443":             "no host",
		"https://host:0":           "1 to 65535",
		"https://host:65536":       "1 to 65535",
		"https://host:":            "1 to 65535",
		"https://host:abc":         "not a URL",
		"https://host?x=1":         "query",
		"https://host?":            "query",
		"https://host#top":         "fragment",
		"https://ho st":            "space",
		"https://host/a\tb":        "space or control",
		"https://admin:pw@host":    "credentials",
		"https://token@host":       "credentials",
		"https://[::1":             "not a URL",
		"http://-bad-.example":     "well-formed",
		"https://a..b":             "well-formed",
		"https://bad!host.example": "well-formed",
		"mailto:admin@example.com": "not a URL",
	}
	for u, want := range bad {
		err := CheckServerURL(u)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error containing %q", u, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "pw@") {
			t.Errorf("%q: the error shows the password: %v", u, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://admin:pw@host/x?y#z": "https://REDACTED@host/x?y#z",
		"https://tok@host":            "https://REDACTED@host",
		"https://host/a@b":            "https://host/a@b",
		"https://host":                "https://host",
		"not a url":                   "not a url",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// A server URL with credentials is refused wherever it comes from, naming
// where, and the error never shows the password.
func TestResolveRefusesUserinfo(t *testing.T) {
	const secret = "hunter2-secret"
	withUser := "https://admin:" + secret + "@ssp.example.com"
	f := &File{CurrentProfile: "p", Profiles: map[string]*Profile{
		"p":    {Platform: SSP, Server: "https://ssp.example.com", Username: "admin"},
		"bad":  {Platform: SSP, Server: withUser},
		"oidc": {Platform: SDWAN, Server: "https://api.example.com", AuthURL: withUser},
	}}
	cases := []struct {
		name  string
		ov    overrides
		where string
	}{
		{"flag", overrides{"server": flag(withUser)}, "--server"},
		{"env", overrides{"server": env(withUser)}, "TOKENCTL_SERVER"},
		{"profile", overrides{"profile": flag("bad")}, `profile "bad": server`},
		{"auth_url", overrides{"profile": flag("oidc")}, `profile "oidc": auth_url`},
	}
	for _, c := range cases {
		_, err := Resolve(f, c.ov)
		if err == nil || exit.CodeOf(err) != exit.Usage {
			t.Errorf("%s: %v, want exit 2", c.name, err)
			continue
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, c.where+":") || !strings.Contains(msg, "--username") || !strings.Contains(msg, "--password-env") || strings.Contains(msg, secret) {
			t.Errorf("%s: %q", c.name, msg)
		}
	}
	_, err := Resolve(f, overrides{"server": env("https://host:99999")})
	if err == nil || !strings.HasPrefix(err.Error(), "TOKENCTL_SERVER:") {
		t.Errorf("a bad TOKENCTL_SERVER must be named: %v", err)
	}
}
