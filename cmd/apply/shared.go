// Package apply is `tokenctl apply` and `tokenctl diff`: the declarative
// side of tokenctl. Both read documents (-f FILE|DIR|-), validate all of
// them before any request, and compute a plan from reads
// (internal/reconcile); diff prints the plan, apply carries it out.
package apply

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/reconcile"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// documentsHelp is the part of apply's and diff's help that describes the
// documents.
const documentsHelp = `Documents are YAML or JSON with kind: and the vendor's fields; -f DIR reads its *.yaml, *.yml
and *.json files in name order, and a file may hold several YAML documents (named FILE#N in
messages). Unknown fields are errors naming the field and the document; every problem of
every document is reported at once (exit 2) before any request.

  kind            key            converges
  SensorToken     display_name   a usable token: AVAILABLE, at least min_remaining instances
  BaremetalToken  display_name     (default 1) and min_lifetime (default 0) left, with the
                                   document's description, allowed_instance_count and (baremetal)
                                   expiry_time_since_creation_mins; else a new one (replaced, or
                                   created when the name has none). --prune deletes the name's
                                   other tokens, never those of names absent from the documents
  AgentToken      name           read and change as given (updated by PUT); no delete exists
  SensorFeatures  selector       ids_enabled, ids_config.pcap_enabled, flows_enabled, mps_enabled
                                   of the selected sensors; only differences are sent, 25 a call
  MPSConfig       (one)          the seven file-type switches that are given

A pool's passphrase comes from passphrase_file: (relative to the document's directory) or
passphrase_env:; an inline passphrase: works with a warning. The SSP never returns a
passphrase, so a pool keeps one passphrase per document: a new token gets the document's.
Fields a document leaves out are not managed. NSX and SD-WAN tokens have no natural key and
stay imperative (token create, authtoken create). See docs/guides/declarative.md.`

// documentFlags registers -f and --prune.
func documentFlags(cmd *cobra.Command, file *string, prune *bool) {
	cmd.Flags().StringVarP(file, "file", "f", "", "documents: a YAML/JSON file, a directory of them, or - for stdin")
	cmd.Flags().BoolVar(prune, "prune", false, "also delete the other tokens of each pool's display_name (EXPIRED, USED, superseded)")
	_ = cmd.MarkFlagFilename("file", "yaml", "yml", "json")
}

// loaded is what both verbs have before the first request.
type loaded struct {
	set      *reconcile.Set
	out      output.Options
	platform string
}

// load checks -o, the profile's platform and the documents, all before
// any request. secrets reads the passphrases (apply); diff leaves them.
func load(f *cmdutil.Factory, cmd *cobra.Command, file string, secrets bool) (*loaded, error) {
	o, err := f.OutputOptions()
	if err != nil {
		return nil, err
	}
	if err := o.Check(stepKind, output.Many); err != nil {
		return nil, err
	}
	if file == "" {
		return nil, exit.Usagef("%s: -f FILE|DIR|- is required", cmd.CommandPath())
	}
	p, err := f.Profile()
	if err != nil {
		return nil, err
	}
	if p.Platform != config.SSP && p.Platform != config.Agent {
		return nil, exit.Usagef("`%s` is not available for %s profiles; platforms that have it: %s (NSX and SD-WAN tokens have no natural key to find them by, so they stay imperative)",
			cmd.CommandPath(), p.Platform, strings.Join(reconcile.Platforms, ", "))
	}
	in, err := reconcile.Read(file, f.IOStreams.In)
	if err != nil {
		return nil, err
	}
	set, err := reconcile.Parse(in, reconcile.ParseOptions{Platform: p.Platform, Secrets: secrets})
	if err != nil {
		return nil, err
	}
	for _, w := range set.Warnings {
		f.Warn("%s", w)
	}
	return &loaded{set: set, out: o, platform: p.Platform}, nil
}

// connect returns the typed client of the profile's platform.
func connect(ctx context.Context, f *cmdutil.Factory, platform string) (reconcile.Clients, error) {
	if platform == config.Agent {
		ac, _, err := f.AgentClient(ctx)
		return reconcile.Clients{Agent: ac}, err
	}
	c, _, err := f.APIClient(ctx)
	if err != nil {
		return reconcile.Clients{}, err
	}
	return reconcile.Clients{SSP: ssp.New(c)}, nil
}

// plan loads the documents, connects and computes the plan.
func plan(ctx context.Context, f *cmdutil.Factory, l *loaded, prune bool) (*reconcile.Plan, reconcile.Clients, error) {
	c, err := connect(ctx, f, l.platform)
	if err != nil {
		return nil, c, err
	}
	p, err := reconcile.MakePlan(ctx, c, l.set, reconcile.PlanOptions{Prune: prune})
	if err != nil {
		return nil, c, err
	}
	for _, w := range p.Warnings {
		f.Warn("%s", w)
	}
	return p, c, nil
}

// stepKind prints plan steps and results: a table of its own (writePlan,
// writeResults), or JSON, JSON lines or YAML.
var stepKind = output.Kind{Noun: "plan step"}

// printList prints objects as a JSON, JSON lines or YAML list (with --jq
// and --template as usual).
func printList[T any](f *cmdutil.Factory, o output.Options, items []T) error {
	l := f.Printer(o).List(stepKind)
	for _, it := range items {
		raw, err := output.MarshalJSON(it)
		if err != nil {
			return err
		}
		if err := l.Add(raw); err != nil {
			return err
		}
	}
	return l.Close()
}

// differences is diff's (and apply --dry-run's) outcome: exit 9 when the
// plan has something to do; the plan was printed already.
func differences(p *reconcile.Plan) error {
	if p.InSync() {
		return nil
	}
	return &exit.SilentError{Code: exit.Differences}
}

// writePlan prints a plan for people, one object a line in the manner of
// kubectl diff: a sign (+ create, ~ replace or update, - delete, =
// unchanged), the action, kind, name, id, reasons and document, as in
// "~ replace SensorToken edge-02 5678...: EXPIRED  [tokens.yaml#2]", with
// each changed field indented below its object ("read: false -> true").
func writePlan(w io.Writer, p *reconcile.Plan) {
	symbol := map[reconcile.Action]string{reconcile.Create: "+", reconcile.Replace: "~", reconcile.Update: "~", reconcile.Delete: "-", reconcile.Unchanged: "="}
	for _, s := range p.Steps {
		fmt.Fprintf(w, "%s %s %s\n", symbol[s.Action], s.Action, describe(s.Kind, s.Name, s.ID, "", s.Count, s.Reasons, s.Source))
		writeChanges(w, s.Changes)
	}
	fmt.Fprintln(w, summary(p))
}

func writeChanges(w io.Writer, changes []reconcile.Change) {
	for _, c := range changes {
		fmt.Fprintf(w, "    %s: %s -> %s\n", c.Field, value(c.Old), value(c.New))
	}
}

// summary counts a plan's steps: "Plan: 1 to create, 2 unchanged.".
func summary(p *reconcile.Plan) string {
	if p.InSync() {
		return fmt.Sprintf("No differences: the server is as the %d document(s) say.", countDocs(p))
	}
	var parts []string
	for _, a := range []reconcile.Action{reconcile.Create, reconcile.Replace, reconcile.Update, reconcile.Delete} {
		if n := p.Count(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", n, a))
		}
	}
	if n := p.Count(reconcile.Unchanged); n > 0 {
		parts = append(parts, fmt.Sprintf("%d unchanged", n))
	}
	return "Plan: " + strings.Join(parts, ", ") + "."
}

func countDocs(p *reconcile.Plan) int {
	seen := map[string]bool{}
	for _, s := range p.Steps {
		seen[s.Source] = true
	}
	return len(seen)
}

// describe names one object: kind, name, id (and the id it replaces), how
// many sensors, why, and the document.
func describe(kind, name, id, was string, count *int, reasons []string, source string) string {
	var b strings.Builder
	b.WriteString(kind)
	if name != "" {
		b.WriteString(" " + show(name))
	}
	if id != "" {
		b.WriteString(" " + show(id))
	}
	if was != "" {
		b.WriteString(" (was " + show(was) + ")")
	}
	if count != nil {
		fmt.Fprintf(&b, " (%d sensors)", *count)
	}
	if len(reasons) > 0 {
		b.WriteString(": " + strings.Join(reasons, ", "))
	}
	b.WriteString("  [" + source + "]")
	return b.String()
}

// show prints a name as it is when it is plain, quoted (control characters
// escaped) otherwise: a server's text cannot fake lines on a terminal.
func show(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '"' {
			return strconv.Quote(s)
		}
	}
	if s == "" || strings.ContainsAny(s, " \t") {
		return strconv.Quote(s)
	}
	return s
}

// value prints a field's value: strings quoted, others as they are.
func value(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}
