// Package prompt asks the person at the terminal, through charmbracelet/huh,
// behind a small interface that tests replace.
//
// Nothing here touches the terminal until a question is asked: New only
// keeps the streams; huh objects and the theme are made when a prompt is
// shown, and only on the streams given (stdin and stderr). huh is v2
// (charm.land/huh/v2) on purpose: huh v1 links bubbletea v1, whose package
// init asks the terminal on stdout for its background colour (ESC]11;? and
// ESC[6n) and waits up to 5 s for an answer, in every process, whatever the
// command. The v2 stack touches the terminal only while a form runs.
package prompt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/huh/v2"
	"charm.land/lipgloss/v2"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// Prompter asks questions. Callers check IOStreams.CanPrompt first.
type Prompter interface {
	Input(title, defaultValue string) (string, error)
	Password(title string) (string, error)
	Confirm(title string, defaultValue bool) (bool, error)
	// Form asks every field of a form at once (one screen per group of
	// fields that hide together) and stores the answers in the fields'
	// values. Esc returns ErrDeclined, Ctrl-C an interrupt (exit 130).
	Form(form *Form) error
}

// Kind is the kind of a form field.
type Kind int

// Field kinds.
const (
	KindInput       Kind = iota // a line of text
	KindSecret                  // a line of text, not echoed
	KindSelect                  // one of Options
	KindMultiSelect             // some of Options
	KindConfirm                 // yes or no
)

// Option is a choice of a select field.
type Option struct {
	Label string
	Value string
}

// Field is one question of a form.
type Field struct {
	// Key names what the field answers, usually the flag that would answer
	// it in a script ("--display-name"); stubs answer by it.
	Key         string
	Kind        Kind
	Title       string
	Description string
	Options     []Option

	Value  *string   // input, secret, select
	Values *[]string // multiselect
	Bool   *bool     // confirm

	// Validate checks a value as it is entered (input, secret, select);
	// its message is shown inline and the form waits for a valid answer.
	Validate func(string) error
	// ValidateMulti checks a multiselect's choice.
	ValidateMulti func([]string) error
	// Limit caps how many options a multiselect may choose (0: no cap).
	Limit int
	// Affirmative and Negative label a confirm's buttons (default Yes, No).
	Affirmative, Negative string
	// Hide, when set, skips the field if it returns true at the moment the
	// form reaches it (a passphrase that was chosen to be generated).
	// Consecutive fields with the same non-empty Group share one screen and
	// the first one's Hide.
	Hide  func() bool
	Group string
}

// Form is a set of questions asked together.
type Form struct {
	Fields []*Field
}

// ErrDeclined is the error of a form or confirmation the person closed
// with Esc: a decision, not an interrupt (callers exit 1, "nothing done").
var ErrDeclined = errors.New("declined")

// New returns a huh prompter that reads in and draws on w (stderr: stdout
// may be piped while a person is at the keyboard). When ctx ends (the
// first SIGINT, SIGTERM or SIGHUP) a question on screen ends with an
// interrupt (exit 130): a prompt whose terminal went away waited for ever.
func New(ctx context.Context, in io.Reader, w io.Writer) Prompter {
	return &huhPrompter{ctx: ctx, in: in, out: w}
}

// Lazy is a Prompter that builds the real one on the first question, so a
// command that asks nothing sets nothing up.
type Lazy struct {
	build func() Prompter
	once  sync.Once
	p     Prompter
}

// NewLazy returns a Prompter that calls build when the first question comes.
func NewLazy(build func() Prompter) *Lazy { return &Lazy{build: build} }

// Built reports whether the real prompter was built (a question was asked).
func (l *Lazy) Built() bool { return l.p != nil }

func (l *Lazy) get() Prompter {
	l.once.Do(func() { l.p = l.build() })
	return l.p
}

func (l *Lazy) Input(title, defaultValue string) (string, error) {
	return l.get().Input(title, defaultValue)
}

func (l *Lazy) Password(title string) (string, error) { return l.get().Password(title) }

func (l *Lazy) Confirm(title string, defaultValue bool) (bool, error) {
	return l.get().Confirm(title, defaultValue)
}

// Form implements Prompter.
func (l *Lazy) Form(form *Form) error { return l.get().Form(form) }

type huhPrompter struct {
	ctx context.Context
	in  io.Reader
	out io.Writer
}

func (p *huhPrompter) Input(title, defaultValue string) (string, error) {
	v := defaultValue
	err := p.Form(&Form{Fields: []*Field{{Kind: KindInput, Title: title, Value: &v}}})
	return v, err
}

func (p *huhPrompter) Password(title string) (string, error) {
	var v string
	err := p.Form(&Form{Fields: []*Field{{Kind: KindSecret, Title: title, Value: &v, Validate: Required}}})
	return v, err
}

func (p *huhPrompter) Confirm(title string, defaultValue bool) (bool, error) {
	v := defaultValue
	err := p.Form(&Form{Fields: []*Field{{Kind: KindConfirm, Title: title, Bool: &v}}})
	return v, err
}

// Required rejects an empty or blank answer.
func Required(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("required")
	}
	return nil
}

// Form runs the form in huh. Consecutive fields without Hide share a
// group; a field with Hide gets a group of its own, hidden by it.
func (p *huhPrompter) Form(form *Form) error {
	var groups []*huh.Group
	var pending []huh.Field
	flush := func() {
		if len(pending) > 0 {
			groups = append(groups, huh.NewGroup(pending...))
			pending = nil
		}
	}
	var hide func() bool
	group := ""
	for _, fd := range form.Fields {
		hf := huhField(fd)
		if fd.Hide == nil {
			if hide != nil {
				groups = append(groups, huh.NewGroup(pending...).WithHideFunc(hide))
				pending, hide, group = nil, nil, ""
			}
			pending = append(pending, hf)
			continue
		}
		if hide != nil && fd.Group != "" && fd.Group == group {
			pending = append(pending, hf)
			continue
		}
		if hide != nil {
			groups = append(groups, huh.NewGroup(pending...).WithHideFunc(hide))
			pending = nil
		} else {
			flush()
		}
		pending, hide, group = []huh.Field{hf}, fd.Hide, fd.Group
	}
	if hide != nil {
		groups = append(groups, huh.NewGroup(pending...).WithHideFunc(hide))
		pending = nil
	}
	flush()
	keys := huh.NewDefaultKeyMap()
	keys.Quit = key.NewBinding(key.WithKeys("ctrl+c", "esc"))
	escaped := false
	// WithProgramOptions replaces huh's program options, so it comes
	// first: WithInput and WithOutput add theirs after it. (huh v2 asks for
	// focus reports itself.) Signals are tokenctl's (Main cancels p.ctx):
	// bubbletea's own SIGTERM handler quit the form as if it had been
	// answered, racing with that.
	err := huh.NewForm(groups...).
		WithProgramOptions(tea.WithoutSignalHandler(), tea.WithFilter(func(_ tea.Model, msg tea.Msg) tea.Msg {
			if k, ok := msg.(tea.KeyPressMsg); ok && k.Code == tea.KeyEscape {
				escaped = true
			}
			return msg
		})).
		WithInput(p.in).
		WithOutput(p.out).
		WithTheme(huh.ThemeFunc(Theme)).
		WithKeyMap(keys).
		WithShowHelp(true).
		RunWithContext(p.ctx)
	switch {
	case p.ctx.Err() != nil:
		return exit.WithCode(exit.Interrupted, errors.New("interrupted"))
	case errors.Is(err, huh.ErrUserAborted) && escaped:
		return ErrDeclined
	case errors.Is(err, huh.ErrUserAborted):
		return exit.WithCode(exit.Interrupted, errors.New("interrupted"))
	}
	return err
}

func huhField(fd *Field) huh.Field {
	validate := fd.Validate
	if validate == nil {
		validate = func(string) error { return nil }
	}
	switch fd.Kind {
	case KindInput, KindSecret:
		in := huh.NewInput().Title(fd.Title).Value(fd.Value).Validate(validate)
		if fd.Description != "" {
			in.Description(fd.Description)
		}
		if fd.Kind == KindSecret {
			in.EchoMode(huh.EchoModePassword)
		}
		return in
	case KindSelect:
		s := huh.NewSelect[string]().Title(fd.Title).Options(huhOptions(fd.Options)...).Value(fd.Value).Validate(validate)
		if fd.Description != "" {
			s.Description(fd.Description)
		}
		return s
	case KindMultiSelect:
		m := huh.NewMultiSelect[string]().Title(fd.Title).Options(huhOptions(fd.Options)...).Value(fd.Values).Height(min(len(fd.Options)+2, 12))
		if fd.ValidateMulti != nil {
			m.Validate(fd.ValidateMulti)
		}
		if fd.Limit > 0 {
			m.Limit(fd.Limit)
		}
		if fd.Description != "" {
			m.Description(fd.Description)
		}
		return m
	case KindConfirm:
		c := huh.NewConfirm().Title(fd.Title).Value(fd.Bool).
			Affirmative(cmpOr(fd.Affirmative, "Yes")).Negative(cmpOr(fd.Negative, "No"))
		if fd.Description != "" {
			c.Description(fd.Description)
		}
		return c
	}
	panic(fmt.Sprintf("prompt: unknown field kind %d", fd.Kind))
}

func huhOptions(opts []Option) []huh.Option[string] {
	out := make([]huh.Option[string], len(opts))
	for i, o := range opts {
		out[i] = huh.NewOption(cmpOr(o.Label, o.Value), o.Value)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Theme is huh's base theme with fixed ANSI colours (the same on a dark or
// a light background: nothing asks the terminal which) and a focused button
// that stays visible without colour (NO_COLOR, a monochrome terminal): it is
// bracketed, reversed and bold, the other one padded to the same width.
func Theme(isDark bool) *huh.Styles {
	t := huh.ThemeBase(isDark)
	t.Focused.Title = t.Focused.Title.Bold(true)
	t.Focused.ErrorMessage = t.Focused.ErrorMessage.Foreground(lipgloss.Color("1"))
	t.Focused.ErrorIndicator = t.Focused.ErrorIndicator.Foreground(lipgloss.Color("1"))
	t.Focused.FocusedButton = t.Focused.FocusedButton.Reverse(true).Bold(true).
		Transform(func(s string) string { return "[" + s + "]" })
	t.Focused.BlurredButton = t.Focused.BlurredButton.UnsetForeground().UnsetBackground().
		Transform(func(s string) string { return " " + s + " " })
	t.Blurred.FocusedButton = t.Focused.FocusedButton
	t.Blurred.BlurredButton = t.Focused.BlurredButton
	return t
}

// Stub answers from fixed values (tests). Form fields take, in order:
// Answers[field.Key] when present, else inputs from Inputs, secrets from
// Passwords, confirms from Confirms, selects their first option (or
// Inputs), multiselects Multi[field.Key]. Every answer is validated as huh
// would; an invalid one is an error naming the field.
type Stub struct {
	Inputs    []string
	Passwords []string
	Confirms  []bool
	Answers   map[string]string
	Multi     map[string][]string
	// Decline makes the next Form or Confirm return ErrDeclined (Esc).
	Decline bool
	Asked   []string
	// Forms counts the forms asked.
	Forms int
}

func (s *Stub) Input(title, def string) (string, error) {
	v := def
	err := s.Form(&Form{Fields: []*Field{{Kind: KindInput, Title: title, Value: &v}}})
	return v, err
}

func (s *Stub) Password(title string) (string, error) {
	var v string
	err := s.Form(&Form{Fields: []*Field{{Kind: KindSecret, Title: title, Value: &v}}})
	return v, err
}

func (s *Stub) Confirm(title string, def bool) (bool, error) {
	v := def
	err := s.Form(&Form{Fields: []*Field{{Kind: KindConfirm, Title: title, Bool: &v}}})
	return v, err
}

// Form implements Prompter.
func (s *Stub) Form(form *Form) error {
	s.Forms++
	if s.Decline {
		s.Decline = false
		for _, fd := range form.Fields {
			s.Asked = append(s.Asked, asked(fd))
		}
		return ErrDeclined
	}
	var hide func() bool
	group := ""
	for _, fd := range form.Fields {
		if fd.Hide == nil || fd.Group == "" || fd.Group != group {
			hide, group = fd.Hide, fd.Group
		}
		if hide != nil && hide() {
			continue
		}
		s.Asked = append(s.Asked, asked(fd))
		if err := s.answer(fd); err != nil {
			return err
		}
	}
	return nil
}

func asked(fd *Field) string {
	if fd.Description != "" {
		return fd.Title + "\n" + fd.Description
	}
	return fd.Title
}

func (s *Stub) answer(fd *Field) error {
	if fd.Kind == KindMultiSelect {
		v, ok := s.Multi[fd.Key]
		if !ok {
			return fmt.Errorf("stub: no answer for %s", fd.Key)
		}
		if fd.ValidateMulti != nil {
			if err := fd.ValidateMulti(v); err != nil {
				return fmt.Errorf("stub: answer %v for %s: %w", v, fd.Key, err)
			}
		}
		*fd.Values = v
		return nil
	}
	if fd.Kind == KindConfirm {
		if len(s.Confirms) == 0 {
			return nil // the default
		}
		*fd.Bool, s.Confirms = s.Confirms[0], s.Confirms[1:]
		return nil
	}
	var v string
	if a, ok := s.Answers[fd.Key]; ok && fd.Key != "" {
		v = a
	} else {
		switch fd.Kind {
		case KindSecret:
			if len(s.Passwords) == 0 {
				return fmt.Errorf("stub: no password for %q", fd.Title)
			}
			v, s.Passwords = s.Passwords[0], s.Passwords[1:]
		case KindSelect:
			if len(fd.Options) > 0 {
				v = fd.Options[0].Value
			}
		default:
			if len(s.Inputs) == 0 {
				v = *fd.Value
			} else {
				v, s.Inputs = s.Inputs[0], s.Inputs[1:]
			}
		}
	}
	if fd.Kind == KindSelect && !slices.ContainsFunc(fd.Options, func(o Option) bool { return o.Value == v }) {
		return fmt.Errorf("stub: %q is not an option of %s", v, fd.Key)
	}
	if fd.Validate != nil {
		if err := fd.Validate(v); err != nil {
			return fmt.Errorf("stub: answer for %s: %w", cmpOr(fd.Key, fd.Title), err)
		}
	}
	*fd.Value = v
	return nil
}
