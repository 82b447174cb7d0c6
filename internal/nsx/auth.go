package nsx

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"

	"github.com/go-resty/resty/v2"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// SessionAuth is NSX session-based authentication: POST /api/session/create
// with the form fields j_username and j_password answers with a JSESSIONID
// cookie and an X-XSRF-TOKEN header, and "both of these headers should be
// sent with subsequent API requests". The session is created on the first
// call, renewed once when the manager answers 403 (NSX's answer to an
// expired session, not 401), and ended by Close with POST
// /api/session/destroy.
//
// Choices the vendor leaves open:
//   - Any 401 or 403 triggers one new login, since the body of an expired
//     session's 403 is not documented; a permission denial therefore costs a
//     login and a second try before it is reported.
//   - Calls that fail together renew together: each logs in, the last
//     session wins, and the superseded ones idle out on the manager. Only
//     the current session is destroyed at exit.
//   - The cookie is sent as a header, not through a cookie jar, because the
//     manager marks it Secure and a jar would drop it over plain HTTP.
type SessionAuth struct {
	Username string
	Password string

	mu     sync.Mutex
	c      *client.Client
	cookie string
	xsrf   string
	logins int
}

// Apply implements client.Auth: it logs in when there is no session yet and
// sets the cookie and the XSRF header.
func (s *SessionAuth) Apply(ctx context.Context, c *client.Client, r *resty.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cookie == "" {
		if err := s.login(ctx, c); err != nil {
			return err
		}
	}
	r.SetHeader("Cookie", "JSESSIONID="+s.cookie)
	r.SetHeader("X-XSRF-TOKEN", s.xsrf)
	return nil
}

// Renew implements client.Auth: a 401 or 403 gets one new session (the
// client calls Renew at most once per call).
func (s *SessionAuth) Renew(ctx context.Context, c *client.Client, resp *client.Response) (bool, error) {
	if resp.Status != http.StatusForbidden && resp.Status != http.StatusUnauthorized {
		return false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.login(ctx, c); err != nil {
		return false, err
	}
	return true, nil
}

// Logins is how many sessions were created (tests, --debug summaries).
func (s *SessionAuth) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// login creates a session (s.mu held). The password, the session id and the
// XSRF token are registered with the redactor, so --debug shows none of them.
func (s *SessionAuth) login(ctx context.Context, c *client.Client) error {
	c.Redactor().AddSecret(s.Password)
	const op = "create NSX session"
	resp, err := c.Do(ctx, client.Call{
		Operation: op, Method: http.MethodPost, Path: SessionCreatePath, NoAuth: true,
		Form: url.Values{"j_username": {s.Username}, "j_password": {s.Password}},
		// A login changes nothing: --dry-run logs in, and it is retried on
		// 502/503/504 like a read, never "may have been carried out".
		Read: true,
	})
	if err != nil {
		return &LoginError{Err: err}
	}
	var cookie string
	for _, ck := range (&http.Response{Header: resp.Header}).Cookies() {
		if ck.Name == "JSESSIONID" {
			cookie = ck.Value
		}
	}
	xsrf := resp.Header.Get("X-XSRF-TOKEN")
	if cookie == "" || xsrf == "" {
		return exit.Errorf(exit.Auth, "%s: HTTP %d without the JSESSIONID cookie and X-XSRF-TOKEN header; cookie-based authentication may be disabled on the manager (`get service http`): use --auth basic or cert", op, resp.Status)
	}
	c.Redactor().AddSecret(cookie)
	c.Redactor().AddSecret(xsrf)
	s.c, s.cookie, s.xsrf = c, cookie, xsrf
	s.logins++
	return nil
}

// LoginError is a session login that failed: no request the command was
// about was sent, so it says nothing about tokens or routes (a 404 here is
// no "token gone", and no "missing body call"). A login the server refused
// or did not recognise (a 4xx, such as the 404 of a URL without NSX's
// session route) is exit 3; an unavailable or unreachable manager keeps its
// exit code (6, 7).
type LoginError struct{ Err error }

func (e *LoginError) Error() string {
	msg := e.Err.Error()
	var ae *client.APIError
	if errors.As(e.Err, &ae) && ae.Status == http.StatusNotFound {
		msg += "\nno NSX session login answered at this server: check that the URL is the NSX manager's; " +
			"cookie-based authentication may also be disabled (`get service http`): use --auth basic or cert"
	}
	return msg
}

func (e *LoginError) Unwrap() error { return e.Err }

// ExitCode implements exit.Coder.
func (e *LoginError) ExitCode() int {
	var ae *client.APIError
	if errors.As(e.Err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests {
		return exit.Auth
	}
	return exit.CodeOf(e.Err)
}

// ErrorDetail implements exit.Detailer.
func (e *LoginError) ErrorDetail() exit.Detail {
	d := exit.DetailOf(e.Err)
	d.Message = e.Error()
	return d
}

// Close destroys the session, if one was created. It sends the cookie and
// XSRF header itself rather than through Apply, so that a session that has
// already expired is not renewed only to be destroyed. The answer is not an
// error of the command: the session expires on its own anyway.
func (s *SessionAuth) Close(ctx context.Context) error {
	s.mu.Lock()
	c, cookie, xsrf := s.c, s.cookie, s.xsrf
	s.cookie, s.xsrf = "", ""
	s.mu.Unlock()
	if cookie == "" {
		return nil
	}
	_, err := c.Do(ctx, client.Call{
		Operation: "destroy NSX session", Method: http.MethodPost, Path: SessionDestroyPath, NoAuth: true,
		Read:   true, // ends the session this command opened; no object changes
		Header: http.Header{"Cookie": {"JSESSIONID=" + cookie}, "X-Xsrf-Token": {xsrf}},
	})
	return err
}

// CertAuth is principal-identity authentication: the TLS client
// certificate (client.TLSOptions.CertFile and KeyFile) identifies the
// caller, and requests carry no credentials of their own. The certificate
// must be registered with the manager beforehand.
type CertAuth struct{}

// Apply implements client.Auth.
func (CertAuth) Apply(context.Context, *client.Client, *resty.Request) error { return nil }

// Renew implements client.Auth: a rejected certificate stays rejected.
func (CertAuth) Renew(context.Context, *client.Client, *client.Response) (bool, error) {
	return false, nil
}
