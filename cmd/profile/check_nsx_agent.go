package profile

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
)

// checkNSX proves the credentials and finds out whether the manager has the
// 4.x body calls, without creating or touching any real token: it retrieves
// a random token, which cannot exist (see nsx.Client.ProbeBodyCalls). NSX
// documents no call that names the caller, so the identity is what the
// profile presents.
func checkNSX(ctx context.Context, c *client.Client, p *config.Resolved) (*checkResult, error) {
	n := cmdutil.NewNSX(c, p)
	body, err := n.ProbeBodyCalls(ctx)
	if err != nil {
		return nil, err
	}
	res := &checkResult{versions: map[string]string{}}
	if body {
		res.versions["nsx registration-token"] = "4.x body calls (POST .../retrieve and .../delete): tokens stay out of URLs"
	} else {
		res.versions["nsx registration-token"] = "no body calls (pre-4.x manager): get and delete fall back to GET/DELETE .../{token}, which puts the token in the URL"
		res.notes = append(res.notes, "tokens passed to get/delete travel in the URL path on this manager and may appear in its access logs")
	}
	switch p.Auth {
	case config.AuthSession:
		res.identity = p.Username + " (session: JSESSIONID + X-XSRF-TOKEN, destroyed at exit)"
	case config.AuthCert:
		res.identity = "principal identity " + certSubject(p.CertFile) + " (client certificate)"
	default:
		res.identity = p.Username + " (HTTP Basic)"
	}
	return res, nil
}

// certSubject names a client certificate by subject and SHA-256.
func certSubject(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return path
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return path
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return path
	}
	return fmt.Sprintf("%s, SHA-256 %s", cert.Subject, client.Thumbprint(cert))
}

// checkAgent detects the API generation afresh (the profile's api_version,
// when set, is verified instead) and caches it. The token list needs a
// Bamboo administrator, so an answer proves the account is one.
func checkAgent(ctx context.Context, c *client.Client, p *config.Resolved) (*checkResult, error) {
	a := cmdutil.NewAgent(c, p)
	var version, how string
	if p.APIVersion != "" {
		if _, err := a.ListTokens(ctx, func(json.RawMessage) error { return nil }); err != nil {
			return notAdmin(p, err)
		}
		version, how = p.APIVersion, "set in the profile (api_version)"
	} else {
		v, err := a.Detect(ctx)
		if err != nil {
			return notAdmin(p, err)
		}
		version, how = v, "detected"
	}
	desc := map[string]string{
		agent.VersionCurrent: "current: " + agent.CurrentTokensPath + " (plugin 1.5 or later)",
		agent.VersionLegacy:  "legacy: " + agent.LegacyTokensPath + " (plugin before 1.5)",
	}[version]
	return &checkResult{
		identity:    p.Username + " (HTTP Basic; a Bamboo administrator: the token list answered)",
		permissions: "can list and manage agent tokens",
		versions:    map[string]string{"agent-config": desc + ", " + how},
	}, nil
}

// notAdmin reports a 403 from the agent-config API: the server knew the
// user (a wrong password is 401) but every token call needs a Bamboo
// administrator, so nothing tokenctl does will work: exit 3 still.
// INFERRED: the plugin documents neither answer; 401 for unknown
// credentials and 403 for a non-administrator is Atlassian REST's habit.
func notAdmin(p *config.Resolved, err error) (*checkResult, error) {
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden {
		return nil, err
	}
	return &checkResult{
		credentials: "accepted (403, not 401), but the user is not a Bamboo administrator",
		identity:    p.Username + " (HTTP Basic)",
		permissions: "none: every agent-config token call needs a Bamboo administrator",
	}, err
}
