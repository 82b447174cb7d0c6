package cmdutil

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/sandbox"
)

// EnvVar is an environment variable tokenctl reads, as `tokenctl help
// environment` and the man pages' ENVIRONMENT section list it.
type EnvVar struct {
	Name        string
	Description string
}

// SecretEnv are the environment variables that carry secrets (or the user
// they belong to): never flags, so that no secret reaches argv.
var SecretEnv = []EnvVar{
	{"TOKENCTL_USERNAME", "user name for basic and session auth (ssp, nsx, agent), overriding the profile's"},
	{"TOKENCTL_PASSWORD", "password for basic and session auth; for sdwan unified profiles the OAuth client secret"},
	{"TOKENCTL_TOKEN", "sdwan legacy: the static auth token (X-Auth-Token)"},
	{"TOKENCTL_PASSPHRASE", "ssp: the registration passphrase of token create, when no flag or manifest gives one"},
}

// OtherEnv are the other variables tokenctl reads besides the global
// flags' TOKENCTL_* defaults.
var OtherEnv = []EnvVar{
	{"TOKENCTL_CONFIG", "the config file (default $XDG_CONFIG_HOME/tokenctl/config.yaml, else ~/.config/tokenctl/config.yaml)"},
	{"XDG_CONFIG_HOME", "where the config file lives when TOKENCTL_CONFIG is not set"},
	{"XDG_STATE_HOME", "where cache.json (discovered API versions, ids, OAuth tokens) and the built-in sandbox's state live (default ~/.local/state)"},
	{"TOKENCTL_SANDBOX_STATE", "the built-in sandbox's state file (default $XDG_STATE_HOME/tokenctl/sandbox.json)"},
	{RetryBaseWaitEnv, "first retry backoff, a duration (default 300ms, doubling to 5s with jitter); Retry-After is honoured regardless"},
	{config.SecretCommandTimeoutEnv, "how long a profile's password_command, token_command or client_secret_command may run (default 30s, or the profile's secret_command_timeout)"},
	{"HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "proxies, as Go's net/http reads them"},
	{"CI", "when set (not 0 or false), tokenctl never prompts, as with --no-input"},
	{"NO_COLOR", "turns colour off, in tables and prompts"},
	{"CLICOLOR_FORCE", "colours table states even when stdout is not a terminal (non-empty and not 0; NO_COLOR wins)"},
	{"COLUMNS", "the width tables fit into (default: the terminal's; none when stdout is a file or pipe)"},
	{sandbox.EnvLCMStep, "built-in sandbox: how long each baremetal lifecycle step takes (sandbox serve: --lcm-step)"},
	{sandbox.EnvLCMFailRate, "built-in sandbox: the fraction (0..1) of baremetal lifecycle operations that fail (sandbox serve: --lcm-fail-rate)"},
	{sandbox.EnvLCMFailHosts, "built-in sandbox: a regular expression of the host names whose lifecycle operations fail (sandbox serve: --lcm-fail-hosts)"},
	{sandbox.EnvLCMTaskOutcome, "built-in sandbox: how uninstall and upgrade tasks end"},
	{"TOKENCTL_SANDBOX_HOST_ROOT", "sandbox vdefend-cli: prefixes every path the host installer stand-in writes"},
	{"TOKENCTL_SANDBOX_HOSTNAME", "sandbox vdefend-cli: the hostname it registers with"},
	{"TOKENCTL_SPECS_DIR", "tests only: the vendor OpenAPI specs for contract tests (default ../shared/api/specs)"},
}

// FlagEnv lists the environment variable of every global flag of root:
// each is the default of its flag (flag > environment > profile > default).
func FlagEnv(root *cobra.Command) []EnvVar {
	var out []EnvVar
	root.PersistentFlags().VisitAll(func(fl *pflag.Flag) {
		if fl.Hidden || fl.Name == "help" {
			return
		}
		name := EnvName(fl.Name)
		usage := strings.TrimSuffix(fl.Usage, " (env "+name+")")
		out = append(out, EnvVar{Name: name, Description: "--" + fl.Name + ": " + usage})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// EnvHelp is the text of `tokenctl help environment`.
func EnvHelp(root *cobra.Command) string {
	var b strings.Builder
	section := func(title string, vars []EnvVar) {
		b.WriteString(title + "\n")
		w := 0
		for _, v := range vars {
			w = max(w, len(v.Name))
		}
		for _, v := range vars {
			fmt.Fprintf(&b, "  %-*s  %s\n", w, v.Name, v.Description)
		}
		b.WriteString("\n")
	}
	section("Secrets and credentials (never flags: a secret in argv leaks through ps and shell history):", SecretEnv)
	section("Global flags (each variable is its flag's default; a flag given on the command line wins):", FlagEnv(root))
	section("Other:", OtherEnv)
	b.WriteString(`Precedence: flag > environment > profile > default. The built-in sandbox profile ignores
TOKENCTL_SERVER, TOKENCTL_USERNAME, TOKENCTL_PASSWORD and TOKENCTL_TOKEN.`)
	return b.String()
}
