// Package nsx is the typed client of VMware NSX Manager's registration-token
// API (../shared/api/nsx.md): create (POST /api/v1/aaa/registration-token),
// the sensor flavour (POST /api/v1/security/sensor-registration-token), and
// get and delete by token value. NSX has no call that lists tokens.
//
// A registration token is a secret and also its own id. Get and delete use
// the 4.x body calls (POST .../retrieve and POST .../delete with a
// RegTokenQuery), so that the token stays out of URLs and access logs, and
// fall back to the deprecated GET and DELETE .../{token} on managers that
// lack them. Which of the two a server has is detected once and cached per
// server (see Cache).
//
// Objects pass through as the vendor's raw JSON; RegistrationToken covers
// what tokenctl itself reads.
package nsx

import (
	"context"
	"crypto/rand"
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

// API paths (Manager API). The Policy API mirrors the aaa paths under
// /policy/api/v1; tokenctl speaks the Manager API, which every release since
// 2.0 documents and which alone has the sensor flavour.
const (
	TokenPath          = "/api/v1/aaa/registration-token"
	SensorTokenPath    = "/api/v1/security/sensor-registration-token"
	SessionCreatePath  = "/api/session/create"
	SessionDestroyPath = "/api/session/destroy"
)

// CacheKeyBodyCalls is the cache entry (per server) that records whether the
// manager has the 4.x retrieve and delete body calls.
const CacheKeyBodyCalls = "nsx_body_calls"

// RegistrationToken is NSX's RegistrationToken schema: token and roles are
// required; user ("User delegated by token") came after 2.x.
type RegistrationToken struct {
	Token string   `json:"token"`
	Roles []string `json:"roles"`
	User  string   `json:"user,omitempty"`
}

// Cache remembers what was discovered about a server between runs;
// *config.Cache implements it. A nil Cache remembers nothing.
type Cache interface {
	Get(server, key string, v any) bool
	Set(server, key string, v any) error
}

// Client calls one NSX manager.
type Client struct {
	c     *client.Client
	cache Cache

	// detect serialises the first body call while the answer is unknown,
	// so that concurrent deletes probe once.
	detect sync.Mutex
	mu     sync.Mutex
	// bodyCalls is nil until known.
	bodyCalls *bool
}

// New wraps an authenticated HTTP client. cache may be nil.
func New(c *client.Client, cache Cache) *Client {
	return &Client{c: c, cache: cache}
}

// HTTP is the underlying client.
func (n *Client) HTTP() *client.Client { return n.c }

// Label is how errors and notices name a token: masked, never the value.
func Label(token string) string { return "registration token " + output.Mask(token) }

// CreateToken creates a registration token with the caller's roles, or with
// sensor set, a sensor registration token (roles ["sensor"]). Neither call
// takes a body. The new token is registered with the redactor before it is
// returned. A create is not retried after the server may have acted.
func (n *Client) CreateToken(ctx context.Context, sensor bool) (json.RawMessage, *RegistrationToken, error) {
	op, path := "create registration token", TokenPath
	if sensor {
		op, path = "create sensor registration token", SensorTokenPath
	}
	resp, err := n.c.Do(ctx, client.Call{Operation: op, Method: http.MethodPost, Path: path})
	if err != nil {
		return nil, nil, createAdvice(op, err)
	}
	var t RegistrationToken
	if err := resp.JSON(&t); err != nil || t.Token == "" {
		// A token was most likely made, and nobody can ever see it.
		uo := client.UnreadableAnswer(op, resp.Status, "the answer is not a token; the body may have been cut off")
		uo.Advice = unseenToken
		return nil, nil, uo
	}
	n.c.Redactor().AddSecret(t.Token)
	return resp.Body, &t, nil
}

// GetToken returns the token's RegistrationToken ("Get the roles associated
// with the given registration token"): POST .../retrieve, or GET
// .../{token} on a manager without body calls. An unknown token is a 404
// APIError (exit 4).
func (n *Client) GetToken(ctx context.Context, token string) (json.RawMessage, error) {
	n.c.Redactor().AddSecret(token)
	op := "get " + Label(token)
	resp, err := n.withBodyCalls(ctx,
		func() (*client.Response, error) {
			// A query sent as a POST body: a read, also for --dry-run.
			return n.c.Do(ctx, client.Call{Operation: op, Method: http.MethodPost, Path: TokenPath + "/retrieve",
				Body: RegTokenQuery{Token: token}, Idempotent: client.True(), Read: true})
		},
		func() (*client.Response, error) {
			return n.c.Do(ctx, client.Call{Operation: op, Method: http.MethodGet, Path: TokenPath + "/" + url.PathEscape(token)})
		})
	if err != nil {
		return nil, notNSX(op, err)
	}
	if !json.Valid(resp.Body) || len(resp.Body) == 0 {
		return nil, unexpected(op, "not JSON")
	}
	return resp.Body, nil
}

// DeleteToken revokes a token: POST .../delete, or DELETE .../{token} on a
// manager without body calls. NSX answers 404 for a token that does not
// exist; since deleting is idempotent, gone reports it instead of an error.
func (n *Client) DeleteToken(ctx context.Context, token string) (gone bool, err error) {
	n.c.Redactor().AddSecret(token)
	op := "delete " + Label(token)
	_, err = n.withBodyCalls(ctx,
		func() (*client.Response, error) {
			// Deleting twice has the effect of deleting once, so the body
			// call is retried like a DELETE.
			return n.c.Do(ctx, client.Call{Operation: op, Method: http.MethodPost, Path: TokenPath + "/delete",
				Body: RegTokenQuery{Token: token}, Idempotent: client.True()})
		},
		func() (*client.Response, error) {
			return n.c.Do(ctx, client.Call{Operation: op, Method: http.MethodDelete, Path: TokenPath + "/" + url.PathEscape(token)})
		})
	if tokenNotFound(op, err) {
		return true, nil
	}
	return false, notNSX(op, err)
}

// tokenNotFound reports NSX's own answer that a token does not exist: a
// 404 to the token call op (not to a login) that carries an ApiError body
// other than "no such call" (269). Anything else is no proof that a token
// is gone: a reverse proxy's or another server's plain 404, or a login
// that failed.
func tokenNotFound(op string, err error) bool {
	var ae *client.APIError
	if err == nil || errors.As(err, new(*LoginError)) || !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Operation != op {
		return false
	}
	code, isAPIError := apiErrorCode(ae.Body)
	return isAPIError && code != unsupportedCode
}

// notNSX turns a 404 of the token call op that is not NSX's not-found
// answer into an unexpected response (exit 1): exit 4 would tell a script
// the token does not exist, which nothing showed.
func notNSX(op string, err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Operation == op && ae.Status == http.StatusNotFound && !tokenNotFound(op, err) && !errors.As(err, new(*LoginError)) {
		return &client.APIError{Operation: ae.Operation, Method: ae.Method, URL: ae.URL, Status: ae.Status, Body: ae.Body, Message: ae.Message, Code: exit.Error,
			Hint: "the answer is not NSX's not-found error (an ApiError body): nothing shows whether the token exists; check that the URL is the NSX manager's"}
	}
	return err
}

// unseenToken replaces the generic "look before retrying" advice after a
// create that may have been carried out: NSX cannot list tokens, so there is
// nothing to look at.
const unseenToken = "the manager may have created a token before the failure; NSX cannot list tokens, so such a token was never shown and nobody holds it: create another one"

// createAdvice applies unseenToken to failures of the create call op
// itself; a failed login (or any other call) sent no create, so it gets
// none.
func createAdvice(op string, err error) error {
	var ae *client.APIError
	var ne *client.NetworkError
	if errors.As(err, new(*LoginError)) {
		return err
	}
	switch {
	case errors.As(err, &ae) && ae.Operation == op && ae.Hint != "" && ae.Status != http.StatusTooManyRequests:
		ae.Hint = unseenToken
	case errors.As(err, &ne) && ne.Operation == op && ne.Hint != "" && !strings.Contains(ne.Hint, "certificate"):
		ne.Hint = unseenToken
	}
	return err
}

// RegTokenQuery is the body of the retrieve and delete calls.
type RegTokenQuery struct {
	Token string `json:"token"`
}

// ProbeBodyCalls finds out, without touching any real token, whether the
// manager has the body calls: it retrieves a random token that cannot exist.
// An NSX not-found answer means the route exists; a missing route means a
// pre-4.x manager, which is then checked with GET .../{random token}. The
// answer replaces the cached one. Authentication failures are returned as
// errors, never taken as an answer.
func (n *Client) ProbeBodyCalls(ctx context.Context) (bool, error) {
	probe, err := randomToken()
	if err != nil {
		return false, err
	}
	n.c.Redactor().AddSecret(probe)
	const op = "probe registration-token retrieve call"
	_, err = n.c.Do(ctx, client.Call{Operation: op, Method: http.MethodPost, Path: TokenPath + "/retrieve",
		Body: RegTokenQuery{Token: probe}, Idempotent: client.True(), Read: true})
	switch classify(err) {
	case routeExists:
		n.remember(true)
		return true, nil
	case routeMissing:
		const getOp = "probe registration-token GET call"
		_, err := n.c.Do(ctx, client.Call{Operation: getOp, Method: http.MethodGet, Path: TokenPath + "/" + probe})
		if err != nil && !tokenNotFound(getOp, err) {
			var ae *client.APIError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound && !errors.As(err, new(*LoginError)) {
				return false, exit.Errorf(exit.NotFound, "no NSX registration-token API at %s: POST %s/retrieve and GET %s/{token} both answered 404 without NSX's error body (ApiError); is this the NSX manager's URL?",
					n.c.BaseURL(), TokenPath, TokenPath)
			}
			return false, err
		}
		n.remember(false)
		return false, nil
	}
	return false, err
}

// BodyCalls reports what is known about the body calls: known is false
// until a call or the cache told.
func (n *Client) BodyCalls() (available, known bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.bodyCalls == nil && n.cache != nil {
		var v bool
		if n.cache.Get(n.c.BaseURL(), CacheKeyBodyCalls, &v) {
			n.bodyCalls = &v
		}
	}
	if n.bodyCalls == nil {
		return false, false
	}
	return *n.bodyCalls, true
}

func (n *Client) remember(v bool) {
	n.mu.Lock()
	n.bodyCalls = &v
	n.mu.Unlock()
	if n.cache != nil {
		// The cache is an optimisation: failing to write it costs a probe
		// on the next run, nothing more.
		_ = n.cache.Set(n.c.BaseURL(), CacheKeyBodyCalls, v)
	}
}

// withBodyCalls runs body when the manager has the body calls and path when
// it does not. While unknown it tries body: an answer from the route (any
// 2xx, a 400 about the query, an NSX not-found) settles it as present; a
// missing route settles it as absent and path runs instead. Other failures
// (authentication, 5xx) settle nothing.
func (n *Client) withBodyCalls(ctx context.Context, body, path func() (*client.Response, error)) (*client.Response, error) {
	if use, known := n.BodyCalls(); known {
		if use {
			return body()
		}
		return path()
	}
	n.detect.Lock()
	defer n.detect.Unlock()
	if use, known := n.BodyCalls(); known {
		if use {
			return body()
		}
		return path()
	}
	resp, err := body()
	switch classify(err) {
	case routeExists:
		n.remember(true)
	case routeMissing:
		// The answer is settled only when the old route answers as NSX
		// does: a plain 404 to both calls means no NSX API here at all.
		resp, err = path()
		if classify(err) == routeExists {
			n.remember(false)
		}
	}
	return resp, err
}

type routeAnswer int

const (
	noSignal routeAnswer = iota
	routeExists
	routeMissing
)

// unsupportedCode is NSX's error_code for "The requested with given URI,
// HTTP method and set of parameters cannot be processed." (seen in the wild
// as the string "269"): the route does not exist.
const unsupportedCode = "269"

// classify reads a body call's outcome as evidence about the route. The
// vendor documents no way to tell "no such call" from "no such token", both
// being 404s; tokenctl takes a 405, NSX's "cannot be processed" error (code
// 269, whatever the status), or a 404 without an NSX ApiError body as a
// missing route, and any other 404 (an ApiError such as code 600 "could not
// be found") as a missing token on a route that exists.
func classify(err error) routeAnswer {
	if err == nil {
		return routeExists
	}
	var ae *client.APIError
	if errors.As(err, new(*LoginError)) || !errors.As(err, &ae) {
		// A failed login sent no token call: it is evidence of nothing.
		return noSignal
	}
	code, isAPIError := apiErrorCode(ae.Body)
	switch {
	case code == unsupportedCode:
		return routeMissing
	case ae.Status == http.StatusMethodNotAllowed:
		return routeMissing
	case ae.Status == http.StatusNotFound && !isAPIError:
		return routeMissing
	case ae.Status == http.StatusNotFound, ae.Status == http.StatusBadRequest:
		return routeExists
	}
	return noSignal
}

// apiErrorCode returns an ApiError body's error_code as text (an integer or,
// on some builds, a string) and whether the body is an ApiError at all.
func apiErrorCode(body []byte) (string, bool) {
	var v map[string]json.RawMessage
	if len(body) == 0 || json.Unmarshal(body, &v) != nil {
		return "", false
	}
	_, hasMsg := v["error_message"]
	_, hasModule := v["module_name"]
	raw, hasCode := v["error_code"]
	if !hasMsg && !hasModule && !hasCode {
		return "", false
	}
	code := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	return code, true
}

func unexpected(op, what string) error {
	return &client.APIError{Operation: op, Status: http.StatusOK, Code: 1, Message: "unexpected response: " + what}
}

// randomToken is a UUID that names no token.
func randomToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
