package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-resty/resty/v2"
)

// DefaultRetryMaxWait caps the total time one call spends waiting between
// its tries, whatever a server's Retry-After asks for.
const DefaultRetryMaxWait = 2 * time.Minute

// retryState is one call's retry budget and the wait chosen for its next
// try. It travels in the request's context, where the client-wide
// RetryAfter callback finds it.
type retryState struct {
	mu     sync.Mutex
	max    time.Duration
	spent  time.Duration
	next   time.Duration
	tries  int
	capped string // why the retries stopped early, for the error's hint
}

type retryStateKey struct{}

func stateOf(resp *resty.Response) *retryState {
	if resp == nil || resp.Request == nil {
		return nil
	}
	st, _ := resp.Request.Context().Value(retryStateKey{}).(*retryState)
	return st
}

// admit decides whether a retry that would wait wait still fits the call's
// budget; if so it books the wait and announces the retry.
func (c *Client) admit(st *retryState, op, reason string, wait time.Duration) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.spent+wait > st.max {
		st.capped = fmt.Sprintf("not retried: the next try would wait %s, past --retry-max-wait %s (%s waited already)", roundWait(wait), roundWait(st.max), roundWait(st.spent))
		return false
	}
	st.spent += wait
	st.next = wait
	st.tries++
	if c.opts.Notices != nil {
		fmt.Fprintf(c.opts.Notices, "%s: %s, retrying in %s (%d/%d)\n", op, c.redactor.String(reason), roundWait(wait), st.tries, c.opts.MaxRetries)
	}
	return true
}

// retryReason says in a few words what failed: "503 from server",
// "connection refused".
func retryReason(r *resty.Response, err error) string {
	if err != nil {
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			return "connection refused"
		case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return "connection reset"
		case errors.Is(err, context.DeadlineExceeded), strings.Contains(err.Error(), "Client.Timeout"):
			return "no answer within --timeout"
		}
		return unwrapURLError(err).Error()
	}
	if r == nil {
		return "no answer"
	}
	return fmt.Sprintf("%d from server", r.StatusCode())
}

// roundWait prints a wait the way people read it: 300ms, 1.2s, 2m0s.
func roundWait(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
