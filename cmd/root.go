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
	"syscall"

	"github.com/spf13/cobra"

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
	root := NewCmdRoot(f)
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

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
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
	root.AddCommand(
		token.NewCmdToken(f),
		sensor.NewCmdSensor(f),
		baremetal.NewCmdBaremetal(f),
		authtoken.NewCmdAuthtoken(f),
		profile.NewCmdProfile(f),
		apply.NewCmdApply(f, nil),
		apply.NewCmdDiff(f, nil),
		api.NewCmdAPI(f, nil),
		sandboxcmd.NewCmdSandbox(f),
		version.NewCmdVersion(f),
	)
	root.AddCommand(helpTopics(root)...)
	root.Version = f.Build.Version
	root.SetVersionTemplate(version.Line(f.Build) + "\n")
	root.SuggestionsMinimumDistance = 2
	completionExamples(root)
	strictCompletionCmd(root)
	defaultNoFileCompletion(root)
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
