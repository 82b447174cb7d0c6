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
	"slices"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// Formats accepted by -o.
const (
	Table    = "table"
	Wide     = "wide"
	JSON     = "json"
	JSONL    = "jsonl"
	YAML     = "yaml"
	ID       = "id"
	Manifest = "manifest"
	Secret   = "secret"
	// InstallScript is a baremetal token's host install script
	// (internal/installscript); the token commands print it.
	InstallScript = "install-script"
)

// AllFormats is the help text's list.
var AllFormats = []string{Table, Wide, JSON, JSONL, YAML, ID, Manifest, Secret, InstallScript}

// Options are the output flags.
type Options struct {
	Format string
	JQ     string
	// Template is a Go text/template applied to the JSON output (--template).
	Template string
	// Now is the clock of relative times in tables and of the template's
	// timeago (time.Now when nil).
	Now func() time.Time
	// FormatFromEnv says Format is TOKENCTL_OUTPUT's default, not -o: where
	// a command cannot print it, the command's default applies instead of
	// an error (DropEnvFormat).
	FormatFromEnv bool
	// FilterFromEnv says JQ or Template is TOKENCTL_JQ's or
	// TOKENCTL_TEMPLATE's default: it applies where it fits, and output
	// it does not fit is printed without it (with a note on stderr).
	FilterFromEnv bool

	// NoHeaders drops a table's header row (--no-headers).
	NoHeaders bool
	// Width is the terminal width a table fits into; 0 sets no limit.
	Width int
	// Color colours state columns (stdout is a terminal or CLICOLOR_FORCE,
	// and no NO_COLOR).
	Color bool

	tmpl *Template
	// baseFormat is Format before a filter made it JSON.
	baseFormat string
}

// DropEnvFormat gives up a TOKENCTL_OUTPUT default the command cannot
// print, and reports whether it did: an explicit -o stays, and the
// command refuses it.
func (o *Options) DropEnvFormat() bool {
	if !o.FormatFromEnv {
		return false
	}
	o.FormatFromEnv = false
	o.Format = Table
	if o.Filtered() {
		o.Format = JSON
	}
	return true
}

// DropEnvFilter gives up a TOKENCTL_JQ or TOKENCTL_TEMPLATE default, for
// a command that prints no JSON at all.
func (o *Options) DropEnvFilter() {
	if !o.FilterFromEnv {
		return
	}
	o.JQ, o.Template, o.tmpl, o.FilterFromEnv = "", "", nil, false
	if o.baseFormat != "" {
		o.Format = o.baseFormat
	}
}

// envName names a setting's source in errors: the flag, or the variable.
func envName(fromEnv bool, flag, variable string) string {
	if fromEnv {
		return variable
	}
	return flag
}

// Validate checks the flags before anything is sent.
func (o *Options) Validate() error {
	if o.Format == "" {
		o.Format = Table
	}
	o.baseFormat = o.Format
	if !slices.Contains(AllFormats, o.Format) {
		return exit.Usagef("%s %q: must be one of %s", envName(o.FormatFromEnv, "-o/--output", "TOKENCTL_OUTPUT"), o.Format, strings.Join(AllFormats, ", "))
	}
	if o.Filtered() && o.Format != Table && o.Format != JSON {
		// A filter works on JSON. Where one side is only an environment
		// default, the other side wins.
		switch {
		case o.FilterFromEnv:
			o.DropEnvFilter()
		case o.FormatFromEnv:
			o.Format, o.FormatFromEnv = Table, false
		}
	}
	if o.JQ != "" {
		if o.Format != Table && o.Format != JSON {
			return exit.Usagef("--jq works on JSON output; it cannot be combined with -o %s", o.Format)
		}
		o.Format = JSON
		if _, err := compileJQ(o.JQ); err != nil {
			return exit.Usagef("%s %q: %v", envName(o.FilterFromEnv, "--jq", "TOKENCTL_JQ"), o.JQ, err)
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

// Shape is what a command prints: one object or a list of them.
type Shape int

const (
	// One object (get, status ID, create, update).
	One Shape = iota
	// Many objects, streamed (list, details, status without ID).
	Many
)

// Formats lists the -o values that print kind in shape, in AllFormats
// order: table, wide, json, jsonl and yaml always; id when the kind has an
// id field; secret and manifest for one object with such a field; and the
// kind's Extra formats (printed by the command itself) for one object.
func (k Kind) Formats(shape Shape) []string {
	fs := []string{Table, Wide, JSON, JSONL, YAML}
	if k.IDField != "" {
		fs = append(fs, ID)
	}
	if shape == One {
		if k.ManifestField != "" {
			fs = append(fs, Manifest)
		}
		if k.SecretField != "" {
			fs = append(fs, Secret)
		}
		fs = append(fs, k.Extra...)
	}
	return fs
}

// Check refuses a format the kind cannot print in shape: part of a
// command's validation, before any request.
func (o *Options) Check(k Kind, shape Shape) error {
	if p := o.FormatProblem(k, shape); p != nil {
		return exit.Usagef("%s %s", p.Field, p.Rule)
	}
	return nil
}

// FormatProblem is Check's finding as a validation problem (nil when the
// format applies), for commands that report every problem at once.
func (o *Options) FormatProblem(k Kind, shape Shape) *exit.Problem {
	fs := k.Formats(shape)
	if slices.Contains(fs, o.Format) {
		return nil
	}
	if o.DropEnvFormat() {
		return nil // a TOKENCTL_OUTPUT default gives way; -o errs
	}
	what := "a " + k.noun()
	if strings.ContainsRune("aeiou", rune(k.noun()[0])) {
		what = "an " + k.noun()
	}
	if shape == Many {
		what = "a list of " + k.noun() + "s"
	}
	why := ""
	switch {
	case shape == Many && (o.Format == Secret || o.Format == Manifest || slices.Contains(k.Extra, o.Format)):
		why = " (it prints a field of one object)"
	case o.Format == ID:
		why = " (it has no id field)"
	case o.Format == Secret:
		why = " (it has no secret to show)"
	case o.Format == Manifest:
		why = " (it has no registration manifest)"
	}
	return &exit.Problem{Field: "-o " + o.Format, Rule: fmt.Sprintf("does not apply to %s%s; use -o %s", what, why, orList(fs))}
}

// orList joins formats as "a, b or c".
func orList(fs []string) string {
	if len(fs) == 1 {
		return fs[0]
	}
	return strings.Join(fs[:len(fs)-1], ", ") + " or " + fs[len(fs)-1]
}

// IsTable reports whether the output is a table for people (-o table or
// wide), where commands may join in data that JSON does not carry.
func (o *Options) IsTable() bool { return o.Format == Table || o.Format == Wide }

// Filtered reports whether --jq or --template rewrites the JSON output.
func (o *Options) Filtered() bool { return o.JQ != "" || o.Template != "" }

// Render prints one JSON document (an object, or a whole list) as the
// options say: through --jq or --template, else indented.
func (p *Printer) Render(raw []byte) error {
	if p.opts.FilterFromEnv && p.opts.Filtered() {
		return p.renderEnvFilter(raw)
	}
	switch {
	case p.opts.tmpl != nil:
		return p.opts.tmpl.Execute(p.io.Out, raw)
	case p.opts.JQ != "":
		return runJQ(p.io.Out, p.opts.JQ, raw, p.io.IsStdoutTTY())
	}
	return writeIndented(p.io.Out, raw)
}

// renderEnvFilter applies a TOKENCTL_JQ or TOKENCTL_TEMPLATE default where
// it fits this output: it runs to the end first, and when it fails (a
// list's expression on one object, say) the output is printed without it,
// with a note on stderr. An explicit --jq or --template still fails.
func (p *Printer) renderEnvFilter(raw []byte) error {
	var buf bytes.Buffer
	var err error
	name := "TOKENCTL_JQ"
	if p.opts.tmpl != nil {
		name = "TOKENCTL_TEMPLATE"
		err = p.opts.tmpl.Execute(&buf, raw)
	} else {
		err = runJQ(&buf, p.opts.JQ, raw, p.io.IsStdoutTTY())
	}
	if err == nil {
		_, err = p.io.Out.Write(buf.Bytes())
		return err
	}
	fmt.Fprintf(p.io.ErrOut, "note: %s does not fit this output (%v); printed without it\n", name, err)
	return writeIndented(p.io.Out, raw)
}

// Machine reports whether the output is for scripts (json or yaml), so
// errors are also printed as JSON on stderr.
func (o *Options) Machine() bool { return o.Format == JSON || o.Format == YAML }

// Kind describes how a resource prints: its table columns and the fields
// that -o id, -o secret and -o manifest print. Which -o values apply
// follows from it (Formats).
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
	// Extra are further formats the command prints itself for one object
	// (install-script); Check accepts them, the Printer does not print them.
	Extra []string
}

func (k Kind) noun() string {
	if k.Noun == "" {
		return "item"
	}
	return k.Noun
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
	case JSONL:
		buf, err := appendCompact(nil, raw)
		if err != nil {
			return fmt.Errorf("server sent invalid JSON: %w", err)
		}
		_, err = p.io.Out.Write(append(buf, '\n'))
		return err
	case YAML:
		return writeYAMLDoc(p.io.Out, raw)
	case ID, Secret, Manifest:
		field := map[string]string{ID: kind.IDField, Secret: kind.SecretField, Manifest: kind.ManifestField}[p.opts.Format]
		if field == "" {
			if p.opts.DropEnvFormat() {
				return p.Object(raw, kind)
			}
			return p.opts.Check(kind, One)
		}
		item, err := ParseItem(raw)
		if err != nil {
			return err
		}
		v := item.String(field)
		if p.opts.Format == ID {
			_, err = fmt.Fprintln(p.io.Out, escape.Text(v))
			return err
		}
		return p.Exact(v)
	case Table, Wide:
		l := p.List(kind)
		if err := l.Add(raw); err != nil {
			return err
		}
		return l.Close()
	default:
		if p.opts.DropEnvFormat() {
			return p.Object(raw, kind)
		}
		if err := p.opts.Check(kind, One); err != nil {
			return err
		}
		// A kind's Extra formats (install-script) are the command's to print.
		return fmt.Errorf("-o %s: the command does not print it for a %s", p.opts.Format, kind.noun())
	}
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
// empty), streamed; --jq and --template see the whole array; jsonl prints
// one compact item per line; id one id per line; tables stream too, sized
// by their first page.
func (p *Printer) List(kind Kind) ListWriter {
	switch p.opts.Format {
	case JSON:
		if p.opts.Filtered() {
			return &jqList{p: p}
		}
		return &jsonList{w: newStreamWriter(p.io.Out)}
	case JSONL:
		return &jsonlList{w: newStreamWriter(p.io.Out)}
	case YAML:
		return &yamlList{w: p.io.Out}
	case ID:
		if kind.IDField == "" {
			if p.opts.DropEnvFormat() {
				return p.List(kind)
			}
			return &errList{err: p.opts.Check(kind, Many)}
		}
		return &fieldList{w: newStreamWriter(p.io.Out), field: kind.IDField}
	case Table, Wide:
		return newTableList(p, kind)
	default:
		if p.opts.DropEnvFormat() {
			return p.List(kind)
		}
		return &errList{err: p.opts.Check(kind, Many)}
	}
}

// PageEnder is a ListWriter that wants to know where pages end: a table
// sizes its columns on the first page, then streams.
type PageEnder interface {
	EndPage() error
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

// jsonlList prints one compact item per line (JSON Lines). Items are
// validated and copied without their insignificant whitespace by the same
// scanner as -o json, never decoded.
type jsonlList struct {
	w   *streamWriter
	n   int
	buf []byte
}

func (l *jsonlList) Add(raw json.RawMessage) error {
	var err error
	if l.buf, err = appendCompact(l.buf[:0], raw); err != nil {
		return fmt.Errorf("server sent invalid JSON: %w", err)
	}
	l.buf = append(l.buf, '\n')
	l.n++
	_, err = l.w.Write(l.buf)
	return err
}

func (l *jsonlList) Count() int   { return l.n }
func (l *jsonlList) Close() error { return l.w.Flush() }

// fieldList prints one field of each item (-o id), read from the raw item.
type fieldList struct {
	w     *streamWriter
	field string
	n     int
	buf   []byte
}

func (l *fieldList) Add(raw json.RawMessage) error {
	v, ok := lookup(raw, l.field)
	if !ok && !json.Valid(raw) {
		return fmt.Errorf("server sent invalid JSON: %s", bytes.TrimSpace(raw[:min(len(raw), 60)]))
	}
	l.n++
	l.buf = l.buf[:0]
	if ok {
		if len(v) > 1 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
			l.buf = append(l.buf, v[1:len(v)-1]...) // the common case: a plain string id, copied
			if !safeASCII(l.buf) {
				l.buf = append(l.buf[:0], escape.Text(string(l.buf))...)
			}
		} else {
			l.buf = append(l.buf, escape.Text(rawString(v))...)
		}
	}
	l.buf = append(l.buf, '\n')
	_, err := l.w.Write(l.buf)
	return err
}

func (l *fieldList) Count() int   { return l.n }
func (l *fieldList) Close() error { return l.w.Flush() }

// safeASCII reports whether b is printable ASCII only (nothing to escape).
func safeASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

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
