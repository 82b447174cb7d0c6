package token

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// UpdateOptions are `token update`'s inputs.
type UpdateOptions struct {
	cmdutil.Verb

	ID     string
	Name   string
	Read   bool
	Change bool
}

// NewCmdUpdate builds `token update` (agent).
func NewCmdUpdate(f *cmdutil.Factory, runF func(*UpdateOptions) error) *cobra.Command {
	opts := &UpdateOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change an agent token's name or permissions (agent)",
		Long: `Change the name or the permissions of an agent token. Only the flags given change;
the other fields keep their values (the token is read from the list, changed and sent back
whole, as the API's PUT takes the full object).

ID is the token's uuid, which is also the secret agents pass: "-" reads it from stdin. A
name instead of a uuid is looked up in the list (several tokens of that name: exit 2).
Taking both permissions away (--read=false --change=false) revokes a token on servers that
have no delete call.`,
		Example: `  tokenctl token update - --read=false --change=false < uuid.txt
  tokenctl token update 7ba167aa-631c-4771-b197-fcb459cc7fd7 --name "give me more power" --change`,
		Args: cmdutil.ExactArgs("ID"),
		RunE: cmdutil.RunOneID(opts, &opts.ID, runF, updateRun),
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Name, "name", "", "new name of the token")
	fl.BoolVar(&opts.Read, "read", false, "whether the token may read agent state (--read=false takes it away)")
	fl.BoolVar(&opts.Change, "change", false, "whether the token may change agent state (--change=false takes it away)")
	return cmd
}

func updateRun(opts *UpdateOptions) error {
	f := opts.Factory
	if _, err := f.ProfileOn(opts.Cmd, config.Agent); err != nil {
		return err
	}
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	var ch agent.Change
	if cmdutil.Changed(opts.Cmd, "name") {
		ch.Name = &opts.Name
	}
	if cmdutil.Changed(opts.Cmd, "read") {
		ch.Read = &opts.Read
	}
	if cmdutil.Changed(opts.Cmd, "change") {
		ch.Change = &opts.Change
	}
	var problems []exit.Problem
	if ch.Empty() {
		problems = append(problems, exit.Problem{Field: "--name, --read, --change", Rule: "give at least one: the fields to change"})
	}
	if ch.Name != nil && strings.TrimSpace(*ch.Name) == "" {
		problems = append(problems, exit.Problem{Field: "--name", Rule: "must not be empty"})
	}
	if p := o.FormatProblem(agentTokenKind(), output.One); p != nil {
		problems = append(problems, *p)
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}
	ctx, ac, n, err := resolveAgentToken(f, opts.Cmd, opts.ID)
	if err != nil {
		return err
	}
	raw, tok, err := ac.UpdateToken(ctx, n.ID, ch)
	if err != nil {
		return err
	}
	f.Notice("Updated %s (%s): read=%t change=%t.", agent.Label(n.ID), tok.Name, tok.Read, tok.Change)
	return f.Printer(o).Object(raw, agentTokenKind())
}
