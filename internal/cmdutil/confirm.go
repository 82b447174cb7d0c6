package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/prompt"
)

// Target is one object a destructive command acts on. Name is "" when the
// command does not know it (an id given on the command line); commands that
// resolve names to ids pass both.
type Target struct {
	Name string
	ID   string
}

// TargetsOf turns bare ids into targets without names.
func TargetsOf(ids []string) []Target {
	ts := make([]Target, len(ids))
	for i, id := range ids {
		ts[i] = Target{ID: id}
	}
	return ts
}

// TargetsOfNamed turns resolved arguments into targets: an argument that
// was a name keeps it beside its id.
func TargetsOfNamed(ns []Named) []Target {
	ts := make([]Target, len(ns))
	for i, n := range ns {
		ts[i] = Target{Name: n.Name, ID: n.ID}
	}
	return ts
}

// Destructive describes an action to confirm: "Delete 3 sensor registration
// tokens? This cannot be undone."
type Destructive struct {
	Verb    string // "Delete", "De-register"
	Noun    string // singular: "sensor registration token"
	Plural  string // default Noun + "s"
	Targets []Target
	// Consequence follows the question: "This cannot be undone."
	Consequence string
	// Done is the past participle for the decline: "deleted" gives
	// "nothing deleted".
	Done string
	// Name, when set, looks up the name of a shown target that has none;
	// it is called only when a prompt is shown (at most ShownTargets
	// times), and "" or an error leaves the name blank.
	Name func(ctx context.Context, id string) string
	// Secret: the ids are secrets (NSX tokens, agent uuids), shown masked.
	Secret bool
}

// ShownTargets is how many targets a confirmation lists before "and N more".
const ShownTargets = 10

// Question is the confirmation's first line.
func (d Destructive) Question() string {
	noun := d.Noun
	if len(d.Targets) != 1 {
		noun = d.Plural
		if noun == "" {
			noun = d.Noun + "s"
		}
	}
	q := fmt.Sprintf("%s %d %s?", d.Verb, len(d.Targets), noun)
	if len(d.Targets) == 1 {
		q = fmt.Sprintf("%s %s %s?", d.Verb, noun, label(d.shown(d.Targets[0])))
	}
	if d.Consequence != "" {
		q += " " + d.Consequence
	}
	return q
}

// shown is a target as the confirmation shows it: a secret id masked.
func (d Destructive) shown(t Target) Target {
	if d.Secret {
		t.ID = output.Mask(t.ID)
	}
	return t
}

func label(t Target) string {
	if t.Name != "" && t.Name != t.ID {
		return fmt.Sprintf("%s (%s)", escape.Text(t.Name), escape.Text(t.ID))
	}
	return escape.Text(t.ID)
}

// List is the compact list under the question: name and id of the first
// ShownTargets, then "and N more".
func (d Destructive) List() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for i, t := range d.Targets {
		if i == ShownTargets {
			break
		}
		t = d.shown(t)
		name := escape.Text(t.Name)
		if name == "" || t.Name == t.ID {
			name = "-"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, escape.Text(t.ID))
	}
	tw.Flush()
	if n := len(d.Targets) - ShownTargets; n > 0 {
		fmt.Fprintf(&b, "  and %d more\n", n)
	}
	return strings.TrimRight(b.String(), "\n")
}

// WillPrompt reports whether a confirmation would be asked: no --yes, and a
// person at the terminal.
func (f *Factory) WillPrompt() bool {
	return !f.Bool(FlagYes) && f.IOStreams.CanPrompt()
}

// ConfirmDestructive asks before a destructive action, the one way every
// destructive command asks: --yes answers; a terminal shows the question
// and the compact list (default No); anything else is a usage error (exit
// 2). No, or Esc, is a plain decline: exit 1, "nothing deleted". Ctrl-C is
// an interrupt (exit 130).
func (f *Factory) ConfirmDestructive(ctx context.Context, d Destructive) error {
	if f.Bool(FlagYes) || f.DryRun() {
		return nil // a dry run destroys nothing, so it asks nothing
	}
	if err := f.CanConfirm(d); err != nil {
		return err
	}
	if d.Name != nil {
		for i := range d.Targets[:min(len(d.Targets), ShownTargets)] {
			if d.Targets[i].Name == "" {
				d.Targets[i].Name = d.Name(ctx, d.Targets[i].ID)
			}
		}
	}
	ok := false
	description := ""
	if len(d.Targets) > 1 {
		description = d.List()
	}
	err := f.Prompter.Form(&prompt.Form{Fields: []*prompt.Field{{
		Kind: prompt.KindConfirm, Title: d.Question(), Description: description, Bool: &ok,
		Affirmative: "Yes", Negative: "No",
	}}})
	return declined(ok, err, d.Done)
}

// ConfirmTargets is the course of the destructive verbs over ids or names
// (token, sensor and authtoken delete, baremetal uninstall), once their
// flags are checked: no args ("-" with an empty stdin) does nothing
// (NothingToDo: nil objects, nil error); no --yes without a terminal is
// exit 2 before anything is sent; connect (nil: the args are ids, and
// nothing is sent before the question) connects and returns the name
// lookup of the connection (IDsOnly: no names); every name is looked up
// with one list scan; the confirmation shows each target as name (id). It
// returns the objects in args' order.
func (f *Factory) ConfirmTargets(cmd *cobra.Command, d Destructive, args []string, connect func() (NameLookup, error)) ([]Named, error) {
	if len(args) == 0 {
		return nil, f.NothingToDo(cmd)
	}
	d.Targets = TargetsOf(args)
	if err := f.CanConfirm(d); err != nil {
		return nil, err // before the lookup: nothing is sent
	}
	lookup := IDsOnly
	if connect != nil {
		var err error
		if lookup, err = connect(); err != nil {
			return nil, err
		}
	}
	ctx := Context(cmd)
	ns, err := f.ResolveIDs(ctx, args, lookup)
	if err != nil {
		return nil, err
	}
	d.Targets = TargetsOfNamed(ns)
	return ns, f.ConfirmDestructive(ctx, d)
}

// CanConfirm is ConfirmDestructive's first check, for commands that look
// names up before asking: nil with --yes or a terminal, else the usage
// error (exit 2) that ConfirmDestructive would return, before any request.
func (f *Factory) CanConfirm(d Destructive) error {
	if f.Bool(FlagYes) || f.DryRun() || f.IOStreams.CanPrompt() {
		return nil
	}
	return exit.Usagef("--yes required when not running interactively: %s", d.Question())
}

// Confirm asks a yes/no question before an action that is not a delete
// (pin a thumbprint): --yes answers, a terminal asks (default No), anything
// else is a usage error; No or Esc is exit 1, "nothing changed".
func (f *Factory) Confirm(question string) error {
	if f.Bool(FlagYes) || f.DryRun() {
		return nil
	}
	if !f.IOStreams.CanPrompt() {
		return exit.Usagef("--yes required when not running interactively: %s", question)
	}
	ok, err := f.Prompter.Confirm(question, false)
	return declined(ok, err, "changed")
}

// ErrDeclined is the error of a declined confirmation: exit 1.
func declined(ok bool, err error, done string) error {
	if done == "" {
		done = "changed"
	}
	if errors.Is(err, prompt.ErrDeclined) {
		return exit.Errorf(exit.Error, "cancelled: nothing %s", done)
	}
	if err != nil {
		return err
	}
	if !ok {
		return exit.Errorf(exit.Error, "declined: nothing %s", done)
	}
	return nil
}
