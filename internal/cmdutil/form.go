package cmdutil

import (
	"errors"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/prompt"
)

// Ask asks a form of the fields a command still needs. Callers ask only
// when IOStreams.CanPrompt; Esc is a decline (exit 1, "cancelled: nothing
// <done>"), Ctrl-C an interrupt (exit 130).
func (f *Factory) Ask(form *prompt.Form, done string) error {
	if len(form.Fields) == 0 {
		return nil
	}
	err := f.Prompter.Form(form)
	if errors.Is(err, prompt.ErrDeclined) {
		return exit.Errorf(exit.Error, "cancelled: nothing %s", done)
	}
	return err
}

// RuleOf makes a form validator of a request type's own Validate: check
// builds a request with the value typed and validates it; the first
// problem reported for field is shown inline.
func RuleOf(field string, check func(value string) []exit.Problem) func(string) error {
	return func(v string) error {
		for _, p := range check(v) {
			if p.Field == field {
				return errors.New(p.Rule)
			}
		}
		return nil
	}
}
