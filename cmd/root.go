// Package cmd assembles tokenctl's command tree and decides, in one place,
// the exit code of every error.
package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tokenctl/tokenctl/cmd/api"
	"github.com/tokenctl/tokenctl/cmd/apply"
	"github.com/tokenctl/tokenctl/cmd/authtoken"
	"github.com/tokenctl/tokenctl/cmd/baremetal"
	"github.com/tokenctl/tokenctl/cmd/profile"
	sandboxcmd "github.com/tokenctl/tokenctl/cmd/sandbox"
	"github.com/tokenctl/tokenctl/cmd/sensor"
	"github.com/tokenctl/tokenctl/cmd/token"
	"github.com/tokenctl/tokenctl/cmd/version"
	"github.com/tokenctl/tokenctl/internal/build"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// Main runs tokenctl with the process's arguments and returns the exit code.
func Main() int {
	ios := iostreams.System()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first Ctrl-C (or SIGTERM, SIGHUP) cancels the command, which stops
	// cleanly (exit 130);
	// a second one kills the process the default way. Config and state are
	// written atomically, so neither can be left half-written.
	sigs := make(chan os.Signal, 1)
	// SIGHUP (the terminal went away) ends a batch the same way, with its
	// report, rather than killing it with nothing said.
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		if _, ok := <-sigs; ok {
			cancel()
			signal.Stop(sigs)
		}
	}()
	defer signal.Stop(sigs)

	b := build.Get()
	f := cmdutil.NewFactory(ios, cmdutil.BuildInfo{Version: b.Version, Commit: b.Commit, Date: b.Date, Modified: b.Modified})
	f.SetInterrupt(ctx)
	root := newCmdRootFor(f, os.Args[1:])
	root.SetArgs(os.Args[1:])
	err := root.ExecuteContext(ctx)
	f.Cleanup()
	err = f.FinishDryRun(err)
	if err == nil {
		return exit.OK
	}
	if ctx.Err() != nil {
		var silent *exit.SilentError
		if exit.CodeOf(err) != exit.Interrupted || errors.As(err, &silent) {
			// A batch printed its per-item report already; anything else
			// stopped by the interrupt says only that.
			err = exit.WithCode(exit.Interrupted, fmt.Errorf("interrupted"))
		}
		// An interrupted call keeps its own message: a change in flight
		// says that it may have been carried out, and what to look for.
	}
	return report(f, err)
}

// report prints err on stderr (also as JSON with -o json|yaml, --jq or
// --template: the caller is a script) and returns its exit code.
func report(f *cmdutil.Factory, err error) int {
	code := exit.CodeOf(err)
	var silent *exit.SilentError
	if errors.As(err, &silent) {
		return code
	}
	stderr := f.IOStreams.ErrOut
	// Messages quote server text (vendor messages, names); escaping is the
	// last line of defence against terminal escape sequences in them.
	fmt.Fprintf(stderr, "tokenctl: %s\n", escape.Message(err.Error()))
	if format := f.String(cmdutil.FlagOutput); format == "json" || format == "yaml" || f.String(cmdutil.FlagJQ) != "" || f.String(cmdutil.FlagTemplate) != "" {
		b, _ := json.Marshal(map[string]exit.Detail{"error": exit.DetailOf(err)})
		fmt.Fprintf(stderr, "%s\n", b)
	}
	return code
}

// topLevel are tokenctl's top-level commands, in the order help lists
// them. Each is built only when needed: Main builds the one a command line
// names (newCmdRootFor), NewCmdRoot builds them all. A new top-level
// command is one more line here; TestTopLevelNames checks the names.
var topLevel = []struct {
	name    string
	aliases []string
	build   func(*cmdutil.Factory) *cobra.Command
}{
	{"token", nil, token.NewCmdToken},
	{"sensor", nil, sensor.NewCmdSensor},
	{"baremetal", nil, baremetal.NewCmdBaremetal},
	{"authtoken", nil, authtoken.NewCmdAuthtoken},
	{"profile", nil, profile.NewCmdProfile},
	{"apply", nil, func(f *cmdutil.Factory) *cobra.Command { return apply.NewCmdApply(f, nil) }},
	{"diff", nil, func(f *cmdutil.Factory) *cobra.Command { return apply.NewCmdDiff(f, nil) }},
	{"api", nil, func(f *cmdutil.Factory) *cobra.Command { return api.NewCmdAPI(f, nil) }},
	{"sandbox", nil, sandboxcmd.NewCmdSandbox},
	{"version", nil, version.NewCmdVersion},
}

// NewCmdRoot builds the whole command tree (help, completion, docs).
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	root := newRoot(f)
	addEverything(f, root)
	return root
}

// addEverything adds every top-level command, the help topics and cobra's
// completion command to root.
func addEverything(f *cmdutil.Factory, root *cobra.Command) {
	for _, c := range topLevel {
		root.AddCommand(c.build(f))
	}
	root.AddCommand(helpTopics(root)...)
	strictHelpCmd(root)
	completionExamples(root)
	strictCompletionCmd(root)
	defaultNoFileCompletion(root)
}

// newCmdRootFor builds the tree a command line needs: when args name a
// top-level command, the root and that command's subtree; otherwise (no
// command, help, completion, an unknown name or flag, anything unsure)
// the whole tree, so that help, suggestions and completion see every
// command. Building every subtree costs a few hundred microseconds, a
// noticeable part of a command that runs in a few milliseconds.
func newCmdRootFor(f *cmdutil.Factory, args []string) *cobra.Command {
	root := newRoot(f)
	name, ok := commandName(root.PersistentFlags(), args)
	if ok {
		// Help topics and cobra's completion command belong to the
		// whole tree, below.
		for _, c := range topLevel {
			if c.name == name || slices.Contains(c.aliases, name) {
				root.AddCommand(c.build(f))
				defaultNoFileCompletion(root)
				// Nor cobra's `completion` command, which it would
				// build before running any command.
				root.CompletionOptions.DisableDefaultCmd = true
				return root
			}
		}
	}
	addEverything(f, root)
	return root
}

// commandName is the first argument that is not a global flag or a global
// flag's value. ok is false when that is unclear: an unknown flag (it may
// take a value), "--", or no argument at all.
func commandName(global *pflag.FlagSet, args []string) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" || a == "" {
			return "", false
		}
		if !strings.HasPrefix(a, "-") {
			return a, true
		}
		var fl *pflag.Flag
		if long, ok := strings.CutPrefix(a, "--"); ok {
			if strings.Contains(long, "=") {
				continue // --flag=value
			}
			fl = global.Lookup(long)
		} else {
			short := a[1:]
			fl = global.ShorthandLookup(short[:1])
			if fl != nil && len(short) > 1 {
				if fl.NoOptDefVal != "" {
					return "", false // combined short booleans: leave it to cobra
				}
				continue // -ojson
			}
		}
		if fl == nil {
			return "", false
		}
		if fl.NoOptDefVal == "" { // takes a value: skip it
			i++
		}
	}
	return "", false
}

// newRoot is the root command with the global flags and no subcommands.
func newRoot(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "tokenctl",
		Short: "Administer registration tokens, auth tokens and sensors",
		Long: `tokenctl administers registration tokens, auth tokens and sensors on four platforms:
VMware/Broadcom SSP (sensor and baremetal registration tokens, sensors), VMware NSX
(registration tokens), Palo Alto Prisma SD-WAN (operator auth tokens) and the Bamboo
agent-config API (agent tokens).

A profile names one server of one platform; the current profile's platform decides
which API a command speaks. Try it without any server: tokenctl --profile sandbox token list

Credentials come from the profile, a prompt at a terminal, or TOKENCTL_USERNAME,
TOKENCTL_PASSWORD, TOKENCTL_TOKEN and TOKENCTL_PASSPHRASE (never from a flag value): see
tokenctl help environment. Exit codes: tokenctl help exit-codes.`,
		Example: `  tokenctl --profile sandbox token create --display-name demo --generate-passphrase --passphrase-file demo.pp
  tokenctl profile set prod --platform ssp --server https://ssp.example.com --username admin --password-env SSP_PASSWORD
  tokenctl token list -o json
  tokenctl help exit-codes`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		Args:              cobra.ArbitraryArgs,
		RunE:              cmdutil.GroupRunE,
		DisableAutoGenTag: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := f.CheckEnv(); err != nil {
				return err
			}
			f.IOStreams.NoInput = f.Bool(cmdutil.FlagNoInput)
			return f.StartDryRun(cmd)
		},
	}
	root.SetFlagErrorFunc(cmdutil.FlagError)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	f.AddGlobalFlags(root)
	root.Version = f.Build.Version
	root.SetVersionTemplate(version.Line(f.Build) + "\n")
	root.SuggestionsMinimumDistance = 2
	return root
}

// strictCompletionCmd adds cobra's `completion` command now rather than at
// Execute, so that a shell it does not know (`completion tcsh`) is a usage
// error (exit 2) instead of its help and exit 0.
func strictCompletionCmd(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Args = cobra.ArbitraryArgs
			c.RunE = cmdutil.GroupRunE
		}
	}
}

// defaultNoFileCompletion makes commands without their own argument
// completion offer nothing rather than file names: no tokenctl command
// takes a file as a positional argument (files come with -f and other
// flags, which still complete file names).
func defaultNoFileCompletion(cmd *cobra.Command) {
	if cmd.ValidArgsFunction == nil && !cmd.HasSubCommands() {
		cmd.ValidArgsFunction = cobra.NoFileCompletions
	}
	for _, c := range cmd.Commands() {
		defaultNoFileCompletion(c)
	}
}
