package sdwan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/tokenctl/tokenctl/internal/client"
)

// Options configure a Client.
type Options struct {
	API API
	// TenantID and OperatorID are the ids already known (profile, flags);
	// the missing ones are discovered. The unified API needs no tenant id.
	TenantID   string
	OperatorID string
	// Cache keeps discovered ids, filed under CacheServer (the server URL)
	// and CacheIdentity (which credential; never a secret, see
	// TokenIdentity); nil keeps them in memory.
	Cache         Cache
	CacheServer   string
	CacheIdentity string
}

// Identity is the tenant and operator the auth-token paths name.
type Identity struct {
	TenantID   string `json:"tenant_id,omitempty"`
	OperatorID string `json:"operator_id"`
	// Email is the operator's, when the profile call reported it.
	Email string `json:"email,omitempty"`
}

// Identity sources, for reports.
const (
	FromProfile     = "profile"      // the profile's ids or --tenant/--operator
	FromCache       = "cache"        // discovered earlier
	FromProfileCall = "profile call" // discovered now
)

// Client calls the auth-token API of one server.
type Client struct {
	c    *client.Client
	opts Options

	mu     sync.Mutex
	ids    *Identity
	source string

	// pmu guards prof, the last profile call's answer, which discovery
	// reuses instead of asking again.
	pmu  sync.Mutex
	prof *Profile
}

// New wraps an authenticated HTTP client (its Auth a StaticToken or an
// OAuth).
func New(c *client.Client, opts Options) *Client {
	return &Client{c: c, opts: opts}
}

// HTTP is the underlying client.
func (s *Client) HTTP() *client.Client { return s.c }

// API is the generation and version spoken.
func (s *Client) API() API { return s.opts.API }

// TokenIdentity names a static token in the cache without revealing it: the
// first 16 hex digits of its SHA-256.
func TokenIdentity(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "token-sha256:" + hex.EncodeToString(sum[:8])
}

// OAuthIdentity names an OAuth client and TSG in the cache.
func OAuthIdentity(clientID, tsgID string) string {
	return "oauth:" + clientID + "@tsg_id:" + tsgID
}

func (s *Client) cacheKey() string { return "sdwan.ids." + s.opts.CacheIdentity }

// Profile is what tokenctl reads from the profile call: v2.1 documents id,
// session_id and (legacy) tenant_id; real answers, and v2.0's operator
// object, also carry email, roles and region (sdwan.md 2.4).
type Profile struct {
	ID           string     `json:"id"`
	TenantID     string     `json:"tenant_id"`
	SessionID    string     `json:"session_id"`
	Email        string     `json:"email"`
	Region       string     `json:"region"`
	Roles        []AuthRole `json:"roles"`
	TokenSession *bool      `json:"token_session"`
}

// Profile returns the profile call's answer. With OAuth, the call already
// made after a new access token is reused rather than repeated.
func (s *Client) Profile(ctx context.Context) (json.RawMessage, *Profile, error) {
	var raw json.RawMessage
	if o, ok := s.c.Auth().(*OAuth); ok {
		if _, err := o.Token(ctx, s.c); err != nil {
			return nil, nil, err
		}
		raw = o.LastProfile()
	}
	if raw == nil {
		resp, err := s.c.Do(ctx, client.Call{Operation: "get profile", Method: http.MethodGet, Path: s.opts.API.ProfilePath()})
		if err != nil {
			return nil, nil, err
		}
		raw = resp.Body
	}
	var p Profile
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, nil, fmt.Errorf("get profile: unexpected response (not the documented JSON): %w", err)
	}
	s.pmu.Lock()
	s.prof = &p
	s.pmu.Unlock()
	return raw, &p, nil
}

// Identity returns the tenant and operator ids and where they came from:
// the ids given in Options, else the cache, else the profile call (whose
// answer is cached). Ids given in Options always win.
func (s *Client) Identity(ctx context.Context) (Identity, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.identity(ctx, true)
}

// identity resolves the ids. Lock held.
func (s *Client) identity(ctx context.Context, useCache bool) (Identity, string, error) {
	if s.ids != nil {
		return *s.ids, s.source, nil
	}
	needTenant := s.opts.API.Generation == Legacy
	known := Identity{TenantID: s.opts.TenantID, OperatorID: s.opts.OperatorID}
	if !needTenant {
		known.TenantID = ""
	}
	complete := func(id Identity) bool { return id.OperatorID != "" && (!needTenant || id.TenantID != "") }
	overlay := func(id Identity) Identity {
		if known.TenantID != "" {
			id.TenantID = known.TenantID
		}
		if known.OperatorID != "" {
			id.OperatorID = known.OperatorID
		}
		if !needTenant {
			id.TenantID = ""
		}
		return id
	}
	if complete(known) {
		s.ids, s.source = &known, FromProfile
		return known, s.source, nil
	}
	if useCache && s.opts.Cache != nil {
		var cached Identity
		if s.opts.Cache.Get(s.opts.CacheServer, s.cacheKey(), &cached) {
			if id := overlay(cached); complete(id) {
				s.ids, s.source = &id, FromCache
				return id, s.source, nil
			}
		}
	}
	s.pmu.Lock()
	p := s.prof
	s.pmu.Unlock()
	if p == nil {
		var err error
		if _, p, err = s.Profile(ctx); err != nil {
			return Identity{}, "", err
		}
	}
	found := Identity{TenantID: p.TenantID, OperatorID: p.ID, Email: p.Email}
	id := overlay(found)
	if !complete(id) {
		missing := "operator id (\"id\")"
		if id.OperatorID != "" {
			missing = "tenant_id"
		}
		return Identity{}, "", fmt.Errorf("the profile call (GET %s) returned no %s: set the ids with `tokenctl profile set NAME --tenant ID --operator ID`, or pass --tenant and --operator", s.opts.API.ProfilePath(), missing)
	}
	if s.opts.Cache != nil {
		// Cache what the server said, not the overrides, so that a later
		// run without them gets the credential's own ids.
		_ = s.opts.Cache.Set(s.opts.CacheServer, s.cacheKey(), found)
	}
	s.ids, s.source = &id, FromProfileCall
	return id, s.source, nil
}

// staleIDCodes are the 400 codes of a path naming a tenant or operator the
// credential does not belong to (spec: ESP_INVALID_TENANT_DATA,
// TOKEN_INVALID_OPERATOR_ID).
var staleIDCodes = []string{"ESP_INVALID_TENANT_DATA", "TOKEN_INVALID_OPERATOR_ID"}

// withIDs runs fn with the ids. When ids from the cache are refused as
// another tenant's or operator's (a stale cache: the credential changed),
// the entry is dropped, the ids rediscovered, and fn runs once more; a 400
// means the server did nothing, so the retry is safe for a create too.
func (s *Client) withIDs(ctx context.Context, fn func(Identity) error) error {
	s.mu.Lock()
	ids, source, err := s.identity(ctx, true)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	err = fn(ids)
	if err == nil || source != FromCache || !hasCode(err, staleIDCodes) {
		return err
	}
	s.mu.Lock()
	if s.ids != nil && *s.ids == ids {
		_ = s.opts.Cache.Delete(s.opts.CacheServer, s.cacheKey())
		s.ids = nil
	}
	ids, _, ierr := s.identity(ctx, false)
	s.mu.Unlock()
	if ierr != nil {
		return ierr
	}
	return fn(ids)
}

func hasCode(err error, codes []string) bool {
	for _, c := range ErrorCodes(err) {
		if slices.Contains(codes, c) {
			return true
		}
	}
	return false
}

// ListAuthTokens calls fn with each item of the operator's auth tokens, as
// the server sent it (the caller blanks secrets before printing). The
// collection has no documented paging. It returns the number of items.
func (s *Client) ListAuthTokens(ctx context.Context, fn func(json.RawMessage) error) (int, error) {
	var n int
	err := s.withIDs(ctx, func(ids Identity) error {
		resp, err := s.c.Do(ctx, client.Call{Operation: "list auth tokens", Method: http.MethodGet, Path: s.opts.API.tokensPath(ids)})
		if err != nil {
			return err
		}
		env, err := client.EachItem(resp.Body, "items", fn)
		n = env.Count
		return client.WithOperation("list auth tokens", err)
	})
	return n, err
}

// GetAuthToken returns one auth token as the server sent it.
func (s *Client) GetAuthToken(ctx context.Context, id string) (json.RawMessage, error) {
	var raw json.RawMessage
	err := s.withIDs(ctx, func(ids Identity) error {
		resp, err := s.c.Do(ctx, client.Call{Operation: "get auth token " + id, Method: http.MethodGet, Path: s.opts.API.tokensPath(ids) + "/" + url.PathEscape(id)})
		if err != nil {
			return err
		}
		if !json.Valid(resp.Body) {
			return badResponse("get auth token " + id)
		}
		raw = resp.Body
		return nil
	})
	return raw, err
}

// CreateAuthToken creates a token and returns the answer, the only one that
// carries its x_auth_token (registered with the redactor at once).
func (s *Client) CreateAuthToken(ctx context.Context, req *AuthTokenRequest) (json.RawMessage, error) {
	var raw json.RawMessage
	err := s.withIDs(ctx, func(ids Identity) error {
		resp, err := s.c.Do(ctx, client.Call{Operation: "create auth token", Method: http.MethodPost, Path: s.opts.API.tokensPath(ids), Body: req})
		if err != nil {
			return err
		}
		var created struct {
			ID         string `json:"id"`
			XAuthToken string `json:"x_auth_token"`
		}
		if err := json.Unmarshal(resp.Body, &created); err != nil || created.ID == "" {
			// Most likely created, but neither its id nor its one-time
			// secret can be shown: an unknown outcome, not a failure.
			return client.UnreadableAnswer("create auth token", resp.Status, "the answer is not an auth token with an id; the body may have been cut off")
		}
		s.c.Redactor().AddSecret(created.XAuthToken)
		raw = resp.Body
		return nil
	})
	return raw, err
}

// DeleteAuthToken deletes a token and returns the deleted object (the
// vendor answers 200 with it). gone is true when the id did not exist (404),
// which counts as deleted: deletes are idempotent.
func (s *Client) DeleteAuthToken(ctx context.Context, id string) (raw json.RawMessage, gone bool, err error) {
	err = s.withIDs(ctx, func(ids Identity) error {
		resp, err := s.c.Do(ctx, client.Call{Operation: "delete auth token " + id, Method: http.MethodDelete, Path: s.opts.API.tokensPath(ids) + "/" + url.PathEscape(id)})
		var ae *client.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			gone = true
			return nil
		}
		if err != nil {
			return err
		}
		raw = resp.Body
		return nil
	})
	return raw, gone, err
}

func badResponse(op string) error {
	return &client.APIError{Operation: op, Status: 200, Code: 1, Message: "unexpected response: not JSON"}
}
