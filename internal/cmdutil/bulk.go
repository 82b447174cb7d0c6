package cmdutil

import (
	"encoding/json"
	"fmt"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// PrintBulk prints the results of a batch. JSON and YAML get one
// {"source","ok","result"|"error"} entry per item; a table lists the
// successful objects, -o id their ids; failures are listed on stderr. It
// returns the batch's outcome (nil, exit 8, or the common failure's code).
func (f *Factory) PrintBulk(o output.Options, kind output.Kind, results []bulk.Result) error {
	pr := f.Printer(o)
	machine := o.Format == output.JSON || o.Format == output.JSONL || o.Format == output.YAML
	var l output.ListWriter
	if machine {
		l = pr.List(output.Kind{Noun: "result", IDField: "source"})
	} else {
		l = pr.List(kind)
	}
	for _, it := range bulk.Items(results) {
		if machine {
			raw, err := output.MarshalJSON(it)
			if err != nil {
				return err
			}
			if err := l.Add(raw); err != nil {
				return err
			}
			continue
		}
		if it.OK && len(it.Result) > 0 {
			if err := l.Add(it.Result); err != nil {
				return err
			}
		}
	}
	f.PrintFailures(results)
	if machine || l.Count() > 0 {
		if err := l.Close(); err != nil {
			return err
		}
	}
	return bulk.Outcome(results)
}

// PrintFailures lists the failed items on stderr, one line each; the items
// an interrupt kept from starting get one line together.
func (f *Factory) PrintFailures(results []bulk.Result) {
	var notStarted []string
	for _, r := range results {
		switch {
		case r.OK:
		case r.NotStarted():
			notStarted = append(notStarted, r.Source)
		default:
			fmt.Fprintf(f.IOStreams.ErrOut, "%s: %s\n", escape.Text(r.Source), escape.Message(r.Err.Error()))
		}
	}
	switch n := len(notStarted); {
	case n == 1:
		fmt.Fprintf(f.IOStreams.ErrOut, "%s: not started (interrupted); nothing was sent for it\n", notStarted[0])
	case n > 1:
		fmt.Fprintf(f.IOStreams.ErrOut, "%s ... %s: %d not started (interrupted); nothing was sent for them\n", notStarted[0], notStarted[n-1], n)
	}
}

// Summary prints "N created, M failed, K not started" on stderr for a batch.
func (f *Factory) Summary(verb string, results []bulk.Result) {
	ok, notStarted, interrupted := 0, 0, 0
	for _, r := range results {
		switch {
		case r.OK:
			ok++
		case r.NotStarted():
			notStarted++
		case exit.CodeOf(r.Err) == exit.Interrupted:
			interrupted++
		}
	}
	msg := fmt.Sprintf("%d %s", ok, verb)
	if failed := len(results) - ok - notStarted - interrupted; failed > 0 {
		msg += fmt.Sprintf(", %d failed", failed)
	}
	if interrupted > 0 {
		msg += fmt.Sprintf(", %d interrupted in flight", interrupted)
	}
	if notStarted > 0 {
		msg += fmt.Sprintf(", %d not started (interrupted)", notStarted)
	}
	f.Notice("%s", msg)
}

// RawOf marshals v for printing.
func RawOf(v any) json.RawMessage {
	raw, _ := output.MarshalJSON(v)
	return raw
}
