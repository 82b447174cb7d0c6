package cmdutil

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/prompt"
)

// ReadIDs returns the ID arguments of a verb that takes one ID, replacing
// a single "-" with the non-empty lines of stdin, so that ids that are
// secrets (NSX tokens, agent uuids) stay out of argv and shell history.
// Empty stdin is a usage error: there is nothing to act on.
func (f *Factory) ReadIDs(args []string) ([]string, error) {
	return f.readIDs(args, false)
}

// ReadIDList is ReadIDs for verbs that take several IDs (delete, features
// set): "-" with empty stdin gives no IDs, which the verb reports with
// NothingToDo, as `xargs -r` runs nothing, so that `... -o id | tokenctl
// token delete - --yes` is safe when the list is empty.
func (f *Factory) ReadIDList(args []string) ([]string, error) {
	return f.readIDs(args, true)
}

// NothingToDo ends a verb given "-" and an empty stdin: a notice on stderr,
// exit 0, and with -o json or yaml the empty list of results ([]), so a
// script parsing stdout reads a list as on any other day. Verbs call it
// after checking their flags, before any request.
func (f *Factory) NothingToDo(cmd *cobra.Command) error {
	f.Notice("%s: no IDs on stdin (\"-\"); nothing to do.", cmd.CommandPath())
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	switch o.Format {
	case output.JSON, output.JSONL, output.YAML:
		return f.PrintBulk(o, output.Kind{}, nil)
	}
	return nil
}

func (f *Factory) readIDs(args []string, emptyOK bool) ([]string, error) {
	var ids []string
	dash := false
	for _, a := range args {
		if a != "-" {
			if strings.TrimSpace(a) == "" {
				return nil, exit.Usagef("an empty ID was given")
			}
			ids = append(ids, a)
			continue
		}
		if dash {
			return nil, exit.Usagef("\"-\" (read IDs from stdin) can be given once")
		}
		dash = true
		if f.IOStreams.IsStdinTTY() {
			// Typed at a terminal rather than piped in.
			if !emptyOK && f.IOStreams.CanPrompt() {
				id, err := f.askID()
				if err != nil {
					return nil, err
				}
				ids = append(ids, id)
				continue
			}
			if f.IOStreams.IsStderrTTY() {
				f.Notice("Reading IDs from the terminal, one per line; end with Ctrl-D.")
			}
		}
		sc := bufio.NewScanner(f.IOStreams.In)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		n := 0
		for sc.Scan() {
			if line := strings.TrimSpace(sc.Text()); line != "" {
				ids = append(ids, line)
				n++
			}
		}
		if err := sc.Err(); err != nil {
			return nil, exit.Usagef("reading IDs from stdin: %v", err)
		}
		if n == 0 && !emptyOK {
			return nil, exit.Usagef("\"-\" reads the ID from stdin, but stdin was empty")
		}
	}
	return ids, nil
}

// askID asks for the single ID that "-" stands for at a terminal, with
// hidden input: such ids are often secrets (an NSX token, an agent uuid),
// and reading the terminal as stdin waited silently for Ctrl-D and echoed
// them. Esc is exit 1, nothing sent.
func (f *Factory) askID() (string, error) {
	id, err := f.Prompter.Password("ID (hidden as you type: it may be a secret)")
	if errors.Is(err, prompt.ErrDeclined) {
		return "", exit.Errorf(exit.Error, "cancelled: nothing sent")
	}
	if err != nil {
		return "", err
	}
	if id = strings.TrimSpace(id); id == "" {
		return "", exit.Usagef("an empty ID was given")
	}
	return id, nil
}

// Deleted is the result of one delete in -o json output.
type Deleted struct {
	ID   string `json:"id"`
	Type string `json:"type,omitempty"`
	// Gone is true when the object did not exist (already deleted).
	Gone bool `json:"already_gone,omitempty"`
}

// DeletedKind prints the per-id results of a delete: -o json, jsonl, yaml
// or id (a table prints a notice per id on stderr instead). Deletes check
// -o against it before anything is sent.
func DeletedKind(noun string) output.Kind {
	return output.Kind{Noun: "deleted " + noun, IDField: "id"}
}

// DeleteEach deletes ids with bounded concurrency and prints the per-id
// results: a notice per id on stderr (with a progress bar when stderr is a
// terminal), and with -o json|yaml|id the results on stdout. label names an id in notices (secret ids are masked).
func (f *Factory) DeleteEach(ctx context.Context, o output.Options, ids []string, concurrency int, noun string, label func(string) string,
	del func(ctx context.Context, id string) (Deleted, error)) error {
	results := f.RunBulk(ctx, "deleted", ids, concurrency, func(ctx context.Context, i int, pr *Progress) (json.RawMessage, error) {
		d, err := del(ctx, ids[i])
		if err != nil {
			return nil, err
		}
		if d.Gone {
			f.NoticeAbove(pr, "%s %s was already gone.", noun, label(ids[i]))
		} else {
			f.NoticeAbove(pr, "Deleted %s %s.", noun, label(ids[i]))
		}
		return RawOf(d), nil
	})
	for i := range results {
		results[i].Source = label(results[i].Source)
	}
	switch o.Format {
	case output.JSON, output.JSONL, output.YAML, output.ID:
		return f.PrintBulk(o, DeletedKind(noun), results)
	}
	f.PrintFailures(results)
	return bulk.Outcome(results)
}
