// Package client is the HTTP layer every platform shares: resty with
// tokenctl's TLS rules, authentication, retries, redacted --debug logging,
// vendor error decoding and exit codes, and offset paging.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// Auth adds credentials to requests.
type Auth interface {
	// Apply sets the credentials on a request about to be sent.
	Apply(ctx context.Context, c *Client, r *resty.Request) error
	// Renew is called once when the server answered 401 or 403; it returns
	// true when fresh credentials were obtained and the call should be sent
	// again (an expired NSX session, an expired OAuth access token).
	Renew(ctx context.Context, c *Client, resp *Response) (bool, error)
}

// Options configure a Client.
type Options struct {
	BaseURL   string
	Timeout   time.Duration
	TLS       TLSOptions
	UserAgent string
	// Debug receives the redacted request/response log; nil disables it.
	Debug io.Writer
	// Redactor scrubs debug output; a default one is made when nil.
	Redactor *Redactor
	// DecodeError reads the platform's error body; DecodeVMwareError when nil.
	DecodeError ErrorDecoder
	// RetryStatuses are retried for reads and deletes (429 is retried for
	// every call); default 429, 502, 503, 504.
	RetryStatuses []int
	// MaxRetries bounds retries of one call; default 5.
	MaxRetries int
	// RetryBaseWait is the first backoff without Retry-After (doubling up
	// to 5s, with jitter); default 300ms.
	RetryBaseWait time.Duration
	// RetryMaxWait caps the total wait between one call's tries, whatever
	// Retry-After says (--retry-max-wait); default DefaultRetryMaxWait. A
	// retry that would pass it is not made: the last answer is the result.
	RetryMaxWait time.Duration
	// Notices receives one line per retry ("503 from server, retrying in
	// 2s (2/5)"); nil says nothing (--quiet).
	Notices io.Writer
	// Limiter, when set, is waited on before every request, retries
	// included (--rps). Clients that share one share its rate.
	Limiter Limiter
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// DryRun, when set, makes every call that changes something (see
	// Call.Read) a recorded Change instead of a request: Do returns a
	// *NotSentError for it. Reads are sent as usual.
	DryRun *Plan
}

// Limiter paces requests (*rate.Limiter implements it).
type Limiter interface {
	Wait(ctx context.Context) error
}

// Client talks to one server.
type Client struct {
	R         *resty.Client
	opts      Options
	auth      Auth
	redactor  *Redactor
	retryable map[int]bool
	clock     serverClock
}

// New builds a client. Auth may be nil (set later with SetAuth).
func New(opts Options, auth Auth) (*Client, error) {
	if opts.Redactor == nil {
		opts.Redactor = NewRedactor()
	}
	if opts.DecodeError == nil {
		opts.DecodeError = DecodeVMwareError
	}
	if len(opts.RetryStatuses) == 0 {
		opts.RetryStatuses = []int{429, 502, 503, 504}
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 5
	}
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.RetryBaseWait == 0 {
		opts.RetryBaseWait = 300 * time.Millisecond
	}
	if opts.RetryMaxWait == 0 {
		opts.RetryMaxWait = DefaultRetryMaxWait
	}
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, exit.Usagef("server %q: must be a URL such as https://ssp.example.com", opts.BaseURL)
	}
	transport := opts.Transport
	if transport == nil {
		tlsCfg, err := opts.TLS.TLSConfig()
		if err != nil {
			return nil, err
		}
		t := http.DefaultTransport.(*http.Transport).Clone() // proxies from HTTPS_PROXY/NO_PROXY
		t.TLSClientConfig = tlsCfg
		t.MaxIdleConnsPerHost = 16
		// List pages are megabytes: 64 KiB reads instead of the default
		// 4 KiB take a sixteenth of the read system calls (and of the
		// goroutine hand-offs each one costs).
		t.ReadBufferSize = 64 << 10
		transport = t
	}
	c := &Client{opts: opts, auth: auth, redactor: opts.Redactor, retryable: map[int]bool{}}
	for _, s := range opts.RetryStatuses {
		c.retryable[s] = true
	}
	r := resty.NewWithClient(&http.Client{Transport: transport})
	r.SetBaseURL(strings.TrimRight(opts.BaseURL, "/"))
	r.SetTimeout(opts.Timeout)
	r.SetHeader("User-Agent", opts.UserAgent)
	r.SetHeader("Accept", "application/json")
	r.SetRedirectPolicy(sameHostRedirects(u.Host))
	r.SetRetryCount(opts.MaxRetries)
	r.SetRetryWaitTime(time.Millisecond) // the floor; the retry condition decides
	// No wait beyond the budget was admitted; the budget itself is the cap.
	r.SetRetryMaxWaitTime(opts.RetryMaxWait)
	r.SetRetryAfter(func(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
		if st := stateOf(resp); st != nil {
			st.mu.Lock()
			defer st.mu.Unlock()
			if st.next > 0 {
				return st.next, nil
			}
		}
		return retryAfter(resp, opts.RetryBaseWait), nil
	})
	if opts.Limiter != nil {
		// Before every try, retries included: the server counts them all.
		r.OnBeforeRequest(func(_ *resty.Client, req *resty.Request) error {
			return opts.Limiter.Wait(req.Context())
		})
	}
	r.SetLogger(&debugLogger{w: opts.Debug, redactor: c.redactor})
	r.SetDisableWarn(true)
	if opts.Debug != nil {
		r.SetDebug(true)
		r.SetDebugBodyLimit(64 << 10)
		r.OnRequestLog(func(rl *resty.RequestLog) error {
			c.redactor.Header(rl.Header)
			rl.Body = c.redactor.String(rl.Body)
			return nil
		})
		r.OnResponseLog(func(rl *resty.ResponseLog) error {
			c.redactor.Header(rl.Header)
			rl.Body = c.redactor.String(rl.Body)
			return nil
		})
		r.AddRetryHook(func(resp *resty.Response, err error) {
			reason := ""
			if err != nil {
				reason = err.Error()
			} else if resp != nil {
				reason = resp.Status()
			}
			fmt.Fprintf(opts.Debug, "* retrying after: %s\n", c.redactor.String(reason))
		})
	}
	c.R = r
	return c, nil
}

// SetAuth sets the authentication method.
func (c *Client) SetAuth(a Auth) { c.auth = a }

// Auth is the authentication method (platform code reads what its own
// method learned, e.g. the SD-WAN profile call made after a new token).
func (c *Client) Auth() Auth { return c.auth }

// Redactor is the client's debug scrubber; platform code registers secrets.
func (c *Client) Redactor() *Redactor { return c.redactor }

// BaseURL is the server URL.
func (c *Client) BaseURL() string { return c.opts.BaseURL }

// Retryable is the set of statuses retried for reads (and mapped to exit 6).
func (c *Client) Retryable() map[int]bool { return c.retryable }

// DebugWriter is where --debug output goes (nil when off).
func (c *Client) DebugWriter() io.Writer { return c.opts.Debug }

func sameHostRedirects(host string) resty.RedirectPolicy {
	return resty.RedirectPolicyFunc(func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if req.URL.Host != host {
			return fmt.Errorf("refusing to follow a redirect to another host (%s): credentials would go with it", req.URL.Host)
		}
		return nil
	})
}

// retryAfter honours Retry-After (seconds or an HTTP date; 0 means now) and
// otherwise backs off exponentially with jitter from base up to 5s.
func retryAfter(resp *resty.Response, base time.Duration) time.Duration {
	if resp != nil && resp.RawResponse != nil {
		if v := resp.Header().Get("Retry-After"); v != "" {
			if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs >= 0 {
				return max(time.Duration(secs)*time.Second, time.Nanosecond)
			}
			if t, err := http.ParseTime(v); err == nil {
				return max(time.Until(t), time.Nanosecond)
			}
		}
	}
	attempt := 1
	if resp != nil && resp.Request != nil {
		attempt = max(resp.Request.Attempt, 1)
	}
	wait := min(base<<min(attempt-1, 5), 5*time.Second)
	return wait/2 + rand.N(wait/2+1)
}

type debugLogger struct {
	w        io.Writer
	redactor *Redactor
}

func (l *debugLogger) Errorf(format string, v ...any) { l.printf(format, v...) }
func (l *debugLogger) Warnf(format string, v ...any)  { l.printf(format, v...) }
func (l *debugLogger) Debugf(format string, v ...any) { l.printf(format, v...) }

func (l *debugLogger) printf(format string, v ...any) {
	if l.w == nil {
		return
	}
	// The server's headers and bodies are in it: escaped for the terminal.
	s := escape.Log(l.redactor.String(fmt.Sprintf(format, v...)))
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	io.WriteString(l.w, s)
}

// Call is one API operation.
type Call struct {
	// Operation names the call in errors, e.g. "create sensor registration token".
	Operation string
	Method    string
	// Path is relative to the server URL, already escaped.
	Path  string
	Query url.Values
	// Body is sent as JSON ([]byte and json.RawMessage as is).
	Body any
	// Form is sent as application/x-www-form-urlencoded.
	Form url.Values
	// Idempotent overrides the method's default (GET, HEAD, DELETE: true;
	// others false). Non-idempotent calls are retried only when nothing can
	// have been done: a 429 or a refused connection.
	Idempotent *bool
	// NoAuth skips authentication (login calls).
	NoAuth bool
	// Read marks an operation that changes nothing whatever its method: a
	// login, an OAuth token fetch, a query sent as a POST body (SSP's
	// servers-status-detail). It is retried like a GET, and --dry-run
	// sends it (every other non-GET call is recorded instead of sent).
	Read bool
	// PageBody, for a listing whose paging fields travel in a JSON body
	// (a query POST), builds the body of the page at offset; ListOffset
	// then sends no offset or page_size query parameters.
	PageBody func(offset, pageSize int) any
	// Header adds request headers.
	Header http.Header

	// into receives the body instead of a fresh slice (paging reuses two
	// buffers for all its pages). Response.Body then aliases it.
	into *bytes.Buffer
	// bodyRetries counts tries again after a body broke off (with into).
	bodyRetries int
	// stream leaves a 2xx body unread for Download.
	stream bool
}

// True is a helper for Call.Idempotent.
func True() *bool { t := true; return &t }

func (call *Call) idempotent() bool {
	if call.Idempotent != nil {
		return *call.Idempotent
	}
	if call.Read {
		return true
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		return true
	}
	return false
}

// Response is a completed 2xx call.
type Response struct {
	Status int
	Header http.Header
	Body   []byte

	// retryNote says why retries stopped before MaxRetries (the budget).
	retryNote string
	// raw is the unread response of a streamed call (Download).
	raw *http.Response
}

// JSON decodes the body into v.
func (r *Response) JSON(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("unexpected response (not the documented JSON): %w", err)
	}
	return nil
}

// Do sends the call with retries and authentication, and returns the 2xx
// response or an *APIError / *NetworkError.
func (c *Client) Do(ctx context.Context, call Call) (*Response, error) {
	if c.opts.DryRun != nil && call.changes() {
		return nil, c.record(ctx, call)
	}
	resp, err := c.send(ctx, call)
	if err != nil {
		return nil, err
	}
	if (resp.Status == 401 || resp.Status == 403) && c.auth != nil && !call.NoAuth {
		renewed, rerr := c.auth.Renew(ctx, c, resp)
		if rerr != nil {
			return nil, rerr
		}
		if renewed {
			if resp, err = c.send(ctx, call); err != nil {
				return nil, err
			}
		}
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, c.apiError(call, resp)
	}
	c.clock.note(resp.Header)
	return resp, nil
}

func (c *Client) send(ctx context.Context, call Call) (*Response, error) {
	st := &retryState{max: c.opts.RetryMaxWait}
	return c.sendWith(ctx, call, st)
}

func (c *Client) sendWith(ctx context.Context, call Call, st *retryState) (*Response, error) {
	req := c.R.R().SetContext(context.WithValue(ctx, retryStateKey{}, st))
	for k, vs := range call.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if call.Query != nil {
		req.SetQueryParamsFromValues(call.Query)
	}
	switch {
	case call.Form != nil:
		req.SetHeader("Content-Type", "application/x-www-form-urlencoded")
		req.SetBody(call.Form.Encode())
	case call.Body != nil:
		body, err := bodyBytes(call.Body)
		if err != nil {
			return nil, err
		}
		req.SetHeader("Content-Type", "application/json")
		// A string, not []byte: resty's debug log would print a []byte
		// body base64-encoded, out of the redactor's reach.
		req.SetBody(string(body))
	}
	if !call.NoAuth && c.auth != nil {
		if err := c.auth.Apply(ctx, c, req); err != nil {
			return nil, err
		}
	}
	idem := call.idempotent()
	// Reading the body into the caller's buffer saves a page-sized
	// allocation per page; --debug wants resty to read and log bodies.
	into := call.into != nil && c.opts.Debug == nil
	if into || call.stream {
		req.SetDoNotParseResponse(true)
	}
	req.AddRetryCondition(func(r *resty.Response, err error) bool {
		retry := func() bool {
			if ctx.Err() != nil {
				return false
			}
			if err != nil {
				if isPermanent(err) {
					return false
				}
				return idem || connectionRefused(err)
			}
			status := r.StatusCode()
			if status == http.StatusTooManyRequests {
				return true
			}
			return idem && c.retryable[status]
		}()
		if retry && (r == nil || r.Request == nil || r.Request.Attempt <= c.opts.MaxRetries) {
			// Not after the last try, whose answer is the result.
			retry = c.admit(st, call.Operation, retryReason(r, err), retryAfter(r, c.opts.RetryBaseWait))
		}
		if retry && (into || call.stream) && r != nil && r.RawResponse != nil && r.Request.Attempt <= c.opts.MaxRetries {
			// The answer is dropped for another try (not after the last
			// try, whose answer is returned): free its connection.
			io.Copy(io.Discard, io.LimitReader(r.RawResponse.Body, 1<<20))
			r.RawResponse.Body.Close()
		}
		return retry
	})
	r, err := req.Execute(call.Method, call.Path)
	if err != nil {
		err = c.networkError(ctx, call, err)
		var ne *NetworkError
		if errors.As(err, &ne) && st.capped != "" {
			ne.Hint = strings.TrimSpace(st.capped + "\n" + ne.Hint)
		}
		return nil, err
	}
	if call.stream {
		if r.StatusCode() >= 200 && r.StatusCode() <= 299 {
			return &Response{Status: r.StatusCode(), Header: r.Header(), raw: r.RawResponse}, nil
		}
		// An error answer is small: read it for the error message.
		body, _ := io.ReadAll(io.LimitReader(r.RawResponse.Body, 1<<20))
		r.RawResponse.Body.Close()
		return &Response{Status: r.StatusCode(), Header: r.Header(), Body: body}, nil
	}
	if !into {
		return &Response{Status: r.StatusCode(), Header: r.Header(), Body: r.Body(), retryNote: st.capped}, nil
	}
	call.into.Reset()
	_, err = call.into.ReadFrom(r.RawResponse.Body)
	r.RawResponse.Body.Close()
	if err != nil {
		// The body broke off after the headers, past resty's retries: try
		// again as resty would have, had it read the body itself.
		if idem && ctx.Err() == nil && call.bodyRetries < c.opts.MaxRetries && c.admit(st, call.Operation, "the answer broke off", c.opts.RetryBaseWait) {
			call.bodyRetries++
			select {
			case <-time.After(c.opts.RetryBaseWait):
			case <-ctx.Done():
			}
			return c.sendWith(ctx, call, st)
		}
		return nil, c.networkError(ctx, call, err)
	}
	return &Response{Status: r.StatusCode(), Header: r.Header(), Body: call.into.Bytes(), retryNote: st.capped}, nil
}

// Permanent reports a network error that no retry can fix: a certificate
// or pin the client refuses, a redirect it will not follow.
func Permanent(err error) bool { return isPermanent(err) }

// isPermanent reports errors no retry can fix: certificates and pins.
func isPermanent(err error) bool {
	return errors.As(err, new(*ThumbprintMismatchError)) || isCertError(err) ||
		strings.Contains(err.Error(), "refusing to follow a redirect")
}

func isCertError(err error) bool {
	return errors.As(err, new(*tls.CertificateVerificationError)) ||
		errors.As(err, new(x509.UnknownAuthorityError)) ||
		errors.As(err, new(x509.HostnameError)) ||
		errors.As(err, new(x509.CertificateInvalidError))
}

const lookBeforeRetry = "the server may have carried out the request before the failure: check (for example with a list or get) before running it again"

func (c *Client) networkError(ctx context.Context, call Call, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// A change may have reached the server before Ctrl-C.
		return &InterruptedError{Operation: call.Operation, MayHaveActed: !call.idempotent()}
	}
	var tm *ThumbprintMismatchError
	if errors.As(err, &tm) {
		return tm
	}
	ne := &NetworkError{Operation: call.Operation, Method: call.Method, URL: c.redactor.String(c.opts.BaseURL + call.Path), Err: unwrapURLError(err)}
	if !call.idempotent() && !connectionRefused(err) {
		ne.Hint, ne.MayHaveActed = lookBeforeRetry, true
	}
	if isCertError(err) {
		ne.MayHaveActed = false // the handshake failed: nothing was sent
		ne.Hint = "the server's certificate is not trusted: pass --ca-file, pin it with `tokenctl profile set NAME --trust`, or (unsafe) --insecure"
	}
	return ne
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *Client) apiError(call Call, resp *Response) error {
	e := &APIError{
		Operation: call.Operation,
		Method:    call.Method,
		URL:       c.redactor.String(c.opts.BaseURL + call.Path),
		Status:    resp.Status,
		Code:      StatusExitCode(resp.Status, c.retryable),
	}
	body := resp.Body
	if json.Valid(body) && len(body) > 0 {
		if scrubbed := c.redactor.String(string(body)); json.Valid([]byte(scrubbed)) {
			e.Body = json.RawMessage(scrubbed)
		}
		if ve := c.opts.DecodeError(resp.Status, body); ve != nil {
			e.Message = c.redactor.String(ve.Message)
		}
	}
	if e.Message == "" && len(body) > 0 {
		text := strings.TrimSpace(string(body))
		if len(text) > 300 {
			text = text[:300] + "..."
		}
		e.Message = c.redactor.String(text)
	}
	switch {
	case c.retryable[resp.Status] && resp.Status != http.StatusTooManyRequests && !call.idempotent():
		e.Hint, e.MayHaveActed = lookBeforeRetry, true
	case resp.Status == http.StatusTooManyRequests:
		e.Hint = "the server is rate limiting; nothing was done, try again later"
	}
	if resp.retryNote != "" {
		e.Hint = strings.TrimSpace(resp.retryNote + "\n" + e.Hint)
	}
	return e
}
