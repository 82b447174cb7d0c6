package sdwan

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// StaticToken authenticates legacy calls with the X-Auth-Token header.
type StaticToken struct {
	Token string
}

// Apply implements client.Auth.
func (s *StaticToken) Apply(_ context.Context, _ *client.Client, r *resty.Request) error {
	r.SetHeader("X-Auth-Token", s.Token)
	return nil
}

// Renew implements client.Auth: a rejected static token stays rejected
// (expired or deleted; nothing can renew it).
func (s *StaticToken) Renew(context.Context, *client.Client, *client.Response) (bool, error) {
	return false, nil
}

// Cache keeps run-time discoveries between runs, keyed by server URL
// (config.Cache implements it).
type Cache interface {
	Get(server, key string, v any) bool
	Set(server, key string, v any) error
	Delete(server, key string) error
}

// Access-token timing. pan.dev: "Access tokens have a lifespan of 15
// minutes"; the unified SDK regenerates the token when 60 s or less remain.
const (
	accessTokenLifetime = 15 * time.Minute
	refreshMargin       = 60 * time.Second
)

// unifiedProfilePath is the call pan.dev requires "immediately after
// generating an access token": GET /sdwan/v2.1/api/profile, whatever version
// the later calls use.
const unifiedProfilePath = "/sdwan/v2.1/api/profile"

// OAuthConfig configures an OAuth.
type OAuthConfig struct {
	// AuthURL is the token endpoint; DefaultAuthURL when "".
	AuthURL      string
	ClientID     string
	ClientSecret string
	TSGID        string
	// HTTP holds the API client's options (TLS, timeout, debug log and its
	// Redactor, which the token endpoint's client shares).
	HTTP client.Options
	// Cache keeps access tokens until they expire, filed under CacheServer
	// (the API server) and the client id; nil keeps them in memory only.
	Cache       Cache
	CacheServer string
	// Now is the clock; time.Now when nil (tests inject one).
	Now func() time.Time
}

// OAuth authenticates unified calls with an OAuth2 client-credentials access
// token (pan.dev access-tokens.md): POST to the token endpoint with HTTP
// Basic client_id:client_secret and grant_type=client_credentials&
// scope=tsg_id:<tsg>, then "Authorization: Bearer <access_token>".
//
// After every new access token, and before anything else is sent with it,
// it makes the profile call the API requires (else every other call is 403).
// A token is reused, from memory or the cache, until 60 s before it expires;
// a 401 (or a 403 on a token this process did not mint) gets one new token.
//
// The scope is "tsg_id:<tsg>" as pan.dev documents it; the unified SDK adds
// " email profile", and the vendor's change of that format once broke logins
// (prisma-sase-sdk-python#3), so tokenctl sends the documented minimum.
type OAuth struct {
	cfg      OAuthConfig
	endpoint *client.Client
	path     string

	mu      sync.Mutex
	token   string
	expires time.Time
	// fresh is true when this process minted the token and made its
	// profile call; a cached token may belong to a server that forgot it.
	fresh bool
	// loaded is true once the cache was consulted.
	loaded bool
	// profile is the body of the profile call made for the current token.
	profile json.RawMessage
	// minted counts the access tokens obtained (tests, reports).
	minted int
}

// NewOAuth builds the OAuth auth and the client of its token endpoint.
func NewOAuth(cfg OAuthConfig) (*OAuth, error) {
	if cfg.AuthURL == "" {
		cfg.AuthURL = DefaultAuthURL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u, err := url.Parse(cfg.AuthURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, exit.Usagef("auth_url %q: must be a URL such as %s", cfg.AuthURL, DefaultAuthURL)
	}
	opts := cfg.HTTP
	opts.BaseURL = u.Scheme + "://" + u.Host
	opts.DecodeError = decodeOAuthError
	opts.RetryStatuses = nil
	if opts.Redactor == nil {
		opts.Redactor = client.NewRedactor()
		cfg.HTTP.Redactor = opts.Redactor
	}
	opts.Redactor.AddSecret(cfg.ClientSecret)
	ep, err := client.New(opts, nil)
	if err != nil {
		return nil, err
	}
	path := u.EscapedPath()
	if u.RawQuery != "" {
		path += "?" + u.RawQuery
	}
	return &OAuth{cfg: cfg, endpoint: ep, path: path}, nil
}

// AuthURL is the token endpoint used.
func (o *OAuth) AuthURL() string { return o.cfg.AuthURL }

// Minted is how many access tokens this process obtained.
func (o *OAuth) Minted() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.minted
}

// LastProfile is the body of the profile call made after the current
// access token was minted, or nil when the token came from the cache.
func (o *OAuth) LastProfile() json.RawMessage {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.profile
}

// Apply implements client.Auth.
func (o *OAuth) Apply(ctx context.Context, c *client.Client, r *resty.Request) error {
	tok, err := o.Token(ctx, c)
	if err != nil {
		return err
	}
	r.SetHeader("Authorization", "Bearer "+tok)
	return nil
}

// Renew implements client.Auth. A 401, or a 403 on a token from the cache
// (its profile call may not count any more), gets a new token and its
// profile call. A 401 on a token this process minted is retried once with
// the current token: a concurrent call may just have replaced it.
func (o *OAuth) Renew(ctx context.Context, c *client.Client, resp *client.Response) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fresh {
		return resp.Status == http.StatusUnauthorized, nil
	}
	if err := o.mint(ctx, c); err != nil {
		return false, err
	}
	return true, nil
}

// Token returns a live access token, minting one (and making its profile
// call) when there is none or it expires within a minute.
func (o *OAuth) Token(ctx context.Context, c *client.Client) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.loaded {
		o.loaded = true
		o.loadCached(c)
	}
	if o.token != "" && o.cfg.Now().Before(o.expires.Add(-refreshMargin)) {
		return o.token, nil
	}
	if err := o.mint(ctx, c); err != nil {
		return "", err
	}
	return o.token, nil
}

// cachedToken is the cache entry of an access token. It is keyed by the API
// server and the client id (with the TSG), and names the token endpoint
// that issued it, so another auth_url never reuses it.
type cachedToken struct {
	AccessToken string `json:"access_token"`
	ExpiresAtMs int64  `json:"expires_at_ms"`
	AuthURL     string `json:"auth_url"`
}

func (o *OAuth) cacheKey() string {
	return "sdwan.oauth." + o.cfg.ClientID + "@tsg_id:" + o.cfg.TSGID
}

// loadCached takes a live token from the cache. Lock held.
func (o *OAuth) loadCached(c *client.Client) {
	if o.cfg.Cache == nil {
		return
	}
	var ct cachedToken
	if !o.cfg.Cache.Get(o.cfg.CacheServer, o.cacheKey(), &ct) || ct.AccessToken == "" || ct.AuthURL != o.cfg.AuthURL {
		return
	}
	exp := time.UnixMilli(ct.ExpiresAtMs)
	if !o.cfg.Now().Before(exp.Add(-refreshMargin)) {
		return
	}
	c.Redactor().AddSecret(ct.AccessToken)
	o.token, o.expires, o.fresh = ct.AccessToken, exp, false
}

// tokenResponse is the token endpoint's answer (RFC 6749 section 5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// mint gets a new access token, makes the profile call with it, and caches
// it. Lock held.
func (o *OAuth) mint(ctx context.Context, c *client.Client) error {
	o.token, o.profile, o.fresh = "", nil, false
	start := o.cfg.Now()
	basic := base64.StdEncoding.EncodeToString([]byte(o.cfg.ClientID + ":" + o.cfg.ClientSecret))
	resp, err := o.endpoint.Do(ctx, client.Call{
		Operation: "get OAuth access token from " + o.cfg.AuthURL,
		Method:    http.MethodPost,
		Path:      o.path,
		Form:      url.Values{"grant_type": {"client_credentials"}, "scope": {"tsg_id:" + o.cfg.TSGID}},
		NoAuth:    true,
		// Asking twice only mints two tokens.
		Idempotent: client.True(),
		// A token fetch changes nothing the user administers: --dry-run
		// fetches one.
		Read:   true,
		Header: http.Header{"Authorization": {"Basic " + basic}},
	})
	if err != nil {
		return err
	}
	var tr tokenResponse
	if err := resp.JSON(&tr); err != nil {
		return fmt.Errorf("get OAuth access token: %w", err)
	}
	if tr.AccessToken == "" {
		return fmt.Errorf("get OAuth access token: the answer has no access_token")
	}
	if tt := strings.ToLower(tr.TokenType); tt != "" && tt != "bearer" {
		return fmt.Errorf("get OAuth access token: token_type %q, want Bearer", tr.TokenType)
	}
	c.Redactor().AddSecret(tr.AccessToken)
	o.endpoint.Redactor().AddSecret(tr.AccessToken)
	lifetime := accessTokenLifetime
	if tr.ExpiresIn > 0 {
		lifetime = time.Duration(tr.ExpiresIn) * time.Second
	}
	// Timed from before the request, so the token is never thought to live
	// longer than it does.
	expires := start.Add(lifetime)
	o.minted++

	prof, err := c.Do(ctx, client.Call{
		Operation: "profile call after a new access token (GET " + unifiedProfilePath + ", required by the SD-WAN API)",
		Method:    http.MethodGet,
		Path:      unifiedProfilePath,
		NoAuth:    true,
		Header:    http.Header{"Authorization": {"Bearer " + tr.AccessToken}},
	})
	if err != nil {
		return err
	}
	o.token, o.expires, o.fresh, o.profile = tr.AccessToken, expires, true, prof.Body
	if o.cfg.Cache != nil {
		// A cache that cannot be written costs a token per run, nothing more.
		_ = o.cfg.Cache.Set(o.cfg.CacheServer, o.cacheKey(), cachedToken{AccessToken: tr.AccessToken, ExpiresAtMs: expires.UnixMilli(), AuthURL: o.cfg.AuthURL})
	}
	return nil
}

// oauthError is the token endpoint's error body (RFC 6749 section 5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func decodeOAuthError(_ int, body []byte) *client.VendorError {
	var e oauthError
	if json.Unmarshal(body, &e) != nil || (e.Error == "" && e.Description == "") {
		return DecodeError(0, body)
	}
	switch {
	case e.Description != "" && e.Error != "":
		return &client.VendorError{Message: e.Description + " (" + e.Error + ")"}
	case e.Description != "":
		return &client.VendorError{Message: e.Description}
	}
	return &client.VendorError{Message: e.Error}
}
