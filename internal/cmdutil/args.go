package cmdutil

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/suggest"
)

// ExactArgs requires exactly the named arguments, as a usage error (exit 2).
func ExactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return exit.Usagef("%s: missing %s", cmd.CommandPath(), strings.Join(names[len(args):], " "))
		}
		if len(args) > len(names) {
			return exit.Usagef("%s: unexpected argument %q", cmd.CommandPath(), args[len(names)])
		}
		return nil
	}
}

// MinArgs requires at least n arguments, named by what.
func MinArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return exit.Usagef("%s: missing %s", cmd.CommandPath(), what)
		}
		return nil
	}
}

// MaxArgs allows at most n arguments.
func MaxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return exit.Usagef("%s: takes at most %d argument (%s), got %d", cmd.CommandPath(), n, what, len(args))
		}
		return nil
	}
}

// NoArgs rejects arguments.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return exit.Usagef("%s: unexpected argument %q", cmd.CommandPath(), args[0])
	}
	return nil
}

// FlagError turns cobra's flag parsing errors into usage errors.
// An unknown --flag gets "Did you mean --other?" when one is close.
func FlagError(cmd *cobra.Command, err error) error {
	hint := ""
	if name, ok := unknownFlag(err); ok {
		if s := SuggestFlags(cmd, name); len(s) > 0 {
			hint = "\nDid you mean " + strings.Join(s, " or ") + "?"
		}
	}
	return exit.Usagef("%v%s\nRun '%s --help' for usage.", err, hint, cmd.CommandPath())
}

// Group makes cmd a command that only groups subs (a noun: token, sensor,
// ...): any arguments, GroupRunE, and the subcommands.
func Group(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = GroupRunE
	cmd.AddCommand(subs...)
	return cmd
}

// GroupRunE is the RunE of a noun with subcommands: help without
// arguments, a usage error for an unknown subcommand.
func GroupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return UnknownCommand(cmd, args[0], "command", cmd.CommandPath()+" --help")
}

// UnknownCommand is the usage error of a name that is none of cmd's
// subcommands or help topics (what: "command" or "help topic"), with the
// names it probably meant and the command that lists them.
func UnknownCommand(cmd *cobra.Command, name, what, listing string) error {
	hint := ""
	if s := suggestCommands(cmd, name); len(s) > 0 {
		hint = "\nDid you mean " + strings.Join(s, " or ") + "?"
	}
	return exit.Usagef("unknown %s %q for %q%s\nRun '%s' for usage.", what, name, cmd.CommandPath(), hint, listing)
}

// suggestCommands is cobra's SuggestionsFor (edit distance 2, prefixes,
// aliases) plus the help topics (exit-codes, environment), which cobra
// leaves out because they do not run.
func suggestCommands(cmd *cobra.Command, typed string) []string {
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra applies its default only at the root
	}
	out := cmd.SuggestionsFor(typed)
	for _, c := range cmd.Commands() {
		if c.Hidden || c.Runnable() || c.HasSubCommands() {
			continue
		}
		lower := strings.ToLower(typed)
		if suggest.Distance(lower, c.Name()) <= cmd.SuggestionsMinimumDistance || strings.HasPrefix(c.Name(), lower) {
			out = append(out, c.Name())
		}
	}
	return out
}

// Unsupported is the error of a command the profile's platform lacks.
func Unsupported(cmd *cobra.Command, platform string, supported ...string) error {
	return exit.Usagef("`%s` is not available for %s profiles; platforms that have it: %s", cmd.CommandPath(), platform, strings.Join(supported, ", "))
}

// OnlyFor rejects flags given on the command line that do not apply to
// the platform: flags maps a flag name to the platforms it applies to.
func OnlyFor(cmd *cobra.Command, platform string, flags map[string][]string) error {
	var bad []string
	cmd.Flags().Visit(func(fl *pflag.Flag) {
		plats, ok := flags[fl.Name]
		if !ok {
			return
		}
		for _, p := range plats {
			if p == platform {
				return
			}
		}
		bad = append(bad, fmt.Sprintf("--%s (for %s)", fl.Name, strings.Join(plats, ", ")))
	})
	if len(bad) > 0 {
		return exit.Usagef("%s on %s profiles: %s does not apply", cmd.CommandPath(), platform, strings.Join(bad, ", "))
	}
	return nil
}

// Changed reports whether a flag was given.
func Changed(cmd *cobra.Command, name string) bool {
	fl := cmd.Flags().Lookup(name)
	return fl != nil && fl.Changed
}

// EnumFlag checks a flag's value against the allowed ones.
func EnumFlag(name, value string, allowed ...string) *exit.Problem {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return &exit.Problem{Field: "--" + name, Rule: fmt.Sprintf("%q is not one of %s", value, strings.Join(allowed, ", "))}
}

// nonEmptyString is a string flag that refuses an empty or blank value at
// parse time (exit 2 before anything is sent): for flags that fill a
// required path parameter, where "" would silently mean "not given".
type nonEmptyString struct{ p *string }

func (s nonEmptyString) String() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

func (s nonEmptyString) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("must not be empty")
	}
	*s.p = v
	return nil
}

func (s nonEmptyString) Type() string { return "string" }

// NonEmptyStringVar registers a string flag whose value, when given, must
// not be empty.
func NonEmptyStringVar(fs *pflag.FlagSet, p *string, name, usage string) {
	fs.Var(nonEmptyString{p}, name, usage)
}
