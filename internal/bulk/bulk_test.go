package bulk

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
)

func TestRunBoundsConcurrencyAndKeepsOrder(t *testing.T) {
	var running, peak atomic.Int32
	sources := make([]string, 50)
	for i := range sources {
		sources[i] = string(rune('a' + i%26))
	}
	results := Run(context.Background(), sources, 3, func(ctx context.Context, i int) (json.RawMessage, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer running.Add(-1)
		if i%10 == 0 {
			return nil, exit.Errorf(exit.NotFound, "item %d", i)
		}
		return json.RawMessage(`{}`), nil
	})
	if peak.Load() > 3 {
		t.Fatalf("peak concurrency %d > 3", peak.Load())
	}
	for i, r := range results {
		if r.Source != sources[i] || r.OK != (i%10 != 0) {
			t.Fatalf("result %d = %+v", i, r)
		}
	}
	if err := Outcome(results); exit.CodeOf(err) != exit.Partial {
		t.Fatalf("mixed batch: %v", err)
	}
}

func TestOutcome(t *testing.T) {
	ok := Result{OK: true}
	nf := Result{Err: exit.Errorf(exit.NotFound, "x")}
	if Outcome([]Result{ok, ok}) != nil {
		t.Fatal("all ok")
	}
	if exit.CodeOf(Outcome([]Result{nf, nf})) != exit.NotFound {
		t.Fatal("all failed keeps the failure's code")
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var started atomic.Int32
	results := Run(ctx, make([]string, 20), 1, func(ctx context.Context, i int) (json.RawMessage, error) {
		if started.Add(1) == 2 {
			cancel()
		}
		return nil, ctx.Err()
	})
	if started.Load() > 3 {
		t.Fatalf("%d items started after cancel", started.Load())
	}
	last := results[len(results)-1]
	if last.OK || !errors.Is(last.Err, context.Canceled) || exit.CodeOf(last.Err) != exit.Interrupted {
		t.Fatalf("item after cancel: %+v", last)
	}
}
