package profile

import (
	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// Summary is one profile in `profile list -o json`.
type Summary struct {
	Name     string `json:"name"`
	Platform string `json:"platform"`
	Server   string `json:"server"`
	Auth     string `json:"auth,omitempty"`
	Username string `json:"username,omitempty"`
	Current  bool   `json:"current"`
	Builtin  bool   `json:"builtin,omitempty"`
}

// NewCmdList builds `profile list`.
func NewCmdList(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List profiles (the current one is marked)",
		Example: `  tokenctl profile list
  tokenctl profile ls -o json --jq '.[].name'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := output.Kind{
				Noun:    "profile",
				IDField: "name",
				Columns: []output.Column{
					{Header: "CURRENT", Value: func(it output.Item) string {
						if b, _ := it.Bool("current"); b {
							return "*"
						}
						return ""
					}},
					output.Field("NAME", "name"),
					output.Field("PLATFORM", "platform"),
					output.TextField("SERVER", "server"),
					output.Field("AUTH", "auth"),
					output.Field("USERNAME", "username"),
				},
			}
			o, err := f.OutputFor(kind, output.Many)
			if err != nil {
				return err
			}
			cf, err := f.Config()
			if err != nil {
				return err
			}
			l := f.Printer(o).List(kind)
			for _, name := range cf.Names() {
				p := cf.Profiles[name]
				s := Summary{Name: name, Platform: p.Platform, Server: config.RedactURL(p.Server), Auth: effectiveAuth(p), Username: p.Username, Current: name == cf.CurrentProfile}
				if err := l.Add(cmdutil.RawOf(s)); err != nil {
					return err
				}
			}
			sb := Summary{Name: config.SandboxProfile, Platform: "ssp|nsx|sdwan|agent", Server: "(in-process emulator)", Auth: "built-in", Current: cf.CurrentProfile == config.SandboxProfile, Builtin: true}
			if err := l.Add(cmdutil.RawOf(sb)); err != nil {
				return err
			}
			return l.Close()
		},
	}
}

func effectiveAuth(p *config.Profile) string {
	if p.Auth != "" {
		return p.Auth
	}
	if p.Platform == config.SDWAN && p.APIGeneration == "unified" {
		return config.AuthOAuth
	}
	return authMethods[p.Platform][0]
}

// NewCmdUse builds `profile use`.
func NewCmdUse(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "use NAME",
		Short:   "Make a profile the current one",
		Example: `  tokenctl profile use prod`,
		Args:    cmdutil.ExactArgs("NAME"),

		ValidArgsFunction: cmdutil.FirstArg(f.CompleteProfiles),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			path, err := f.ConfigPath()
			if err != nil {
				return err
			}
			err = config.Update(path, func(cf *config.File) error {
				if _, ok := cf.Profiles[name]; !ok && name != config.SandboxProfile {
					return exit.Usagef("profile %q not found; see `tokenctl profile list`", name)
				}
				cf.CurrentProfile = name
				return nil
			})
			if err != nil {
				return err
			}
			f.Notice("Current profile is now %q.", name)
			return nil
		},
	}
}

// NewCmdDelete builds `profile delete`.
func NewCmdDelete(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a profile (asks first; --yes in scripts)",
		Example: `  tokenctl profile delete old-lab
  tokenctl profile rm old-lab --yes`,
		Args: cmdutil.ExactArgs("NAME"),

		ValidArgsFunction: cmdutil.FirstArg(f.CompleteSavedProfiles),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if name == config.SandboxProfile {
				return exit.Usagef("the built-in sandbox profile cannot be deleted")
			}
			path, err := f.ConfigPath()
			if err != nil {
				return err
			}
			cf, err := f.Config()
			if err != nil {
				return err
			}
			if _, ok := cf.Profiles[name]; !ok {
				return exit.Errorf(exit.NotFound, "profile %q not found", name)
			}
			err = f.ConfirmDestructive(cmdutil.Context(cmd), cmdutil.Destructive{
				Verb: "Delete", Noun: "profile", Targets: []cmdutil.Target{{ID: name}},
				Consequence: "Its stored secrets are removed from the config file.", Done: "deleted",
			})
			if err != nil {
				return err
			}
			err = config.Update(path, func(cf *config.File) error {
				delete(cf.Profiles, name)
				if cf.CurrentProfile == name {
					cf.CurrentProfile = ""
				}
				return nil
			})
			if err != nil {
				return err
			}
			f.Notice("Deleted profile %q.", name)
			return nil
		},
	}
}
