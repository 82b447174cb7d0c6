package wait

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// fakeClock never sleeps: Sleep moves Now.
type fakeClock struct {
	now    time.Time
	slept  []time.Duration
	cancel func() // called at the Nth sleep, if set
	at     int
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	if c.cancel != nil && len(c.slept) == c.at {
		c.cancel()
	}
	return ctx.Err()
}

// script is a Source that replays one snapshot (or error) per round, the
// last one forever.
type script struct {
	rounds []any // Snapshot or error
	calls  int
	conds  []string
}

func (s *script) Round(_ context.Context, cond string) (Snapshot, error) {
	s.conds = append(s.conds, cond)
	r := s.rounds[min(s.calls, len(s.rounds)-1)]
	s.calls++
	if err, ok := r.(error); ok {
		return Snapshot{}, err
	}
	return r.(Snapshot), nil
}

func reg(id string) Host { return Host{ID: id, DisplayName: "h-" + id, Registered: true} }
func healthy(id string) Host {
	h := reg(id)
	h.Healthy = true
	return h
}
func failed(id, why string) Host {
	h := reg(id)
	h.Failed, h.LCMStatus, h.LCMError = true, "FAILED", why
	return h
}
func avail(remaining int64, hosts ...Host) Snapshot {
	return Snapshot{TokenStatus: "AVAILABLE", Remaining: remaining, Usage: int64(len(hosts)), Hosts: hosts}
}

var (
	errUnavailable = &client.APIError{Operation: "list baremetal servers", Status: 503, Code: exit.Unavailable}
	errNetwork     = &client.NetworkError{Operation: "list baremetal servers", Method: "GET", URL: "http://x", Err: errors.New("connection reset")}
	errAuth        = &client.APIError{Operation: "get token status", Status: 403, Code: exit.Auth}
	errNotFound    = &client.APIError{Operation: "get token status", Status: 404, Code: exit.NotFound}
	errBad         = &client.APIError{Operation: "query", Status: 400, Code: exit.Error}
)

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       Options
		rounds     []any
		want       Outcome
		wantErr    int // exit code of the error, 0 when none
		wantRounds int
		reached    int
		failed     int
		reason     string
	}{
		{name: "registered at once", opts: Options{Condition: Registered}, rounds: []any{avail(0, reg("a"))}, want: Reached, wantRounds: 1, reached: 1},
		{name: "registered after installs", opts: Options{Condition: Registered, Count: 2},
			rounds: []any{avail(2), avail(1, reg("a")), avail(0, reg("a"), reg("b"))}, want: Reached, wantRounds: 3, reached: 2},
		{name: "healthy waits for health", opts: Options{Condition: Healthy, Count: 2},
			rounds: []any{avail(0, reg("a"), reg("b")), avail(0, healthy("a"), reg("b")), avail(0, healthy("a"), healthy("b"))}, want: Reached, wantRounds: 3, reached: 2},
		{name: "registered counts a host still installing", opts: Options{Condition: Registered},
			rounds: []any{avail(0, Host{ID: "a", Registered: true, LCMStatus: "RUNNING"})}, want: Reached, wantRounds: 1, reached: 1},
		{name: "failure still reachable goes on", opts: Options{Condition: Healthy, Count: 2},
			rounds: []any{avail(3, failed("a", "disk full")), avail(1, failed("a", "disk full"), healthy("b"), healthy("c"))}, want: Reached, wantRounds: 2, reached: 2, failed: 1},
		{name: "failures make the count unreachable", opts: Options{Condition: Healthy, Count: 2},
			rounds: []any{avail(0, failed("a", "disk full"), healthy("b"))}, want: Unreachable, wantRounds: 1, reached: 1, failed: 1, reason: "1 host(s) failed"},
		{name: "count above the token's capacity", opts: Options{Condition: Registered, Count: 5},
			rounds: []any{avail(3)}, want: Unreachable, wantRounds: 1, reason: "at most 3 of 5"},
		{name: "expired with hosts still installing goes on", opts: Options{Condition: Healthy, Count: 2},
			rounds: []any{Snapshot{TokenStatus: "EXPIRED", Remaining: 0, Hosts: []Host{healthy("a"), reg("b")}}, Snapshot{TokenStatus: "EXPIRED", Remaining: 0, Hosts: []Host{healthy("a"), healthy("b")}}},
			want:   Reached, wantRounds: 2, reached: 2},
		{name: "expired below the count", opts: Options{Condition: Registered, Count: 3},
			rounds: []any{avail(2, reg("a")), Snapshot{TokenStatus: "EXPIRED", Remaining: 2, Hosts: []Host{reg("a")}}}, want: Unreachable, wantRounds: 2, reached: 1, reason: "EXPIRED"},
		{name: "timeout reports what was reached", opts: Options{Condition: Healthy, Count: 2, Timeout: time.Second, Interval: 100 * time.Millisecond},
			rounds: []any{avail(1, healthy("a"))}, want: TimedOut, reached: 1},
		{name: "transient errors are retried", opts: Options{Condition: Registered},
			rounds: []any{errUnavailable, errNetwork, avail(0, reg("a"))}, want: Reached, wantRounds: 3, reached: 1},
		{name: "transient errors until the deadline", opts: Options{Condition: Registered, Timeout: time.Second, Interval: 300 * time.Millisecond},
			rounds: []any{errUnavailable}, want: TimedOut, reason: "last attempt failed"},
		{name: "auth fails at once", opts: Options{Condition: Registered}, rounds: []any{errAuth}, wantErr: exit.Auth, wantRounds: 1},
		{name: "missing token fails at once", opts: Options{Condition: Registered}, rounds: []any{avail(1), errNotFound}, wantErr: exit.NotFound, wantRounds: 2},
		{name: "a bad request is not retried", opts: Options{Condition: Registered}, rounds: []any{errBad}, wantErr: exit.Error, wantRounds: 1},
		{name: "used by status", opts: Options{Condition: Used}, rounds: []any{Snapshot{TokenStatus: "AVAILABLE", Usage: 0, Remaining: 1}, Snapshot{TokenStatus: "USED", Usage: 1, Remaining: 0}}, want: Reached, wantRounds: 2},
		{name: "used: EXHAUSTED is USED", opts: Options{Condition: Used}, rounds: []any{Snapshot{TokenStatus: "EXHAUSTED", Usage: 1, Remaining: 0}}, want: Reached, wantRounds: 1},
		{name: "used by count", opts: Options{Condition: Used, Count: 2, CountGiven: true}, rounds: []any{Snapshot{TokenStatus: "AVAILABLE", Usage: 1, Remaining: 4}, Snapshot{TokenStatus: "AVAILABLE", Usage: 2, Remaining: 3}}, want: Reached, wantRounds: 2},
		{name: "used never reached: expired", opts: Options{Condition: Used}, rounds: []any{Snapshot{TokenStatus: "EXPIRED", Usage: 0, Remaining: 1}}, want: Unreachable, wantRounds: 1, reason: "EXPIRED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &script{rounds: tc.rounds}
			clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
			tc.opts.Clock = clock
			var progress []Progress
			tc.opts.OnRound = func(p Progress) { progress = append(progress, p) }
			res, err := Run(context.Background(), src, tc.opts)
			if tc.wantErr != 0 {
				if exit.CodeOf(err) != tc.wantErr {
					t.Fatalf("err %v (code %d), want code %d", err, exit.CodeOf(err), tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if res.Outcome != tc.want {
				t.Fatalf("outcome %d, want %d (%+v)", res.Outcome, tc.want, res)
			}
			if tc.wantRounds != 0 && src.calls != tc.wantRounds {
				t.Errorf("%d rounds, want %d", src.calls, tc.wantRounds)
			}
			if len(res.Reached) != tc.reached || len(res.Failed) != tc.failed {
				t.Errorf("reached %d failed %d, want %d and %d", len(res.Reached), len(res.Failed), tc.reached, tc.failed)
			}
			if !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("reason %q, want it to contain %q", res.Reason, tc.reason)
			}
			if tc.wantErr == 0 && len(progress) != src.calls {
				t.Errorf("%d progress reports for %d rounds", len(progress), src.calls)
			}
			for _, c := range src.conds {
				if c != tc.opts.Condition {
					t.Errorf("source asked for %q, want %q", c, tc.opts.Condition)
				}
			}
			if res.Outcome == TimedOut && tc.opts.Timeout > 0 {
				var total time.Duration
				for _, d := range clock.slept {
					total += d
				}
				if total != tc.opts.Timeout {
					t.Errorf("slept %v in all, want exactly the timeout %v", total, tc.opts.Timeout)
				}
			}
		})
	}
}

func TestRunBacksOffWhileNothingChanges(t *testing.T) {
	src := &script{rounds: []any{avail(1), avail(1), avail(1), avail(1), avail(1), avail(0, reg("a")), avail(0, reg("a")), avail(0, reg("a"))}}
	clock := &fakeClock{now: time.Unix(0, 0)}
	_, err := Run(context.Background(), src, Options{Condition: Healthy, Interval: time.Second, Timeout: time.Minute, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	// Unchanged rounds double the interval up to 6x; a change resets it.
	want := []time.Duration{1, 2, 4, 6, 6, 1, 2, 4, 6}
	for i, d := range want[:min(len(want), len(clock.slept))] {
		if clock.slept[i] != d*time.Second {
			t.Fatalf("sleeps %v, want %v seconds", clock.slept, want)
		}
	}
}

func TestRunInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{now: time.Unix(0, 0), cancel: cancel, at: 2}
	_, err := Run(ctx, &script{rounds: []any{avail(1)}}, Options{Condition: Registered, Clock: clock})
	if exit.CodeOf(err) != exit.Interrupted {
		t.Fatalf("err %v, want exit 130", err)
	}
}

func TestProgressLine(t *testing.T) {
	for _, tc := range []struct {
		p    Progress
		want string
	}{
		{Progress{Condition: Registered, Count: 5, Reached: 2, Pending: 1, Failed: 1, TokenStatus: "AVAILABLE"}, "2/5 registered, 1 installing, 1 failed"},
		{Progress{Condition: Healthy, Count: 1, TokenStatus: "EXPIRED"}, "0/1 healthy, token EXPIRED"},
		{Progress{Condition: Healthy, Count: 3, Reached: 1, Pending: 2, Unhealthy: 1, TokenStatus: "USED"}, "1/3 healthy, 1 installing, 1 not healthy, token USED"},
		{Progress{Condition: Used, Count: 3, CountGiven: true, Usage: 1, Allowed: 5, TokenStatus: "AVAILABLE"}, "1/3 used, token AVAILABLE"},
		{Progress{Condition: Used, Count: 1, Usage: 1, Allowed: 5, TokenStatus: "AVAILABLE"}, "1/5 used, token AVAILABLE"},
		{Progress{Condition: Used, Count: 1, Usage: -1, TokenStatus: "AVAILABLE"}, "waiting for use, token AVAILABLE"},
		{Progress{Condition: Registered, Count: 1, Err: errors.New("HTTP 503\nhint")}, "0/1 registered (retrying: HTTP 503)"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}

func task(id, status string, servers ...string) ssp.Task {
	t := ssp.Task{ID: id, TaskStatus: status}
	for i, s := range servers {
		t.Servers = append(t.Servers, ssp.ServerTask{ID: fmt.Sprint(i), ServerTaskStatus: s})
	}
	return t
}

func TestTasks(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ids     []string
		rounds  map[string][]any // ssp.Task or error, per task id
		timeout time.Duration
		code    int
		errCode int
	}{
		{name: "completed with every server SUCCESS", ids: []string{"t1"}, rounds: map[string][]any{"t1": {task("t1", "ACCEPTED"), task("t1", "RUNNING", "RUNNING"), task("t1", "COMPLETED", "SUCCESS", "SUCCESS")}}, code: 0},
		{name: "TIMEDOUT", ids: []string{"t1"}, rounds: map[string][]any{"t1": {task("t1", "TIMEDOUT", "SUCCESS", "RUNNING")}}, code: exit.Timeout},
		{name: "ABORTED", ids: []string{"t1"}, rounds: map[string][]any{"t1": {task("t1", "ABORTED")}}, code: exit.Conflict},
		{name: "every server FAILED", ids: []string{"t1"}, rounds: map[string][]any{"t1": {task("t1", "COMPLETED", "FAILED", "FAILED")}}, code: exit.Conflict},
		{name: "some servers failed", ids: []string{"t1"}, rounds: map[string][]any{"t1": {task("t1", "COMPLETED", "FAILED", "SUCCESS")}}, code: exit.Partial},
		{name: "one of two tasks failed", ids: []string{"t1", "t2"}, rounds: map[string][]any{"t1": {task("t1", "COMPLETED", "SUCCESS")}, "t2": {task("t2", "RUNNING"), task("t2", "ABORTED")}}, code: exit.Partial},
		{name: "our own timeout", ids: []string{"t1"}, rounds: map[string][]any{"t1": {task("t1", "RUNNING")}}, timeout: time.Second, code: exit.Timeout},
		{name: "transient errors are retried", ids: []string{"t1"}, rounds: map[string][]any{"t1": {errUnavailable, task("t1", "COMPLETED", "SUCCESS")}}, code: 0},
		{name: "unknown task", ids: []string{"t1"}, rounds: map[string][]any{"t1": {errNotFound}}, errCode: exit.NotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := map[string]int{}
			fetch := func(_ context.Context, id string) (ssp.Task, []byte, error) {
				rs := tc.rounds[id]
				r := rs[min(calls[id], len(rs)-1)]
				calls[id]++
				if err, ok := r.(error); ok {
					return ssp.Task{}, nil, err
				}
				return r.(ssp.Task), []byte("{}"), nil
			}
			res, err := Tasks(context.Background(), tc.ids, func(ctx context.Context, id string) (ssp.Task, json.RawMessage, error) {
				t, raw, err := fetch(ctx, id)
				return t, raw, err
			}, TaskOptions{Clock: &fakeClock{now: time.Unix(0, 0)}, Interval: 100 * time.Millisecond, Timeout: tc.timeout})
			if tc.errCode != 0 {
				if exit.CodeOf(err) != tc.errCode {
					t.Fatalf("err %v, want exit %d", err, tc.errCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != tc.code {
				t.Fatalf("code %d (%s), want %d", res.Code, res.Reason, tc.code)
			}
			for id, n := range calls {
				if tc.timeout == 0 && n > len(tc.rounds[id]) {
					t.Errorf("task %s fetched %d times after it ended", id, n)
				}
			}
		})
	}
}

// hang is a Source (and a TaskFetch) whose calls answer only when their
// context ends, as a request does that is retried against a dead server.
type hang struct{ calls int }

func (h *hang) Round(ctx context.Context, _ string) (Snapshot, error) {
	h.calls++
	return Snapshot{}, h.block(ctx)
}

func (h *hang) block(ctx context.Context) error {
	select {
	case <-ctx.Done():
		// What the client returns when its context ends mid-retry.
		return exit.WithCode(exit.Network, fmt.Errorf("get baremetal registration token status: %w", ctx.Err()))
	case <-time.After(10 * time.Second):
		return errors.New("the round was not bounded by --wait-timeout")
	}
}

// A round that cannot finish (a request retried against a server that went
// away) ends at --wait-timeout with 124, not after the client's retries.
func TestRunRoundBoundedByTimeout(t *testing.T) {
	src := &hang{}
	res, err := Run(context.Background(), src, Options{Condition: Healthy, Interval: time.Millisecond, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("err %v, want a timed-out result", err)
	}
	if res.Outcome != TimedOut || !strings.Contains(res.Reason, "deadline exceeded") {
		t.Fatalf("outcome %v (%q), want TimedOut naming the last attempt", res.Outcome, res.Reason)
	}
}

func TestTasksFetchBoundedByTimeout(t *testing.T) {
	h := &hang{}
	res, err := Tasks(context.Background(), []string{"t1"}, func(ctx context.Context, _ string) (ssp.Task, json.RawMessage, error) {
		return ssp.Task{}, nil, h.block(ctx)
	}, TaskOptions{Interval: time.Millisecond, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("err %v, want a timed-out result", err)
	}
	if res.Code != exit.Timeout || !strings.Contains(res.Reason, "deadline exceeded") {
		t.Fatalf("code %d (%q), want 124 naming the last attempt", res.Code, res.Reason)
	}
}
