// Package prompt asks the person at the terminal, through charmbracelet/huh,
// behind a small interface that tests replace.
//
// huh is v2 (charm.land/huh/v2) on purpose: huh v1 links bubbletea v1, whose
// package init asks the terminal on stdout for its background colour
// (ESC]11;? and ESC[6n) and waits up to 5 s for an answer, in every process,
// whatever the command. Its v2 stack touches the terminal only while a form
// runs, and then only on the form's input and output (stdin and stderr).
package prompt

import (
	"errors"
	"io"
	"sync"

	"charm.land/huh/v2"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// Prompter asks questions. Callers check IOStreams.CanPrompt first.
type Prompter interface {
	Input(title, defaultValue string) (string, error)
	Password(title string) (string, error)
	Confirm(title string, defaultValue bool) (bool, error)
}

// New returns a huh prompter that draws on w (stderr: stdout may be piped
// while a person is at the keyboard).
func New(in io.Reader, w io.Writer) Prompter {
	return &huhPrompter{in: in, out: w}
}

// Lazy is a Prompter that builds the real one on the first question, so a
// command that asks nothing sets nothing up: no form, no theme, no terminal
// state.
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

type huhPrompter struct {
	in  io.Reader
	out io.Writer
}

func (p *huhPrompter) run(field huh.Field) error {
	err := huh.NewForm(huh.NewGroup(field)).
		WithInput(p.in).
		WithOutput(p.out).
		WithShowHelp(false).
		Run()
	if errors.Is(err, huh.ErrUserAborted) {
		return exit.WithCode(exit.Interrupted, errors.New("cancelled"))
	}
	return err
}

func (p *huhPrompter) Input(title, defaultValue string) (string, error) {
	v := defaultValue
	err := p.run(huh.NewInput().Title(title).Value(&v))
	return v, err
}

func (p *huhPrompter) Password(title string) (string, error) {
	var v string
	err := p.run(huh.NewInput().Title(title).EchoMode(huh.EchoModePassword).Value(&v).
		Validate(func(s string) error {
			if s == "" {
				return errors.New("required")
			}
			return nil
		}))
	return v, err
}

func (p *huhPrompter) Confirm(title string, defaultValue bool) (bool, error) {
	v := defaultValue
	err := p.run(huh.NewConfirm().Title(title).Affirmative("Yes").Negative("No").Value(&v))
	return v, err
}

// Stub answers from fixed values (tests).
type Stub struct {
	Inputs    []string
	Passwords []string
	Confirms  []bool
	Asked     []string
}

func (s *Stub) Input(title, def string) (string, error) {
	s.Asked = append(s.Asked, title)
	if len(s.Inputs) == 0 {
		return def, nil
	}
	v := s.Inputs[0]
	s.Inputs = s.Inputs[1:]
	return v, nil
}

func (s *Stub) Password(title string) (string, error) {
	s.Asked = append(s.Asked, title)
	if len(s.Passwords) == 0 {
		return "", errors.New("stub: no password")
	}
	v := s.Passwords[0]
	s.Passwords = s.Passwords[1:]
	return v, nil
}

func (s *Stub) Confirm(title string, def bool) (bool, error) {
	s.Asked = append(s.Asked, title)
	if len(s.Confirms) == 0 {
		return def, nil
	}
	v := s.Confirms[0]
	s.Confirms = s.Confirms[1:]
	return v, nil
}
