package cmdutil

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	sdwansandbox "github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// sdwanAuth sets the SD-WAN client options (the _error decoder, the
// vendor's retry statuses) and resolves the credentials of the profile's
// generation: legacy sends a static X-Auth-Token, unified an OAuth access
// token. Every secret is registered with the redactor before any call.
//
// The built-in sandbox speaks the legacy generation, v2.1, with its static
// token: it needs nothing but a fixed secret, and the in-process emulator
// forgets OAuth access tokens between runs anyway. The unified generation is
// tried against `tokenctl sandbox serve` with an oauth profile.
func (f *Factory) sdwanAuth(ctx context.Context, p *config.Resolved, opts *client.Options) (client.Auth, error) {
	if p.Sandbox {
		p.Auth, p.APIGeneration = config.AuthToken, sdwan.Legacy
		p.SetStaticToken(sdwansandbox.StaticAuthToken)
	}
	api, err := sdwan.ResolveAPI(p.APIGeneration, p.APIVersion, p.Auth)
	if err != nil {
		return nil, err
	}
	opts.DecodeError = sdwan.DecodeError
	opts.RetryStatuses = sdwan.RetryStatuses
	if opts.Redactor == nil {
		opts.Redactor = client.NewRedactor()
	}
	if api.Generation == sdwan.Legacy {
		if p.Auth != "" && p.Auth != config.AuthToken {
			return nil, exit.Usagef("%s: auth %q does not go with the legacy SD-WAN API, which takes a static token (auth: token)", profileLabel(p), p.Auth)
		}
		token, err := f.staticToken(ctx, p)
		if err != nil {
			return nil, err
		}
		opts.Redactor.AddSecret(token)
		return &sdwan.StaticToken{Token: token}, nil
	}
	if p.Auth != "" && p.Auth != config.AuthOAuth {
		return nil, exit.Usagef("%s: auth %q does not go with the unified SD-WAN API, which takes OAuth client credentials (auth: oauth)", profileLabel(p), p.Auth)
	}
	var problems []exit.Problem
	if p.ClientID == "" {
		problems = append(problems, exit.Problem{Field: "client_id", Rule: fmt.Sprintf("the unified API needs an OAuth client (service account): `tokenctl profile set %s --client-id ID`", profileRef(p))})
	}
	if p.TSGID == "" {
		problems = append(problems, exit.Problem{Field: "tsg_id", Rule: fmt.Sprintf("the unified API needs the tenant service group for the OAuth scope: `tokenctl profile set %s --tsg-id ID`", profileRef(p))})
	}
	if len(problems) > 0 {
		return nil, exit.Problems(problems)
	}
	secret, err := f.clientSecret(ctx, p)
	if err != nil {
		return nil, err
	}
	opts.Redactor.AddSecret(secret)
	authURL := p.AuthURL
	if authURL == "" {
		authURL = sdwan.DefaultAuthURL
	}
	f.WarnPlainHTTP(authURL, "your OAuth client secret")
	httpOpts := *opts
	if !sameHost(authURL, p.Server) {
		// A pinned thumbprint is the API server's certificate, not the
		// token endpoint's.
		httpOpts.TLS.Thumbprint = ""
	}
	var cache sdwan.Cache
	if !p.Sandbox {
		if c, err := config.OpenCache(); err == nil {
			cache = c
		}
	}
	return sdwan.NewOAuth(sdwan.OAuthConfig{
		AuthURL:      authURL,
		ClientID:     p.ClientID,
		ClientSecret: secret,
		TSGID:        p.TSGID,
		HTTP:         httpOpts,
		Cache:        cache,
		CacheServer:  p.Server,
	})
}

func sameHost(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.Host, ub.Host)
}

// staticToken returns the legacy static token: TOKENCTL_TOKEN, else the
// profile's token, token_env or token_command, else a hidden prompt at a
// terminal.
func (f *Factory) staticToken(ctx context.Context, p *config.Resolved) (string, error) {
	token, ok, err := p.StaticToken(ctx)
	if err != nil {
		return "", err
	}
	if ok {
		return token, nil
	}
	if !f.IOStreams.CanPrompt() {
		return "", exit.Usagef("%s has no SD-WAN static auth token: set TOKENCTL_TOKEN, point the profile at one (`tokenctl profile set %s --token-env VAR` or --token-command CMD), store it (`... --token-stdin`), or run in a terminal to be asked", profileLabel(p), profileRef(p))
	}
	token, err = f.Prompter.Password(fmt.Sprintf("SD-WAN static auth token (X-Auth-Token) for %s", p.Server))
	if err != nil {
		return "", err
	}
	if token == "" {
		return "", exit.Usagef("no static auth token was given")
	}
	p.SetStaticToken(token)
	return token, nil
}

// clientSecret returns the unified OAuth client secret: TOKENCTL_PASSWORD,
// else the profile's client_secret, client_secret_env or
// client_secret_command, else a hidden prompt at a terminal.
func (f *Factory) clientSecret(ctx context.Context, p *config.Resolved) (string, error) {
	secret, ok, err := p.ClientSecretValue(ctx)
	if err != nil {
		return "", err
	}
	if ok {
		return secret, nil
	}
	if !f.IOStreams.CanPrompt() {
		return "", exit.Usagef("%s has no OAuth client secret: set TOKENCTL_PASSWORD, point the profile at one (`tokenctl profile set %s --client-secret-env VAR` or --client-secret-command CMD), store it (`... --client-secret-stdin`), or run in a terminal to be asked", profileLabel(p), profileRef(p))
	}
	secret, err = f.Prompter.Password(fmt.Sprintf("OAuth client secret of %s", p.ClientID))
	if err != nil {
		return "", err
	}
	if secret == "" {
		return "", exit.Usagef("no client secret was given")
	}
	p.SetPassword(secret)
	return secret, nil
}

// SDWANIDs are the --tenant and --operator overrides of a command.
type SDWANIDs struct {
	TenantID   string
	OperatorID string
}

// SDWANClient connects the current SD-WAN profile and returns the typed
// client. Ids: --tenant/--operator, else the profile's tenant_id and
// operator_id, else the cache (per server and credential), else the
// profile call, whose answer is cached. The built-in sandbox caches nothing:
// its port changes every run.
func (f *Factory) SDWANClient(ctx context.Context, ids SDWANIDs) (*sdwan.Client, *config.Resolved, error) {
	p, err := f.Profile()
	if err != nil {
		return nil, nil, err
	}
	if p.Platform != config.SDWAN {
		return nil, nil, exit.Usagef("%s is a %s profile, not sdwan", profileLabel(p), p.Platform)
	}
	c, p, err := f.APIClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	return NewSDWAN(c, p, ids)
}

// NewSDWAN wraps a connected SD-WAN client (see SDWANClient).
func NewSDWAN(c *client.Client, p *config.Resolved, ids SDWANIDs) (*sdwan.Client, *config.Resolved, error) {
	api, err := sdwan.ResolveAPI(p.APIGeneration, p.APIVersion, p.Auth)
	if err != nil {
		return nil, nil, err
	}
	if ids.TenantID != "" && api.Generation == sdwan.Unified {
		return nil, nil, exit.Usagef("--tenant does not apply to the unified SD-WAN API: its paths name no tenant (the access token's TSG scope decides)")
	}
	opts := sdwan.Options{API: api, TenantID: p.TenantID, OperatorID: p.OperatorID, CacheServer: p.Server}
	if ids.TenantID != "" {
		opts.TenantID = ids.TenantID
	}
	if ids.OperatorID != "" {
		opts.OperatorID = ids.OperatorID
	}
	switch a := c.Auth().(type) {
	case *sdwan.StaticToken:
		opts.CacheIdentity = sdwan.TokenIdentity(a.Token)
	case *sdwan.OAuth:
		opts.CacheIdentity = sdwan.OAuthIdentity(p.ClientID, p.TSGID)
	}
	if !p.Sandbox && opts.CacheIdentity != "" {
		if cache, err := config.OpenCache(); err == nil {
			opts.Cache = cache
		}
	}
	return sdwan.New(c, opts), p, nil
}
