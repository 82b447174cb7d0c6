package cmdutil

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
	"github.com/tokenctl/tokenctl/internal/output"
)

// PrintBulk prints the results of a batch. JSON and YAML get one
// {"source","outcome","ok","result"|"error"} entry per item (outcome for
// creates); a table lists the successful objects, -o id their ids; failures
// are listed on stderr. It returns the batch's outcome (nil, exit 8, or the
// common failure's code).
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
		case r.OK, r.Planned:
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

// Summary prints what a batch of creates did on stderr: "N created, M
// already existed, K failed, U unknown (...), X not started (interrupted)";
// in a dry run, what it would create.
func (f *Factory) Summary(verb string, results []bulk.Result) {
	var created, exists, failed, unknown, notStarted, planned int
	for _, r := range results {
		switch {
		case r.Planned:
			planned++
		case r.Outcome == bulk.Exists:
			exists++
		case r.OK:
			created++
		case r.NotStarted():
			notStarted++
		case r.Outcome == bulk.Unknown || (r.Outcome == "" && client.OutcomeUnknown(r.Err)):
			unknown++
		default:
			failed++
		}
	}
	var parts []string
	if planned > 0 {
		parts = append(parts, fmt.Sprintf("dry run: %d to be %s", planned, verb))
	}
	if created > 0 || planned == 0 {
		parts = append(parts, fmt.Sprintf("%d %s", created, verb))
	}
	if exists > 0 {
		parts = append(parts, fmt.Sprintf("%d already existed", exists))
	}
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", failed))
	}
	if unknown > 0 {
		parts = append(parts, fmt.Sprintf("%d unknown (unanswered or interrupted in flight: they may exist; look before retrying)", unknown))
	}
	if notStarted > 0 {
		parts = append(parts, fmt.Sprintf("%d not started (interrupted)", notStarted))
	}
	f.Notice("%s", strings.Join(parts, ", "))
}

// CreateBatch is the creates of a manifest's documents.
type CreateBatch struct {
	// Sources name the documents ("FILE#N").
	Sources     []string
	Concurrency int
	// Existing returns the object document i already has (--skip-existing
	// found it with one list scan before the batch), or nil to create it.
	Existing func(i int) json.RawMessage
	// Create sends document i's create.
	Create func(ctx context.Context, i int) (json.RawMessage, error)
	// LookFor names what to look for after document i's create ended with
	// an unknown outcome, e.g. its display_name.
	LookFor func(i int) string
	// Finish is the advice printed when some documents failed: how to
	// complete the batch without duplicates (e.g. --skip-existing).
	Finish string
}

// RunCreates runs a batch of creates with a progress bar, prints the
// summary on stderr, and returns a result per document, in order, with its
// outcome: created, exists (not sent), failed, or unknown (the server may
// have made it). Printing the results (PrintBulk) is the caller's.
func (f *Factory) RunCreates(ctx context.Context, b CreateBatch) []bulk.Result {
	results := make([]bulk.Result, len(b.Sources))
	var todo []int
	var sources []string
	for i, src := range b.Sources {
		if b.Existing != nil {
			if raw := b.Existing(i); raw != nil {
				results[i] = bulk.Result{Source: src, Outcome: bulk.Exists, OK: true, Value: raw}
				continue
			}
		}
		todo = append(todo, i)
		sources = append(sources, src)
	}
	ran := f.RunBulk(ctx, "created", sources, b.Concurrency, func(ctx context.Context, j int, _ *Progress) (json.RawMessage, error) {
		i := todo[j]
		raw, err := b.Create(ctx, i)
		if err != nil && b.LookFor != nil {
			err = client.LookFor(err, b.LookFor(i))
		}
		return raw, err
	})
	unfinished := false
	for j, r := range ran {
		if !r.Planned {
			r.Outcome = bulk.CreateOutcome(r.Err)
		}
		unfinished = unfinished || (!r.OK && !r.Planned)
		results[todo[j]] = r
	}
	f.Summary("created", results)
	if unfinished && b.Finish != "" {
		f.Notice("%s", b.Finish)
	}
	return results
}

// SingleValueFormat reports the formats that print one value (-o id,
// secret, manifest, install-script): a create from a manifest takes them
// with one document only.
func SingleValueFormat(format string) bool {
	switch format {
	case output.ID, output.Secret, output.Manifest, output.InstallScript:
		return true
	}
	return false
}

// ConcurrencyProblems checks --concurrency, the number of calls a bulk
// verb runs at once.
func ConcurrencyProblems(n int) []exit.Problem {
	if n < 1 {
		return []exit.Problem{{Field: "--concurrency", Rule: "must be at least 1"}}
	}
	return nil
}

// ReadDocuments reads the documents of a create's -f file ("": none, "-":
// stdin) and refuses a single-value format for several of them (exit 2,
// before anything is sent), unless that format is an environment default
// that gives way.
func (f *Factory) ReadDocuments(file string, o output.Options) ([]manifest.Document, error) {
	if file == "" {
		return nil, nil
	}
	docs, err := manifest.Read(file, f.IOStreams.In)
	if err != nil {
		return nil, err
	}
	if len(docs) > 1 && SingleValueFormat(o.Format) && !o.DropEnvFormat() {
		return nil, exit.Usagef("-o %s prints one value; %s has %d documents (use -o json or yaml for a result per document)", o.Format, file, len(docs))
	}
	return docs, nil
}

// RawOf marshals v for printing.
func RawOf(v any) json.RawMessage {
	raw, _ := output.MarshalJSON(v)
	return raw
}
