package token

import (
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// createNSX creates an NSX registration token (or, with --type sensor, a
// sensor registration token). NSX shows the token once: there is no list
// call, so tokenctl prints it in the create's own output only, with a
// warning on stderr in tables.
func createNSX(opts *CreateOptions) error {
	f := opts.Factory
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	var problems []exit.Problem
	if opts.Type != "" && opts.Type != "sensor" {
		problems = append(problems, exit.Problem{Field: "--type", Rule: "nsx: only sensor (the sensor-registration-token call); without --type the token gets your own roles"})
	}
	if p := o.FormatProblem(nsxTokenKind(), output.One); p != nil {
		problems = append(problems, *p)
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}
	ctx := cmdutil.Context(opts.Cmd)
	n, _, err := f.NSXClient(ctx)
	if err != nil {
		return err
	}
	kind := nsxTokenKind()
	if opts.Type == "sensor" {
		kind.Noun = "sensor registration token"
	}
	raw, tok, err := n.CreateToken(ctx, opts.Type == "sensor")
	if err != nil {
		return err
	}
	f.Notice("Created %s %s (roles %v).", kind.Noun, output.Mask(tok.Token), tok.Roles)
	if o.IsTable() {
		f.Warn("store this token now: NSX has no call that lists tokens, so it cannot be shown again (-o secret prints it alone)")
	}
	return f.Printer(o).Object(raw, kind)
}

// nsxTokenKind prints a new RegistrationToken: the token is its id and its
// secret.
func nsxTokenKind() output.Kind {
	return output.Kind{
		Noun:        "registration token",
		IDField:     "token",
		SecretField: "token",
		Columns: []output.Column{
			output.Field("TOKEN", "token"),
			output.Field("ROLES", "roles"),
			output.Field("USER", "user"),
		},
	}
}
