package cmdutil

import (
	"encoding/json"
	"fmt"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/output"
)

// PrintBulk prints the results of a batch. JSON and YAML get one
// {"source","ok","result"|"error"} entry per item; a table lists the
// successful objects, -o id their ids; failures are listed on stderr. It
// returns the batch's outcome (nil, exit 8, or the common failure's code).
func (f *Factory) PrintBulk(o output.Options, kind output.Kind, results []bulk.Result) error {
	pr := f.Printer(o)
	machine := o.Format == output.JSON || o.Format == output.YAML
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
	for _, r := range results {
		if !r.OK {
			fmt.Fprintf(f.IOStreams.ErrOut, "%s: %v\n", r.Source, r.Err)
		}
	}
	if machine || l.Count() > 0 {
		if err := l.Close(); err != nil {
			return err
		}
	}
	return bulk.Outcome(results)
}

// Summary prints "N succeeded, M failed" on stderr for a batch.
func (f *Factory) Summary(verb string, results []bulk.Result) {
	ok := 0
	for _, r := range results {
		if r.OK {
			ok++
		}
	}
	if failed := len(results) - ok; failed > 0 {
		f.Notice("%d %s, %d failed", ok, verb, failed)
	} else {
		f.Notice("%d %s", ok, verb)
	}
}

// RawOf marshals v for printing.
func RawOf(v any) json.RawMessage {
	raw, _ := output.MarshalJSON(v)
	return raw
}
