// Package reconcile converges a server to declarative documents: it reads
// and validates the documents (every problem at once, before any request),
// computes a plan from reads only, and executes it. `tokenctl diff` prints
// the plan, `tokenctl apply` executes it, `apply --dry-run` prints it.
//
// The package has no cobra and prints nothing: it takes a context and the
// typed clients, returns data, and reports progress through callbacks.
package reconcile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
)

// Input is one document of -f with the directory its relative
// passphrase_file paths start from.
type Input struct {
	manifest.Document
	// Dir is the directory of the document's file; "" (the working
	// directory) for stdin.
	Dir string
	// Unreadable is set, instead of Document, for a file of -f DIR that
	// could not be read or parsed while others could: Parse reports it
	// with the other files' problems.
	Unreadable *exit.Problem
}

// DocumentExtensions are the files -f DIR reads.
var DocumentExtensions = []string{".yaml", ".yml", ".json"}

// Read reads -f PATH: a file, "-" (stdin), or a directory, whose *.yaml,
// *.yml and *.json files are read in name order (not recursively). Each
// file may hold several YAML documents; each document is named FILE#N.
// Every unreadable or unparsable file is reported at once (exit 2).
func Read(path string, stdin io.Reader) ([]Input, error) {
	if path == "" {
		return nil, exit.Usagef("-f is required: a file, a directory or - for stdin")
	}
	if path == "-" {
		docs, err := manifest.Read("-", stdin)
		if err != nil {
			return nil, err
		}
		return inputs(docs, ""), nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, exit.Usagef("-f %s: %v", path, cleanPathError(err))
	}
	if !fi.IsDir() {
		docs, err := manifest.Read(path, nil)
		if err != nil {
			return nil, err
		}
		return inputs(docs, filepath.Dir(path)), nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, exit.Usagef("-f %s: %v", path, cleanPathError(err))
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !hasDocumentExtension(e.Name()) {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, exit.Usagef("-f %s: the directory has no %s files", path, strings.Join(DocumentExtensions, ", "))
	}
	var out []Input
	var errs []string
	for _, name := range names {
		docs, err := manifest.Read(filepath.Join(path, name), nil)
		if err != nil {
			errs = append(errs, err.Error())
			src, rule, ok := strings.Cut(err.Error(), ": ")
			if !ok {
				src, rule = name, err.Error()
			}
			out = append(out, Input{Dir: path, Unreadable: &exit.Problem{Source: src, Field: "(document)", Rule: rule}})
			continue
		}
		out = append(out, inputs(docs, path)...)
	}
	switch {
	case len(errs) == 0 || len(errs) < len(names):
		// Some files read: the unreadable ones are reported by Parse,
		// with the problems of the others.
		return out, nil
	case len(errs) == 1:
		return nil, exit.Usagef("%s", errs[0])
	default:
		return nil, exit.Usagef("%d files of %s cannot be read:\n  - %s", len(errs), path, strings.Join(errs, "\n  - "))
	}
}

func inputs(docs []manifest.Document, dir string) []Input {
	out := make([]Input, len(docs))
	for i, d := range docs {
		out[i] = Input{Document: d, Dir: dir}
	}
	return out
}

func hasDocumentExtension(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range DocumentExtensions {
		if ext == e {
			return true
		}
	}
	return false
}

func cleanPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return fmt.Errorf("%w", err)
}
