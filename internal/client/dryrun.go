package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/go-resty/resty/v2"
)

// Change is a request that --dry-run recorded instead of sending.
type Change struct {
	// Operation names the call, e.g. "create sensor registration token".
	Operation string `json:"operation"`
	Method    string `json:"method"`
	// URL is the full URL with its query, secrets redacted.
	URL string `json:"url"`
	// Body is the request body with secrets redacted: JSON as JSON, a
	// form as its encoded string; absent when the call has none.
	Body json.RawMessage `json:"body,omitempty"`
	// Curl is an equivalent curl command line; credentials appear as
	// $VARIABLES, other secrets as [REDACTED].
	Curl string `json:"curl"`
}

// Plan collects the changes of a dry run, in the order they were recorded.
// It is safe for concurrent use (batches record from several goroutines).
type Plan struct {
	// OnChange, when set, is told each change as it is recorded (the
	// command prints it on stderr).
	OnChange func(Change)

	mu      sync.Mutex
	changes []Change
}

// Changes returns the recorded changes.
func (p *Plan) Changes() []Change {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Change(nil), p.changes...)
}

// Len is the number of recorded changes.
func (p *Plan) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.changes)
}

func (p *Plan) add(ch Change) {
	p.mu.Lock()
	p.changes = append(p.changes, ch)
	on := p.OnChange
	// Told under the lock, so that concurrent changes print whole and in
	// the order they were recorded.
	if on != nil {
		on(ch)
	}
	p.mu.Unlock()
}

// NotSentError is what Do returns for a change in a dry run: the change was
// recorded, not sent. A command that needs the change's answer for its
// next step stops there; the error is not a failure (exit 0).
type NotSentError struct {
	Change Change
}

func (e *NotSentError) Error() string {
	return fmt.Sprintf("%s: not sent (--dry-run)", e.Change.Operation)
}

// ExitCode implements exit.Coder: a dry run that stopped at a change it
// recorded did what was asked.
func (e *NotSentError) ExitCode() int { return 0 }

// IsNotSent reports whether err is a change a dry run recorded.
func IsNotSent(err error) bool {
	var ns *NotSentError
	return errors.As(err, &ns)
}

// changes reports whether the call changes something on the server. The
// operation decides, not the method: a GET or HEAD never does, and a call
// marked Read (a login, an OAuth token fetch, a query POST) does not
// either; every other call is taken as a change.
func (call *Call) changes() bool {
	if call.Read {
		return false
	}
	switch call.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// record adds the call to the dry run's plan instead of sending it. The
// credentials are applied as for a real call (a session login or an OAuth
// token fetch is a read, so it happens) only to learn which ones the call
// carries; the curl line names them as variables.
func (c *Client) record(ctx context.Context, call Call) error {
	req := c.R.R().SetContext(ctx)
	for k, vs := range call.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if !call.NoAuth && c.auth != nil {
		if err := c.auth.Apply(ctx, c, req); err != nil {
			return err
		}
	}
	u := strings.TrimRight(c.opts.BaseURL, "/") + call.Path
	if len(call.Query) > 0 {
		u += "?" + call.Query.Encode()
	}
	ch := Change{Operation: call.Operation, Method: call.Method, URL: c.redactor.String(u)}
	var body, contentType string
	switch {
	case call.Form != nil:
		body, contentType = c.redactor.String(call.Form.Encode()), "application/x-www-form-urlencoded"
		ch.Body, _ = json.Marshal(body)
	case call.Body != nil:
		raw, err := bodyBytes(call.Body)
		if err != nil {
			return err
		}
		body, contentType = c.redactor.String(string(raw)), "application/json"
		if json.Valid([]byte(body)) {
			ch.Body = json.RawMessage(body)
		} else {
			ch.Body, _ = json.Marshal(body)
		}
	}
	ch.Curl = c.curlLine(call.Method, ch.URL, req, contentType, body)
	c.opts.DryRun.add(ch)
	return &NotSentError{Change: ch}
}

// curlLine renders an equivalent curl command: credentials as $VARIABLES
// (the TOKENCTL_* ones where tokenctl reads them), TLS settings as curl's
// options, the redacted body.
func (c *Client) curlLine(method, u string, req *resty.Request, contentType, body string) string {
	args := []string{"curl", "-X", method, shellQuote(u)}
	if req.UserInfo != nil {
		args = append(args, `-u "$TOKENCTL_USERNAME:$TOKENCTL_PASSWORD"`)
	}
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range req.Header[k] {
			args = append(args, "-H", c.curlHeader(k, v))
		}
	}
	if contentType != "" {
		args = append(args, "-H", shellQuote("Content-Type: "+contentType))
	}
	tls := c.opts.TLS
	if tls.Insecure {
		args = append(args, "-k")
	}
	if tls.CAFile != "" {
		args = append(args, "--cacert", shellQuote(tls.CAFile))
	}
	if tls.CertFile != "" {
		args = append(args, "--cert", shellQuote(tls.CertFile), "--key", shellQuote(tls.KeyFile))
	}
	if body != "" {
		args = append(args, "--data-raw", shellQuote(body))
	}
	return strings.Join(args, " ")
}

// curlHeader renders one header: a credential as a variable in double
// quotes (so the shell expands it), anything else redacted and quoted.
func (c *Client) curlHeader(name, value string) string {
	canon := http.CanonicalHeaderKey(name)
	switch canon {
	case "Authorization":
		scheme, _, _ := strings.Cut(value, " ")
		switch strings.ToLower(scheme) {
		case "basic":
			return `"Authorization: Basic $(printf %s "$TOKENCTL_USERNAME:$TOKENCTL_PASSWORD" | base64)"`
		case "bearer":
			return `"Authorization: Bearer $ACCESS_TOKEN"`
		}
		return `"Authorization: $AUTHORIZATION"`
	case "X-Auth-Token":
		return `"X-Auth-Token: $TOKENCTL_TOKEN"`
	case "Cookie":
		return `"Cookie: JSESSIONID=$NSX_SESSION_ID"`
	case "X-Xsrf-Token":
		return `"X-XSRF-TOKEN: $NSX_XSRF_TOKEN"`
	}
	for _, s := range sensitiveHeaders {
		if canon == s {
			return fmt.Sprintf(`"%s: $%s"`, canon, envName(canon))
		}
	}
	return shellQuote(canon + ": " + c.redactor.String(value))
}

func envName(header string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_").Replace(header))
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// bodyBytes is the JSON a call sends as its body ([]byte and
// json.RawMessage as they are).
func bodyBytes(b any) ([]byte, error) {
	switch v := b.(type) {
	case []byte:
		return v, nil
	case json.RawMessage:
		return v, nil
	}
	return json.Marshal(b)
}
