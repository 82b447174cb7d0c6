// Package output prints what tokenctl fetched: tables for people, and
// json, yaml, id, manifest and secret for scripts, with --jq on top.
//
// Objects pass through as the vendor's raw JSON so that field names and
// unknown fields survive, and list items are streamed one at a time.
package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// Formats accepted by -o.
const (
	Table    = "table"
	JSON     = "json"
	YAML     = "yaml"
	ID       = "id"
	Manifest = "manifest"
	Secret   = "secret"
	// InstallScript is a baremetal token's host install script
	// (internal/installscript); the token commands print it.
	InstallScript = "install-script"
)

// AllFormats is the help text's list.
var AllFormats = []string{Table, JSON, YAML, ID, Manifest, Secret, InstallScript}

// Options are the output flags.
type Options struct {
	Format string
	JQ     string
	// Template is a Go text/template applied to the JSON output (--template).
	Template string
	// Now is the clock of the template's timeago (time.Now when nil).
	Now func() time.Time

	tmpl *Template
}

// Validate checks the flags before anything is sent.
func (o *Options) Validate() error {
	if o.Format == "" {
		o.Format = Table
	}
	ok := false
	for _, f := range AllFormats {
		if o.Format == f {
			ok = true
		}
	}
	if !ok {
		return exit.Usagef("-o/--output %q: must be one of %s", o.Format, strings.Join(AllFormats, ", "))
	}
	if o.JQ != "" {
		if o.Format != Table && o.Format != JSON {
			return exit.Usagef("--jq works on JSON output; it cannot be combined with -o %s", o.Format)
		}
		o.Format = JSON
		if _, err := compileJQ(o.JQ); err != nil {
			return exit.Usagef("--jq %q: %v", o.JQ, err)
		}
	}
	if o.Template != "" {
		if o.JQ != "" {
			return exit.Usagef("--template and --jq cannot be combined: use one of them")
		}
		if o.Format != Table && o.Format != JSON {
			return exit.Usagef("--template works on JSON output; it cannot be combined with -o %s", o.Format)
		}
		o.Format = JSON
		t, err := ParseTemplate(o.Template, o.Now)
		if err != nil {
			return err
		}
		o.tmpl = t
	}
	return nil
}

// Filtered reports whether --jq or --template rewrites the JSON output.
func (o *Options) Filtered() bool { return o.JQ != "" || o.Template != "" }

// Render prints one JSON document (an object, or a whole list) as the
// options say: through --jq or --template, else indented.
func (p *Printer) Render(raw []byte) error {
	switch {
	case p.opts.tmpl != nil:
		return p.opts.tmpl.Execute(p.io.Out, raw)
	case p.opts.JQ != "":
		return runJQ(p.io.Out, p.opts.JQ, raw, p.io.IsStdoutTTY())
	}
	return writeIndented(p.io.Out, raw)
}

// Machine reports whether the output is for scripts (json or yaml), so
// errors are also printed as JSON on stderr.
func (o *Options) Machine() bool { return o.Format == JSON || o.Format == YAML }

// Column is one table column.
type Column struct {
	Header string
	Value  func(Item) string
}

// Kind describes how a resource prints: its table columns and the fields
// that -o id, -o secret and -o manifest print.
type Kind struct {
	// Noun for messages, e.g. "sensor registration token".
	Noun    string
	Columns []Column
	// IDField is what later commands take as ID (-o id).
	IDField string
	// SecretField holds a one-time secret (-o secret); "" when none.
	SecretField string
	// ManifestField holds the registration manifest; "" when none.
	ManifestField string
}

// Printer writes data to stdout per the output options.
type Printer struct {
	io   *iostreams.IOStreams
	opts Options
}

// New returns a printer; opts must be validated.
func New(ios *iostreams.IOStreams, opts Options) *Printer {
	return &Printer{io: ios, opts: opts}
}

// Format is the chosen -o.
func (p *Printer) Format() string { return p.opts.Format }

// Object prints one object.
func (p *Printer) Object(raw json.RawMessage, kind Kind) error {
	switch p.opts.Format {
	case JSON:
		return p.Render(raw)
	case YAML:
		return writeYAMLDoc(p.io.Out, raw)
	case InstallScript:
		return p.unsupported(kind)
	case ID, Secret, Manifest:
		field := map[string]string{ID: kind.IDField, Secret: kind.SecretField, Manifest: kind.ManifestField}[p.opts.Format]
		if field == "" {
			return p.unsupported(kind)
		}
		item, err := ParseItem(raw)
		if err != nil {
			return err
		}
		v := item.String(field)
		if p.opts.Format == ID {
			_, err = fmt.Fprintln(p.io.Out, v)
			return err
		}
		return p.Exact(v)
	default:
		l := p.List(kind)
		if err := l.Add(raw); err != nil {
			return err
		}
		return l.Close()
	}
}

func (p *Printer) unsupported(kind Kind) error {
	return exit.Usagef("-o %s: a %s has no %s field", p.opts.Format, kind.Noun, p.opts.Format)
}

// Exact writes s byte for byte (a manifest or a secret), with a newline only
// when stdout is a terminal, so `X=$(tokenctl ...)` and pipes get the bytes.
func (p *Printer) Exact(s string) error {
	if _, err := io.WriteString(p.io.Out, s); err != nil {
		return err
	}
	if p.io.IsStdoutTTY() && !strings.HasSuffix(s, "\n") {
		_, err := io.WriteString(p.io.Out, "\n")
		return err
	}
	return nil
}

// ListWriter receives the items of a list, one at a time.
type ListWriter interface {
	Add(raw json.RawMessage) error
	// Count is the number of items added so far.
	Count() int
	// Close ends the list; it must be called once, also for empty lists.
	Close() error
}

// List starts a list. JSON prints an array of the vendor's items ([] when
// empty), streamed; --jq and --template see the whole array.
func (p *Printer) List(kind Kind) ListWriter {
	switch p.opts.Format {
	case JSON:
		if p.opts.Filtered() {
			return &jqList{p: p}
		}
		return &jsonList{w: newStreamWriter(p.io.Out)}
	case YAML:
		return &yamlList{w: p.io.Out}
	case ID:
		return &fieldList{w: newStreamWriter(p.io.Out), field: kind.IDField}
	case Secret, Manifest, InstallScript:
		return &errList{err: exit.Usagef("-o %s prints one object; it does not apply to a list", p.opts.Format)}
	default:
		return &tableList{p: p, kind: kind}
	}
}

type jsonList struct {
	w   *streamWriter
	n   int
	buf []byte
}

func (l *jsonList) Add(raw json.RawMessage) error {
	if l.n == 0 {
		l.buf = append(l.buf[:0], "[\n  "...)
	} else {
		l.buf = append(l.buf[:0], ",\n  "...)
	}
	var err error
	if l.buf, err = appendIndent(l.buf, raw, "  ", "  "); err != nil {
		return fmt.Errorf("server sent invalid JSON: %w", err)
	}
	l.n++
	_, err = l.w.Write(l.buf)
	return err
}

func (l *jsonList) Count() int { return l.n }

func (l *jsonList) Close() error {
	var err error
	if l.n == 0 {
		_, err = io.WriteString(l.w, "[]\n")
	} else {
		_, err = io.WriteString(l.w, "\n]\n")
	}
	return errors.Join(err, l.w.Flush())
}

// jqList collects a list for --jq or --template, which see the whole array.
type jqList struct {
	p     *Printer
	items []json.RawMessage
}

func (l *jqList) Add(raw json.RawMessage) error {
	l.items = append(l.items, append(json.RawMessage(nil), raw...))
	return nil
}

func (l *jqList) Count() int { return len(l.items) }

func (l *jqList) Close() error {
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, it := range l.items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(it)
	}
	buf.WriteByte(']')
	return l.p.Render(buf.Bytes())
}

type fieldList struct {
	w     *streamWriter
	field string
	n     int
}

func (l *fieldList) Add(raw json.RawMessage) error {
	item, err := ParseItem(raw)
	if err != nil {
		return err
	}
	l.n++
	_, err = fmt.Fprintln(l.w, item.String(l.field))
	return err
}

func (l *fieldList) Count() int   { return l.n }
func (l *fieldList) Close() error { return l.w.Flush() }

type errList struct{ err error }

func (l *errList) Add(json.RawMessage) error { return l.err }
func (l *errList) Count() int                { return 0 }
func (l *errList) Close() error              { return l.err }

func writeIndented(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	// json.Indent keeps the body's trailing newline (servers encode with
	// one); drop it so an object ends with exactly one.
	if err := json.Indent(&buf, bytes.TrimSpace(raw), "", "  "); err != nil {
		return fmt.Errorf("server sent invalid JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// JSON marshals v the way tokenctl prints JSON objects it builds itself.
func MarshalJSON(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
