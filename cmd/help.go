package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// ExitCodesHelp is the text of `tokenctl help exit-codes`.
func ExitCodesHelp() string {
	var b strings.Builder
	b.WriteString("Every command exits with one of these codes; scripts can rely on them.\n\n")
	for _, m := range exit.Table {
		fmt.Fprintf(&b, "  %3d  %s\n", m.Code, m.Meaning)
	}
	b.WriteString(`
Errors are printed on stderr, naming the operation, the HTTP status and the vendor's own error
fields; with -o json or -o yaml also as {"error":{"operation","http_status","exit_code",
"message","vendor"}}. Without a terminal, a destructive command needs --yes (else exit 2).`)
	return b.String()
}

// helpTopics are the additional help topics: `tokenctl help exit-codes`
// and `tokenctl help environment`. They have no Run, so cobra lists them
// under "Additional help topics" and `help TOPIC` prints their text.
func helpTopics(root *cobra.Command) []*cobra.Command {
	return []*cobra.Command{
		{
			Use:   "exit-codes",
			Short: "Exit codes and what they mean",
			Long:  ExitCodesHelp(),
		},
		{
			Use:   "environment",
			Short: "Environment variables tokenctl reads (credentials, defaults of global flags, paths)",
			Long:  cmdutil.EnvHelp(root),
		},
	}
}

// strictHelpCmd makes `tokenctl help NAME...` a usage error (exit 2, with
// suggestions) when the names are no command or help topic: cobra's own
// help command printed the nearest parent's help and exited 0, hiding the
// typo (`help exit-code`, `help token lst`).
func strictHelpCmd(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() != "help" {
			continue
		}
		c.RunE = func(help *cobra.Command, args []string) error {
			cmd, rest, err := help.Root().Find(args)
			if err != nil {
				return exit.Usagef("%v", err)
			}
			if len(rest) > 0 {
				return cmdutil.UnknownCommand(cmd, rest[0], "help topic", strings.TrimSpace("tokenctl help "+strings.Join(args[:len(args)-len(rest)], " ")))
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		}
	}
}

// completionExamples creates cobra's `completion` command now (rather than
// when the command runs) so that its subcommands carry examples too.
func completionExamples(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	examples := map[string]string{
		"bash": `  source <(tokenctl completion bash)          # needs the bash-completion package (apt install bash-completion)
  tokenctl completion bash | sudo tee /etc/bash_completion.d/tokenctl >/dev/null`,
		"zsh":        `  tokenctl completion zsh > "${fpath[1]}/_tokenctl"`,
		"fish":       `  tokenctl completion fish > ~/.config/fish/completions/tokenctl.fish`,
		"powershell": `  tokenctl completion powershell | Out-String | Invoke-Expression`,
	}
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Example = "  tokenctl completion bash > ~/.local/share/bash-completion/completions/tokenctl"
		for _, sub := range c.Commands() {
			sub.Example = examples[sub.Name()]
		}
	}
}
