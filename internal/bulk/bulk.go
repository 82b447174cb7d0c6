// Package bulk runs the items of a batch (documents of a manifest, ids of a
// delete) with bounded concurrency and keeps a result per item, in order.
package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// DefaultConcurrency is small: vendor managers rate-limit per client (NSX
// allows 40 concurrent requests and 100 per second by default).
const DefaultConcurrency = 4

// Outcomes of a create (the "outcome" of DESIGN.md's -f envelopes).
const (
	Created = "created"
	// Exists: the document's object was already there (--skip-existing).
	Exists = "exists"
	Failed = "failed"
	// Unknown: the request may have created the object; look before
	// retrying (client.OutcomeUnknown).
	Unknown = "unknown"
)

// Result is one item's outcome.
type Result struct {
	Source string
	// Outcome is set for creates: Created, Exists, Failed or Unknown.
	Outcome string
	OK      bool
	// Value is the created or fetched object (raw vendor JSON), if any.
	Value json.RawMessage
	Err   error
	// Planned is set in a dry run for an item whose change was recorded,
	// not sent (Err is the client.NotSentError): not a failure.
	Planned bool
}

// CreateOutcome is the outcome of a create that ended with err.
func CreateOutcome(err error) string {
	switch {
	case err == nil:
		return Created
	case client.OutcomeUnknown(err):
		return Unknown
	}
	return Failed
}

// Run calls fn for each of n items, at most concurrency at a time, and
// returns the results in item order. When ctx is cancelled, items not yet
// started are marked interrupted and not run.
func Run(ctx context.Context, sources []string, concurrency int, fn func(ctx context.Context, i int) (json.RawMessage, error)) []Result {
	if concurrency < 1 {
		concurrency = 1
	}
	results := make([]Result, len(sources))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, src := range sources {
		results[i].Source = src
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i].Err = &NotStartedError{Err: ctx.Err()}
			continue
		}
		if ctx.Err() != nil {
			<-sem
			results[i].Err = &NotStartedError{Err: ctx.Err()}
			continue
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			v, err := fn(ctx, i)
			results[i].Value, results[i].Err, results[i].OK = v, err, err == nil
			results[i].Planned = client.IsNotSent(err)
		}(i)
	}
	wg.Wait()
	return results
}

// NotStartedError is the result of an item that was never run because the
// batch was interrupted: nothing was sent for it.
type NotStartedError struct{ Err error }

func (e *NotStartedError) Error() string { return "not started: interrupted" }
func (e *NotStartedError) Unwrap() error { return e.Err }

// ExitCode implements exit.Coder.
func (e *NotStartedError) ExitCode() int { return exit.Interrupted }

// NotStarted reports whether the item was never run.
func (r Result) NotStarted() bool {
	var ns *NotStartedError
	return errors.As(r.Err, &ns)
}

// Outcome is the error a batch ends with: nil when all succeeded, a silent
// exit 8 when some failed and some succeeded, and the first failure's code
// when all failed (the per-item errors were already printed).
func Outcome(results []Result) error {
	failed, first := 0, error(nil)
	for _, r := range results {
		if !r.OK && !r.Planned {
			failed++
			if first == nil {
				first = r.Err
			}
		}
	}
	switch {
	case failed == 0:
		return nil
	case failed < len(results):
		return exit.ErrPartial
	default:
		return &exit.SilentError{Code: exit.CodeOf(first)}
	}
}

// Item is the bulk -o json shape of a result.
type Item struct {
	Source  string          `json:"source"`
	Outcome string          `json:"outcome,omitempty"`
	OK      bool            `json:"ok"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *exit.Detail    `json:"error,omitempty"`
}

// Items converts results to their JSON shape.
func Items(results []Result) []Item {
	out := make([]Item, len(results))
	for i, r := range results {
		out[i] = Item{Source: r.Source, Outcome: r.Outcome, OK: r.OK, Result: r.Value}
		if !r.OK {
			d := exit.DetailOf(r.Err)
			out[i].Error = &d
		}
	}
	return out
}
