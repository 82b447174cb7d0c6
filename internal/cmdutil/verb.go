package cmdutil

import "github.com/spf13/cobra"

// Verb is the start of every command's options (STYLE.md: an Options
// struct, a constructor, a run function): the factory, and the command
// being run, set when it runs (its flags, its context). A constructor wires
// its command's RunE with Run, RunArgs, RunOneID or RunIDList, which give
// the options to the test's runF when there is one, else to the run
// function.
type Verb struct {
	Factory *Factory
	Cmd     *cobra.Command
}

func (v *Verb) verb() *Verb { return v }

// VerbOptions are a command's options: a struct that embeds Verb.
type VerbOptions interface{ verb() *Verb }

// RunFunc is a cobra RunE.
type RunFunc = func(cmd *cobra.Command, args []string) error

// Run is the RunE of a command that takes no positional arguments (or whose
// Args check alone covers them).
func Run[O VerbOptions](opts O, runF, run func(O) error) RunFunc {
	return RunArgs(opts, nil, runF, run)
}

// RunArgs is the RunE of a command whose positional arguments take reads
// into the options: it records the command, lets take (when not nil) read
// the arguments, then runs runF, a test's, when there is one, else run.
func RunArgs[O VerbOptions](opts O, take func(args []string) error, runF, run func(O) error) RunFunc {
	return func(cmd *cobra.Command, args []string) error {
		opts.verb().Cmd = cmd
		if take != nil {
			if err := take(args); err != nil {
				return err
			}
		}
		if runF != nil {
			return runF(opts)
		}
		return run(opts)
	}
}

// RunOneID is the RunE of a verb that takes one ID, read into *id ("-"
// reads it from stdin; see OneID).
func RunOneID[O VerbOptions](opts O, id *string, runF, run func(O) error) RunFunc {
	v := opts.verb()
	return RunArgs(opts, func(args []string) (err error) {
		*id, err = v.Factory.OneID(v.Cmd, args)
		return err
	}, runF, run)
}

// RunIDList is the RunE of a verb that takes several IDs, read into *ids
// ("-" reads them from stdin, and an empty stdin gives none; see
// ReadIDList).
func RunIDList[O VerbOptions](opts O, ids *[]string, runF, run func(O) error) RunFunc {
	v := opts.verb()
	return RunArgs(opts, func(args []string) (err error) {
		*ids, err = v.Factory.ReadIDList(args)
		return err
	}, runF, run)
}

// IDOptions are the options of the verbs whose one input is an ID (sensor
// get, status, signatures, features; baremetal get, status).
type IDOptions struct {
	Verb

	ID string
}
