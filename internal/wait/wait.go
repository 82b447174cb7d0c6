// Package wait polls a registration token until the hosts it registers
// reach a condition (DESIGN.md, Waiting): used, registered or healthy. It
// has no commands and prints nothing: Run takes a context, a clock and an
// interval, reports each round through a callback and returns what it saw;
// the command maps the outcome to an exit code.
//
// Each round costs a bounded number of calls whatever the number of hosts:
// the token's status, then (for registered and healthy) one scan of the
// host list, all pages, and for baremetal servers one status-detail query.
package wait

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// Conditions of --for.
const (
	Used       = "used"
	Registered = "registered"
	Healthy    = "healthy"
)

// Conditions lists the values of --for.
var Conditions = []string{Used, Registered, Healthy}

// Token statuses the engine reads (TokenStatus, and the Terraform
// provider's EXHAUSTED, treated like USED).
const (
	statusAvailable = "AVAILABLE"
	statusUsed      = "USED"
	statusExhausted = "EXHAUSTED"
	statusExpired   = "EXPIRED"
)

// Host is one sensor or baremetal server linked to the token, in the
// vendor's field names.
type Host struct {
	ID           string `json:"id"`
	DisplayName  string `json:"display_name,omitempty"`
	State        string `json:"state,omitempty"`
	LCMStatus    string `json:"lcm_status,omitempty"`
	LCMOperation string `json:"lcm_operation,omitempty"`
	LCMError     string `json:"lcm_error,omitempty"`
	Connectivity string `json:"connectivity_status,omitempty"`
	Health       string `json:"health,omitempty"`
	// Registered, Healthy and Failed classify the host; the source sets
	// them by the vendor's rules for its kind of host. Installed says its
	// install (a server's lcm operation, a sensor's registration) ended
	// well: a host that is neither healthy nor failed is then not
	// installing any more but unhealthy (disconnected, degraded).
	Registered bool `json:"-"`
	Healthy    bool `json:"-"`
	Failed     bool `json:"-"`
	Installed  bool `json:"-"`
}

// Label names a host in messages: "web-01 (id)".
func (h Host) Label() string {
	if h.DisplayName == "" || h.DisplayName == h.ID {
		return h.ID
	}
	return h.DisplayName + " (" + h.ID + ")"
}

// Snapshot is what one round saw.
type Snapshot struct {
	// TokenStatus is AVAILABLE, EXPIRED, USED (or EXHAUSTED).
	TokenStatus string
	// Usage is how many hosts registered with the token; Remaining how many
	// may still; -1 when unknown.
	Usage     int64
	Remaining int64
	// Hosts are the hosts linked to the token (not fetched for used).
	Hosts []Host
}

// Source fetches one round's snapshot with a bounded number of calls.
type Source interface {
	Round(ctx context.Context, cond string) (Snapshot, error)
}

// Clock is time for the loop (tests pass a fake that never sleeps).
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is the wall clock.
type RealClock struct{}

// Now implements Clock.
func (RealClock) Now() time.Time { return time.Now() }

// Sleep implements Clock.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Defaults of the flags.
const (
	DefaultTimeout  = 30 * time.Minute
	DefaultInterval = 5 * time.Second
	// backoffFactor bounds the interval: it doubles while nothing changes,
	// up to this many times the first (5s backs off to 30s).
	backoffFactor = 6
	// lastRoundGrace bounds the least time a round gets (it is at most the
	// interval): the round that starts at the deadline still runs.
	lastRoundGrace = 2 * time.Second
)

// roundContext bounds one round by the deadline (or, for the round that
// starts at it, by the smaller of lastRoundGrace and the interval), so a
// request retried against a server that went away cannot hold the wait
// past --wait-timeout. The clock may be a fake one: the bound is the time
// left on it.
func roundContext(ctx context.Context, clock Clock, deadline time.Time, interval time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, max(deadline.Sub(clock.Now()), min(lastRoundGrace, interval)))
}

// Options configure Run.
type Options struct {
	// Condition is used, registered or healthy.
	Condition string
	// Count is how many hosts must reach it (used: usage count; 0 means 1).
	Count int
	// CountGiven says --count was given (used then also ends at that usage).
	CountGiven bool
	Timeout    time.Duration
	Interval   time.Duration
	Clock      Clock
	// OnRound is told each round's progress (for a progress line).
	OnRound func(Progress)
}

// Outcome is how a wait ended.
type Outcome int

// Outcomes.
const (
	// Reached: the condition holds (exit 0).
	Reached Outcome = iota
	// Unreachable: it can no longer hold: too many failed hosts, or the
	// token is EXPIRED or used up (exit 5).
	Unreachable
	// TimedOut: the timeout passed first (exit 124).
	TimedOut
	// waiting: not decided yet.
	waiting Outcome = -1
)

// Progress is one round's view.
type Progress struct {
	Round       int
	Condition   string
	Count       int
	CountGiven  bool
	TokenStatus string
	Usage       int64
	// Allowed is the token's instance count (-1 when unknown).
	Allowed int64
	Reached int
	Pending int
	// Unhealthy counts the pending hosts that are installed but not
	// healthy (the others are installing).
	Unhealthy int
	Failed    int
	// FailedHosts are the failed hosts seen this round.
	FailedHosts []Host
	// Err is a transient error of this round (retried next round).
	Err error
}

// String is the progress line: "2/5 registered, 1 installing, 1 failed".
func (p Progress) String() string {
	var b strings.Builder
	if p.Condition == Used {
		switch {
		case p.Usage >= 0 && p.CountGiven:
			fmt.Fprintf(&b, "%d/%d used", p.Usage, p.Count)
		case p.Usage >= 0 && p.Allowed >= 0:
			fmt.Fprintf(&b, "%d/%d used", p.Usage, p.Allowed)
		case p.Usage >= 0:
			fmt.Fprintf(&b, "%d used", p.Usage)
		default:
			b.WriteString("waiting for use")
		}
		if p.TokenStatus != "" {
			fmt.Fprintf(&b, ", token %s", p.TokenStatus)
		}
	} else {
		fmt.Fprintf(&b, "%d/%d %s", p.Reached, p.Count, p.Condition)
		if n := p.Pending - p.Unhealthy; n > 0 {
			fmt.Fprintf(&b, ", %d installing", n)
		}
		if p.Unhealthy > 0 {
			fmt.Fprintf(&b, ", %d not healthy", p.Unhealthy)
		}
		if p.Failed > 0 {
			fmt.Fprintf(&b, ", %d failed", p.Failed)
		}
		if p.TokenStatus != "" && p.TokenStatus != statusAvailable {
			fmt.Fprintf(&b, ", token %s", p.TokenStatus)
		}
	}
	if p.Err != nil {
		b.WriteString(" (retrying: ")
		b.WriteString(firstLine(p.Err.Error()))
		b.WriteString(")")
	}
	return b.String()
}

// Result is what the wait saw last.
type Result struct {
	Outcome     Outcome
	Condition   string
	Count       int
	CountGiven  bool
	TokenStatus string
	Usage       int64
	Allowed     int64
	Reached     []Host
	Pending     []Host
	Failed      []Host
	Rounds      int
	// Reason says why the count became unreachable, or what the last
	// round's transient error was at a timeout.
	Reason string
}

// withDefaults fills in the real clock and the default interval and
// timeout where they were left unset.
func withDefaults(clock Clock, interval, timeout time.Duration) (Clock, time.Duration, time.Duration) {
	if clock == nil {
		clock = RealClock{}
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return clock, interval, timeout
}

// Run polls src until the condition holds for the count, can no longer hold,
// or the timeout passes. Authentication, permission and not-found errors,
// and any error that retrying cannot fix, end it at once and are returned;
// 429, 5xx and network errors are retried every round until the deadline.
func Run(ctx context.Context, src Source, opts Options) (Result, error) {
	if opts.Count < 1 {
		opts.Count = 1
	}
	opts.Clock, opts.Interval, opts.Timeout = withDefaults(opts.Clock, opts.Interval, opts.Timeout)
	deadline := opts.Clock.Now().Add(opts.Timeout)
	interval := opts.Interval
	res := Result{Condition: opts.Condition, Count: opts.Count, CountGiven: opts.CountGiven, Usage: -1, Allowed: -1}
	var last string
	for round := 1; ; round++ {
		res.Rounds = round
		rctx, cancel := roundContext(ctx, opts.Clock, deadline, opts.Interval)
		snap, err := src.Round(rctx, opts.Condition)
		cut := rctx.Err() != nil
		cancel()
		var pr Progress
		switch {
		case err != nil && ctx.Err() != nil:
			return res, exit.WithCode(exit.Interrupted, fmt.Errorf("waiting interrupted: %w", ctx.Err()))
		case err != nil && cut:
			// The deadline passed during the round: its error says only
			// that, so an earlier round's failure says more.
			res.Outcome = TimedOut
			if res.Reason == "" {
				res.Reason = "last attempt failed: " + firstLine(err.Error())
			}
			return res, nil
		case err != nil && !Transient(err):
			return res, err
		case err != nil:
			res.Reason = "last attempt failed: " + firstLine(err.Error())
			pr = res.progress(round)
			pr.Err = err
		default:
			res.Reason = ""
			res.classify(snap, opts)
			pr = res.progress(round)
		}
		if opts.OnRound != nil {
			opts.OnRound(pr)
		}
		if err == nil && (res.Outcome == Reached || res.Outcome == Unreachable) {
			return res, nil
		}
		now := opts.Clock.Now()
		if !now.Before(deadline) {
			res.Outcome = TimedOut
			return res, nil
		}
		// Back off while nothing changes; start again from the interval
		// when something does.
		if key := pr.String(); key == last {
			interval = min(interval*2, opts.Interval*backoffFactor)
		} else {
			interval, last = opts.Interval, key
		}
		if err := opts.Clock.Sleep(ctx, min(interval, deadline.Sub(now))); err != nil {
			return res, exit.WithCode(exit.Interrupted, fmt.Errorf("waiting interrupted: %w", err))
		}
	}
}

// classify sorts the snapshot's hosts and decides the outcome.
func (res *Result) classify(s Snapshot, opts Options) {
	res.TokenStatus, res.Usage, res.Allowed = s.TokenStatus, s.Usage, -1
	if s.Usage >= 0 && s.Remaining >= 0 {
		res.Allowed = s.Usage + s.Remaining
	}
	res.Reached, res.Pending, res.Failed = nil, nil, nil
	res.Outcome = waiting
	exhausted := s.TokenStatus == statusUsed || s.TokenStatus == statusExhausted
	if opts.Condition == Used {
		switch {
		case exhausted, opts.CountGiven && s.Usage >= int64(opts.Count):
			res.Outcome = Reached
		case s.TokenStatus == statusExpired:
			res.Outcome = Unreachable
			res.Reason = "the token is EXPIRED"
		}
		return
	}
	for _, h := range s.Hosts {
		switch {
		case h.Failed:
			res.Failed = append(res.Failed, h)
		case opts.Condition == Healthy && h.Healthy, opts.Condition == Registered && h.Registered:
			res.Reached = append(res.Reached, h)
		default:
			res.Pending = append(res.Pending, h)
		}
	}
	if len(res.Reached) >= opts.Count {
		res.Outcome = Reached
		return
	}
	capacity := int64(0)
	if s.TokenStatus == statusAvailable && s.Remaining > 0 {
		capacity = s.Remaining
	}
	if s.TokenStatus == statusAvailable && s.Remaining < 0 {
		return // capacity unknown: keep waiting
	}
	if possible := int64(len(res.Reached)+len(res.Pending)) + capacity; possible < int64(opts.Count) {
		res.Outcome = Unreachable
		var why []string
		if len(res.Failed) > 0 {
			why = append(why, fmt.Sprintf("%d host(s) failed", len(res.Failed)))
		}
		switch {
		case s.TokenStatus == statusExpired:
			why = append(why, "the token is EXPIRED")
		case exhausted || (s.TokenStatus == statusAvailable && capacity == 0):
			why = append(why, "the token has no instances left")
		case s.TokenStatus == statusAvailable:
			why = append(why, fmt.Sprintf("the token has %d instance(s) left", capacity))
		}
		res.Reason = fmt.Sprintf("at most %d of %d can become %s: %s", possible, opts.Count, opts.Condition, strings.Join(why, ", "))
	}
}

func (res *Result) progress(round int) Progress {
	return Progress{Round: round, Condition: res.Condition, Count: res.Count, CountGiven: res.CountGiven, TokenStatus: res.TokenStatus,
		Usage: res.Usage, Allowed: res.Allowed, Reached: len(res.Reached), Pending: len(res.Pending), Unhealthy: unhealthy(res.Pending),
		Failed: len(res.Failed), FailedHosts: res.Failed}
}

// unhealthy counts the installed hosts among pending ones.
func unhealthy(pending []Host) int {
	n := 0
	for _, h := range pending {
		if h.Installed {
			n++
		}
	}
	return n
}

// Progress is the result as a progress report (the last round's).
func (res *Result) Progress() Progress { return res.progress(res.Rounds) }

// Transient reports an error that a later round may not see: rate limits,
// unavailable servers (exit 6) and network failures (exit 7).
func Transient(err error) bool {
	switch exit.CodeOf(err) {
	case exit.Unavailable:
		return true
	case exit.Network:
		// A certificate or pin the client refuses stays refused.
		return !client.Permanent(err)
	}
	return false
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Lazy is a Source made by its first successful call of New: a wait on a
// token given by the user looks the token up in its first round, so an SSP
// that is briefly unavailable when the wait starts is retried like any
// round, until the deadline; errors retrying cannot fix (an unknown or
// ambiguous name) still end the wait at once.
type Lazy struct {
	New func(ctx context.Context) (Source, error)
	src Source
}

// Round implements Source.
func (l *Lazy) Round(ctx context.Context, cond string) (Snapshot, error) {
	if l.src == nil {
		src, err := l.New(ctx)
		if err != nil {
			return Snapshot{}, err
		}
		l.src = src
	}
	return l.src.Round(ctx, cond)
}
