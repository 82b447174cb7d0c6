package client

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// A Retry-After past --retry-max-wait is not waited for: the answer is the
// result at once, with the reason, and nothing was retried (issue 16 item 13).
func TestRetryAfterBeyondBudgetIsNotWaited(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(flaky(100, 503, "86400", &calls))
	defer srv.Close()
	var notices bytes.Buffer
	c, err := New(Options{BaseURL: srv.URL, Notices: &notices}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), Call{Operation: "list sensors", Method: http.MethodGet, Path: "/x"})
	if exit.CodeOf(err) != exit.Unavailable || !strings.Contains(err.Error(), "the next try would wait 24h0m0s, past --retry-max-wait 2m0s") {
		t.Fatalf("err = %v (exit %d)", err, exit.CodeOf(err))
	}
	if calls.Load() != 1 || notices.Len() != 0 {
		t.Fatalf("%d calls, notices %q", calls.Load(), notices.String())
	}
}

// The waits of one call add up to at most RetryMaxWait; each retry is
// announced with its reason, wait and count.
func TestRetryWaitsAddUpToTheBudget(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(flaky(100, 503, "1", &calls))
	defer srv.Close()
	var notices bytes.Buffer
	c, err := New(Options{BaseURL: srv.URL, Notices: &notices, RetryMaxWait: 1500 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), Call{Operation: "list sensors", Method: http.MethodGet, Path: "/x"})
	if exit.CodeOf(err) != exit.Unavailable || !strings.Contains(err.Error(), "past --retry-max-wait 1.5s (1s waited already)") {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d calls, want 2 (one retry fits 1.5s)", calls.Load())
	}
	if got := notices.String(); got != "list sensors: 503 from server, retrying in 1s (1/5)\n" {
		t.Fatalf("notices %q", got)
	}
}

// Every retry is announced, up to the last; a success after retries is
// the result. Network failures say what failed.
func TestRetriesAreAnnounced(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(flaky(2, 429, "0", &calls))
	defer srv.Close()
	var notices bytes.Buffer
	c, err := New(Options{BaseURL: srv.URL, Notices: &notices}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), Call{Operation: "create token", Method: http.MethodPost, Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	want := "create token: 429 from server, retrying in 0s (1/5)\ncreate token: 429 from server, retrying in 0s (2/5)\n"
	if notices.String() != want {
		t.Fatalf("notices %q, want %q", notices.String(), want)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connection refused
	notices.Reset()
	c, _ = New(Options{BaseURL: "http://" + addr, Notices: &notices, RetryBaseWait: time.Millisecond, MaxRetries: 2}, nil)
	_, err = c.Do(context.Background(), Call{Operation: "get x", Method: http.MethodGet, Path: "/x"})
	if exit.CodeOf(err) != exit.Network {
		t.Fatalf("err = %v", err)
	}
	if got := notices.String(); strings.Count(got, "get x: connection refused, retrying in ") != 2 || !strings.Contains(got, "(2/2)") {
		t.Fatalf("notices %q", got)
	}
}

// Without Notices (--quiet) nothing is printed.
func TestRetriesQuiet(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(flaky(1, 503, "0", &calls))
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(context.Background(), Call{Operation: "get", Method: http.MethodGet, Path: "/x"}); err != nil || calls.Load() != 2 {
		t.Fatalf("%v, %d calls", err, calls.Load())
	}
}
