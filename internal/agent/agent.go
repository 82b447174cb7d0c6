// Package agent is the typed client of the admin token API of the "Agent
// APIs for Bamboo" plugin (agent-config; ../shared/api/agent-config.md):
// list, create and update agent tokens, under /rest/agent-config/1.0/tokens/
// from plugin 1.5 on and /rest/agent/1.0/tokens/ before.
//
// A token's uuid is both its id and the secret that agents pass: the client
// marks the "uuid" JSON field as secret for --debug and registers every uuid
// it is given or receives with the redactor before any call carries it.
// Errors name tokens by a masked label, never by the uuid.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// API generations, as a profile's api_version names them.
const (
	// VersionCurrent is plugin 1.5 and later: /rest/agent-config/1.0.
	VersionCurrent = "current"
	// VersionLegacy is before 1.5: /rest/agent/1.0.
	VersionLegacy = "legacy"
)

// Collection paths of each generation, as the vendor's page writes them.
const (
	CurrentTokensPath = "/rest/agent-config/1.0/tokens/"
	LegacyTokensPath  = "/rest/agent/1.0/tokens/"
)

// CacheKeyVersion is the cache entry (per server) of the detected generation.
const CacheKeyVersion = "agent_api_version"

// Token is the plugin's token object.
type Token struct {
	// UUID is "the key that requests to Agent State Operations must pass".
	UUID string `json:"uuid"`
	// Name is informational only.
	Name string `json:"name"`
	// Read: can the token read agent state.
	Read bool `json:"read"`
	// Change: can the token alter agent state (enable/disable).
	Change bool `json:"change"`
}

// TokenRequest is a create's body, and the fields of a manifest document.
type TokenRequest struct {
	Name   string `json:"name"`
	Read   bool   `json:"read"`
	Change bool   `json:"change"`
}

// Validate checks a request before it is sent. The vendor documents no
// rules; a name is required because every documented example has one and
// the name is how people tell tokens apart ("informational only").
func (r *TokenRequest) Validate(source string) []exit.Problem {
	if strings.TrimSpace(r.Name) == "" {
		return []exit.Problem{{Source: source, Field: "name", Rule: "required (--name)"}}
	}
	return nil
}

// Change is an update: nil fields keep the token's current values.
type Change struct {
	Name   *string
	Read   *bool
	Change *bool
}

// Empty reports an update that changes nothing.
func (ch Change) Empty() bool { return ch.Name == nil && ch.Read == nil && ch.Change == nil }

// Cache remembers what was discovered about a server between runs;
// *config.Cache implements it. A nil Cache remembers nothing.
type Cache interface {
	Get(server, key string, v any) bool
	Set(server, key string, v any) error
	Delete(server, key string) error
}

// Options configure a Client.
type Options struct {
	// Version forces the generation (VersionCurrent or VersionLegacy), as
	// a profile's api_version does; "" detects it.
	Version string
	Cache   Cache
}

// Client calls one Bamboo's agent-config API.
type Client struct {
	c    *client.Client
	opts Options

	mu      sync.Mutex
	version string
	source  string
}

// Where a generation came from (Version's source).
const (
	FromProfile  = "profile"
	FromCache    = "cache"
	FromDetected = "detected"
)

// New wraps an authenticated HTTP client and marks "uuid" as a secret JSON
// field for --debug.
func New(c *client.Client, opts Options) *Client {
	c.Redactor().AddKeys("uuid")
	return &Client{c: c, opts: opts}
}

// HTTP is the underlying client.
func (a *Client) HTTP() *client.Client { return a.c }

// Label is how errors and notices name a token: masked, never the uuid.
func Label(uuid string) string { return "agent token " + output.Mask(uuid) }

// Version returns the API generation and where it came from: the profile's
// api_version, else the cache, else detection (see Detect).
func (a *Client) Version(ctx context.Context) (version, source string, err error) {
	v, _, err := a.resolve(ctx)
	if err != nil {
		return "", "", err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return v, a.source, nil
}

// resolve settles the generation; when that took a detection, the list body
// the probe fetched is returned too, so a list needs no second call.
func (a *Client) resolve(ctx context.Context) (string, []byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.version != "" {
		return a.version, nil, nil
	}
	switch a.opts.Version {
	case VersionCurrent, VersionLegacy:
		a.version, a.source = a.opts.Version, FromProfile
		return a.version, nil, nil
	case "":
	default:
		return "", nil, exit.Usagef("api_version %q: agent profiles take current or legacy", a.opts.Version)
	}
	if a.opts.Cache != nil {
		var v string
		if a.opts.Cache.Get(a.c.BaseURL(), CacheKeyVersion, &v) && (v == VersionCurrent || v == VersionLegacy) {
			a.version, a.source = v, FromCache
			return v, nil, nil
		}
	}
	v, body, err := a.detect(ctx)
	if err != nil {
		return "", nil, err
	}
	a.version, a.source = v, FromDetected
	return v, body, nil
}

// Detect probes the server as agent-config.md describes, ignoring the
// profile and the cache, and caches the answer: GET on the current
// collection; 200 is plugin 1.5 or later; 404 leads to GET on the legacy
// collection, where 200 is a plugin before 1.5. A 401 or 403 is an
// authentication error, never a version signal. 404 on both means the
// plugin is not there (exit 4).
func (a *Client) Detect(ctx context.Context) (string, error) {
	v, _, err := a.detect(ctx)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.version, a.source = v, FromDetected
	a.mu.Unlock()
	return v, nil
}

func (a *Client) detect(ctx context.Context) (string, []byte, error) {
	resp, err := a.c.Do(ctx, listCall(CurrentTokensPath))
	if err == nil {
		a.remember(VersionCurrent)
		return VersionCurrent, resp.Body, nil
	}
	if !isStatus(err, http.StatusNotFound) {
		return "", nil, err
	}
	resp, err = a.c.Do(ctx, listCall(LegacyTokensPath))
	if err == nil {
		a.remember(VersionLegacy)
		return VersionLegacy, resp.Body, nil
	}
	if isStatus(err, http.StatusNotFound) {
		return "", nil, exit.Errorf(exit.NotFound, "no agent-config API at %s: %s and %s both answer 404; is the \"Agent APIs for Bamboo\" plugin installed and enabled?",
			a.c.BaseURL(), CurrentTokensPath, LegacyTokensPath)
	}
	return "", nil, err
}

func (a *Client) remember(v string) {
	if a.opts.Cache != nil {
		// A failed cache write costs a probe on the next run, nothing more.
		_ = a.opts.Cache.Set(a.c.BaseURL(), CacheKeyVersion, v)
	}
}

// forget drops a cached generation that the server contradicted (a 404 on
// the cached collection: the plugin was upgraded or downgraded).
func (a *Client) forget() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.source != FromCache {
		return false
	}
	a.version, a.source = "", ""
	if a.opts.Cache != nil {
		_ = a.opts.Cache.Delete(a.c.BaseURL(), CacheKeyVersion)
	}
	return true
}

func tokensPath(version string) string {
	if version == VersionLegacy {
		return LegacyTokensPath
	}
	return CurrentTokensPath
}

// createPath is where a create is POSTed. The vendor's pre-1.5 section writes
// the create without the trailing slash (/rest/agent/1.0/tokens), unlike its
// list; tokenctl sends each as documented.
func createPath(version string) string {
	if version == VersionLegacy {
		return strings.TrimSuffix(LegacyTokensPath, "/")
	}
	return CurrentTokensPath
}

func tokenPath(version, uuid string) string {
	return tokensPath(version) + url.PathEscape(uuid)
}

// xsrfHeader goes with every write (POST, PUT, DELETE): Atlassian's XSRF
// guard can refuse a write without it with a 403 that would read as an
// authentication failure. FOUND: the plugin author's own scripts send it
// (../shared/api/agent-config.md, last section); it is harmless elsewhere.
func xsrfHeader() http.Header {
	return http.Header{"X-Atlassian-Token": {"no-check"}}
}

func listCall(path string) client.Call {
	return client.Call{Operation: "list agent tokens", Method: http.MethodGet, Path: path}
}

// list returns the body of the token list.
func (a *Client) list(ctx context.Context) ([]byte, error) {
	v, body, err := a.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if body != nil {
		return body, nil
	}
	resp, err := a.c.Do(ctx, listCall(tokensPath(v)))
	if isStatus(err, http.StatusNotFound) && a.forget() {
		if v, body, err = a.resolve(ctx); err != nil {
			return nil, err
		}
		if body != nil {
			return body, nil
		}
		resp, err = a.c.Do(ctx, listCall(tokensPath(v)))
	}
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// ListTokens passes each token of the list to fn as the vendor's raw JSON,
// in the server's order, and returns how many there were.
func (a *Client) ListTokens(ctx context.Context, fn func(json.RawMessage) error) (int, error) {
	body, err := a.list(ctx)
	if err != nil {
		return 0, err
	}
	n, err := client.EachArrayItem(body, fn)
	return n, client.WithOperation("list agent tokens", err)
}

// FindToken returns the token with this uuid from the list (the API has no
// call that gets one token); exit 4 when no token has it.
func (a *Client) FindToken(ctx context.Context, uuid string) (json.RawMessage, *Token, error) {
	a.c.Redactor().AddSecret(uuid)
	var found json.RawMessage
	var tok Token
	_, err := a.ListTokens(ctx, func(raw json.RawMessage) error {
		var t Token
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("unexpected response: a token is not the documented JSON: %w", err)
		}
		if t.UUID == uuid {
			found, tok = append(json.RawMessage(nil), raw...), t
			return client.ErrStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, client.ErrStop) {
		return nil, nil, err
	}
	if found == nil {
		return nil, nil, exit.Errorf(exit.NotFound, "no %s: the token list has no token with that uuid", Label(uuid))
	}
	return found, &tok, nil
}

// CreateToken creates a token; the response "mirrors request but includes
// the UUID", which is registered with the redactor before it is returned.
func (a *Client) CreateToken(ctx context.Context, req *TokenRequest) (json.RawMessage, *Token, error) {
	v, _, err := a.resolve(ctx)
	if err != nil {
		return nil, nil, err
	}
	const op = "create agent token"
	call := client.Call{Operation: op, Method: http.MethodPost, Path: createPath(v), Body: req, Header: xsrfHeader()}
	resp, err := a.c.Do(ctx, call)
	if isStatus(err, http.StatusNotFound) && a.forget() {
		// The cached generation is stale; a 404 created nothing, so the
		// create can go again to the path detection finds.
		if v, _, err = a.resolve(ctx); err != nil {
			return nil, nil, err
		}
		call.Path = createPath(v)
		resp, err = a.c.Do(ctx, call)
	}
	if err != nil {
		return nil, nil, err
	}
	t, err := decodeToken(op, resp)
	if err != nil {
		// The token was most likely made, but its uuid cannot be shown.
		return nil, nil, client.UnreadableAnswer(op, resp.Status, "the answer is not a token with a uuid; the body may have been cut off")
	}
	a.c.Redactor().AddSecret(t.UUID)
	return resp.Body, t, nil
}

// UpdateToken changes a token's name or permissions. The PUT takes the full
// object, so the token is read from the list first and the fields the change
// leaves nil keep their current values (read-modify-write; a concurrent
// change between the two calls is overwritten, as the API offers no
// precondition).
func (a *Client) UpdateToken(ctx context.Context, uuid string, ch Change) (json.RawMessage, *Token, error) {
	_, cur, err := a.FindToken(ctx, uuid)
	if err != nil {
		return nil, nil, err
	}
	next := *cur
	if ch.Name != nil {
		next.Name = *ch.Name
	}
	if ch.Read != nil {
		next.Read = *ch.Read
	}
	if ch.Change != nil {
		next.Change = *ch.Change
	}
	v, _, err := a.resolve(ctx)
	if err != nil {
		return nil, nil, err
	}
	op := "update " + Label(uuid)
	resp, err := a.c.Do(ctx, client.Call{Operation: op, Method: http.MethodPut, Path: tokenPath(v, uuid), Body: next, Header: xsrfHeader()})
	if err != nil {
		return nil, nil, err
	}
	t, err := decodeToken(op, resp)
	if err != nil {
		return nil, nil, err
	}
	return resp.Body, t, nil
}

// NoDeleteError is a server without a delete call (405, or 404 for a token
// that the list still has). The plugin documents none; revoking means taking
// the token's permissions away.
type NoDeleteError struct {
	Label  string
	Status int
}

func (e *NoDeleteError) Error() string {
	return fmt.Sprintf("delete %s: HTTP %d %s: this agent-config server has no delete call (the plugin documents none).\n"+
		"Revoke the token by taking its permissions away: tokenctl token update UUID --read=false --change=false\n"+
		"(\"-\" as UUID reads it from stdin, keeping it out of shell history)", e.Label, e.Status, http.StatusText(e.Status))
}

// ExitCode implements exit.Coder: the server refused the method (exit 1, as
// for any 405).
func (e *NoDeleteError) ExitCode() int { return exit.Error }

// ErrorDetail implements exit.Detailer.
func (e *NoDeleteError) ErrorDetail() exit.Detail {
	return exit.Detail{Operation: "delete " + e.Label, HTTPStatus: e.Status, Message: "the server has no delete call; use token update UUID --read=false --change=false"}
}

// DeleteToken tries DELETE on the token, which the vendor does not document.
// A 405 is a *NoDeleteError. A 404 is ambiguous (no such route, or no such
// token on a server that has the route), so the list decides: a token still
// listed gets a *NoDeleteError; one that is not is already gone.
func (a *Client) DeleteToken(ctx context.Context, uuid string) (gone bool, err error) {
	a.c.Redactor().AddSecret(uuid)
	v, _, err := a.resolve(ctx)
	if err != nil {
		return false, err
	}
	label := Label(uuid)
	_, err = a.c.Do(ctx, client.Call{Operation: "delete " + label, Method: http.MethodDelete, Path: tokenPath(v, uuid), Header: xsrfHeader()})
	switch {
	case err == nil:
		return false, nil
	case isStatus(err, http.StatusMethodNotAllowed):
		return false, &NoDeleteError{Label: label, Status: http.StatusMethodNotAllowed}
	case isStatus(err, http.StatusNotFound):
		if _, _, ferr := a.FindToken(ctx, uuid); ferr != nil {
			if exit.CodeOf(ferr) == exit.NotFound {
				return true, nil
			}
			return false, ferr
		}
		if now, _, _ := a.resolve(ctx); now != v {
			// The list re-detected a stale cached generation: the DELETE
			// went to the other generation's path; try the right one.
			return a.DeleteToken(ctx, uuid)
		}
		return false, &NoDeleteError{Label: label, Status: http.StatusNotFound}
	}
	return false, err
}

func decodeToken(op string, resp *client.Response) (*Token, error) {
	var t Token
	if err := resp.JSON(&t); err != nil {
		return nil, &client.APIError{Operation: op, Status: resp.Status, Code: exit.Error, Message: err.Error()}
	}
	if t.UUID == "" {
		return nil, &client.APIError{Operation: op, Status: resp.Status, Code: exit.Error, Message: "unexpected response: the token has no uuid"}
	}
	return &t, nil
}

func isStatus(err error, status int) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Status == status
}

// DecodeError reads the Atlassian REST error body {"message": ...,
// "status-code": ...}. Jersey's 404 for an unknown path may be HTML instead;
// the client then shows the text as is.
func DecodeError(status int, body []byte) *client.VendorError {
	var v struct {
		Message    string          `json:"message"`
		StatusCode json.RawMessage `json:"status-code"`
	}
	if json.Unmarshal(body, &v) != nil || v.Message == "" {
		return nil
	}
	return &client.VendorError{Message: v.Message}
}
