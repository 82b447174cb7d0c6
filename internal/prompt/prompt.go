// Package prompt asks the person at the terminal, through charmbracelet/huh,
// behind a small interface that tests replace.
package prompt

import (
	"errors"
	"io"

	"github.com/charmbracelet/huh"

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
