package wait

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// TaskFetch fetches one task (GetBaremetalTask), raw and decoded.
type TaskFetch func(ctx context.Context, id string) (ssp.Task, json.RawMessage, error)

// TaskOptions configure Tasks.
type TaskOptions struct {
	Timeout  time.Duration
	Interval time.Duration
	Clock    Clock
	// OnRound is told how many tasks have ended after each round.
	OnRound func(done, total int, err error)
}

// TaskState is one task as last seen.
type TaskState struct {
	ID   string
	Task ssp.Task
	Raw  json.RawMessage
	// Done: the task ended (COMPLETED, TIMEDOUT or ABORTED).
	Done bool
}

// TaskResult is how the tasks ended.
type TaskResult struct {
	Tasks []TaskState
	// Code is the exit code of DESIGN.md (Waiting): 0 when every task
	// COMPLETED with every server SUCCESS, 124 when a task TIMEDOUT or the
	// wait timed out, 5 when tasks were ABORTED or every server FAILED, 8
	// when some servers failed and others succeeded.
	Code int
	// Reason sums up a non-zero code.
	Reason string
}

// taskEnded reports the task statuses after which nothing changes.
func taskEnded(status string) bool {
	switch status {
	case ssp.TaskCompleted, ssp.TaskTimedOut, ssp.TaskAborted:
		return true
	}
	return false
}

// TaskCode is the exit code of one ended task, and why.
func TaskCode(t ssp.Task) (int, string) {
	switch t.TaskStatus {
	case ssp.TaskTimedOut:
		return exit.Timeout, fmt.Sprintf("task %s TIMEDOUT", t.ID)
	case ssp.TaskAborted:
		return exit.Conflict, fmt.Sprintf("task %s was ABORTED", t.ID)
	}
	ok, failed := 0, 0
	for _, s := range t.Servers {
		if s.ServerTaskStatus == ssp.LCMSuccess {
			ok++
		} else {
			failed++
		}
	}
	switch {
	case failed == 0:
		return exit.OK, ""
	case ok == 0:
		return exit.Conflict, fmt.Sprintf("task %s: every server failed", t.ID)
	default:
		return exit.Partial, fmt.Sprintf("task %s: %d of %d servers failed", t.ID, failed, ok+failed)
	}
}

// Tasks polls the tasks until each has ended or the timeout passes. Errors
// other than transient ones (429, 5xx, network) end it at once.
func Tasks(ctx context.Context, ids []string, fetch TaskFetch, opts TaskOptions) (TaskResult, error) {
	opts.Clock, opts.Interval, opts.Timeout = withDefaults(opts.Clock, opts.Interval, opts.Timeout)
	deadline := opts.Clock.Now().Add(opts.Timeout)
	res := TaskResult{Tasks: make([]TaskState, len(ids))}
	for i, id := range ids {
		res.Tasks[i].ID = id
	}
	interval := opts.Interval
	for {
		done := 0
		var roundErr error
		for i := range res.Tasks {
			ts := &res.Tasks[i]
			if ts.Done {
				done++
				continue
			}
			fctx, cancel := roundContext(ctx, opts.Clock, deadline, opts.Interval)
			t, raw, err := fetch(fctx, ts.ID)
			cut := fctx.Err() != nil
			cancel()
			switch {
			case err != nil && ctx.Err() != nil:
				return res, exit.WithCode(exit.Interrupted, fmt.Errorf("waiting interrupted: %w", ctx.Err()))
			case err != nil && cut:
				// The deadline passed while fetching: the wait timed out.
				res.Code = exit.Timeout
				res.Reason = fmt.Sprintf("%d of %d task(s) still running at --wait-timeout; last attempt failed: %s", len(ids)-done, len(ids), firstLine(err.Error()))
				return res, nil
			case err != nil && !Transient(err):
				return res, err
			case err != nil:
				roundErr = err
				continue
			}
			ts.Task, ts.Raw, ts.Done = t, raw, taskEnded(t.TaskStatus)
			if ts.Done {
				done++
			}
		}
		if opts.OnRound != nil {
			opts.OnRound(done, len(ids), roundErr)
		}
		if done == len(ids) {
			res.Code, res.Reason = combine(res.Tasks)
			return res, nil
		}
		now := opts.Clock.Now()
		if !now.Before(deadline) {
			res.Code = exit.Timeout
			res.Reason = fmt.Sprintf("%d of %d task(s) still running at --wait-timeout", len(ids)-done, len(ids))
			if roundErr != nil {
				res.Reason += "; last attempt failed: " + firstLine(roundErr.Error())
			}
			return res, nil
		}
		if err := opts.Clock.Sleep(ctx, min(interval, deadline.Sub(now))); err != nil {
			return res, exit.WithCode(exit.Interrupted, fmt.Errorf("waiting interrupted: %w", err))
		}
		interval = min(interval*2, opts.Interval*backoffFactor)
	}
}

// combine merges the codes of several ended tasks: one code when they
// agree; 124 when tasks that did not succeed all timed out; else 8.
func combine(tasks []TaskState) (int, string) {
	codes := map[int]int{}
	reason := ""
	for _, t := range tasks {
		c, why := TaskCode(t.Task)
		codes[c]++
		if why != "" && reason == "" {
			reason = why
		}
	}
	if len(codes) == 0 {
		return exit.OK, ""
	}
	if len(codes) == 1 {
		for c := range codes {
			return c, reason
		}
	}
	if codes[exit.Timeout] > 0 && codes[exit.Conflict] == 0 && codes[exit.Partial] == 0 {
		return exit.Timeout, reason
	}
	return exit.Partial, reason
}
