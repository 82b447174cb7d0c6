package token

import (
	"errors"
	"os"
	"strings"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/prompt"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// Passphrase sources offered by the create form.
const (
	passphraseTyped     = "type"
	passphraseGenerated = "generate"
)

// askSSP asks, in one form, for every required field of an SSP token
// create that flags and TOKENCTL_PASSPHRASE left empty: the display name
// first, the passphrase last (typed twice, or generated), each checked
// inline with the request's own Validate. A generated passphrase is then
// written or shown by PassphraseFlags, as with --generate-passphrase.
func askSSP(f *cmdutil.Factory, opts *CreateOptions, typ string, req sspRequest) error {
	displayName, _, _, passphrase := tokenFields(req)
	var fields []*prompt.Field
	if strings.TrimSpace(*displayName) == "" {
		fields = append(fields, &prompt.Field{
			Key: "--display-name", Kind: prompt.KindInput, Title: "Display name",
			Description: "display_name of the new " + typ + " registration token",
			Value:       displayName,
			Validate: cmdutil.RuleOf("display_name", func(v string) []exit.Problem {
				r := newSSPRequest(typ)
				name, _, _, _ := tokenFields(r)
				*name = v
				return r.Validate("")
			}),
		})
	}
	source := passphraseTyped
	if *passphrase == "" && os.Getenv(PassphraseEnv) == "" {
		generated := "Generate one (shown once on this terminal)"
		if opts.Passphrase.File != "" {
			generated = "Generate one (written to " + opts.Passphrase.File + ")"
		}
		fields = append(fields, &prompt.Field{
			Key: "--passphrase-source", Kind: prompt.KindSelect, Title: "Registration passphrase",
			Description: "appliances need it again when they register",
			Options:     []prompt.Option{{Label: "Type one", Value: passphraseTyped}, {Label: generated, Value: passphraseGenerated}},
			Value:       &source,
		})
		fields = append(fields, passphraseFields(passphrase, func() bool { return source == passphraseGenerated })...)
	}
	if err := f.Ask(&prompt.Form{Fields: fields}, "created"); err != nil {
		return err
	}
	if source == passphraseGenerated {
		opts.Passphrase.Generate = true
		p, err := opts.Passphrase.Resolve(f)
		if err != nil {
			return err
		}
		*passphrase = p
	}
	return nil
}

// passphraseFields ask for a passphrase twice, hidden, checked against the
// vendor's rule (ssp.CheckPassphrase, which the requests' Validate applies).
func passphraseFields(passphrase *string, hide func() bool) []*prompt.Field {
	var again string
	return []*prompt.Field{
		{
			Key: "--passphrase", Kind: prompt.KindSecret, Title: "Passphrase",
			Description: "15 to 128 characters with a lower-case letter, an upper-case letter, a digit and a special character",
			Value:       passphrase, Hide: hide, Group: "passphrase",
			Validate: func(v string) error {
				if rule := ssp.CheckPassphrase(v); rule != "" {
					return errors.New(rule)
				}
				return nil
			},
		},
		{
			Key: "--passphrase-repeat", Kind: prompt.KindSecret, Title: "Repeat the passphrase",
			Value: &again, Hide: hide, Group: "passphrase",
			Validate: func(v string) error {
				if v != *passphrase {
					return errors.New("the passphrases differ")
				}
				return nil
			},
		},
	}
}

// askAgent asks for the name of an agent token when no flag gave one.
func askAgent(f *cmdutil.Factory, req *agent.TokenRequest) error {
	if strings.TrimSpace(req.Name) != "" {
		return nil
	}
	return f.Ask(&prompt.Form{Fields: []*prompt.Field{{
		Key: "--name", Kind: prompt.KindInput, Title: "Name",
		Description: "name of the new agent token (informational; how people tell tokens apart)",
		Value:       &req.Name,
		Validate: cmdutil.RuleOf("name", func(v string) []exit.Problem {
			return (&agent.TokenRequest{Name: v}).Validate("")
		}),
	}}}, "created")
}
