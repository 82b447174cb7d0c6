package profile

import (
	"errors"
	"strings"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/prompt"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// needsWizard: `profile set NEW` at a terminal without a platform or a
// server is a short wizard instead of a usage error.
func needsWizard(opts *SetOptions, exists bool, p *config.Profile) bool {
	if exists || !opts.Factory.IOStreams.CanPrompt() {
		return false
	}
	return p.Platform == "" || !cmdutil.Changed(opts.Cmd, cmdutil.FlagServer)
}

// Credential sources the wizard offers for a secret.
const (
	sourceAsk     = "ask"
	sourceEnv     = "env"
	sourceCommand = "command"
	sourceStore   = "store"
)

// wizard asks, in one form, for what the flags left out of a new profile:
// platform, server, auth method and the credentials' source (an
// environment variable's name, a command, typed now and stored in the
// 0600 file, or asked each time). Questions that do not apply to the
// platform chosen are skipped; flags given are not asked again.
func wizard(opts *SetOptions, p *config.Profile) error {
	f := opts.Factory
	given := func(flag string) bool { return cmdutil.Changed(opts.Cmd, flag) }
	var fields []*prompt.Field
	add := func(fd *prompt.Field) { fields = append(fields, fd) }
	on := func(platforms ...string) func() bool {
		return func() bool {
			for _, pl := range platforms {
				if p.Platform == pl {
					return false
				}
			}
			return true
		}
	}

	if p.Platform == "" {
		var options []prompt.Option
		labels := map[string]string{
			config.SSP:   "ssp: VMware/Broadcom Security Services Platform",
			config.NSX:   "nsx: VMware NSX Manager",
			config.SDWAN: "sdwan: Palo Alto Prisma SD-WAN",
			config.Agent: "agent: agent-config (Agent APIs for Bamboo)",
		}
		for _, pl := range config.Platforms {
			options = append(options, prompt.Option{Label: labels[pl], Value: pl})
		}
		add(&prompt.Field{Key: "--platform", Kind: prompt.KindSelect, Title: "Platform", Options: options, Value: &p.Platform})
	}
	if !given("api-generation") && !given("auth") {
		p.APIGeneration = sdwan.Legacy
		add(&prompt.Field{
			Key: "--api-generation", Kind: prompt.KindSelect, Title: "SD-WAN API",
			Options: []prompt.Option{
				{Label: "legacy: a static auth token (X-Auth-Token), your region's server", Value: sdwan.Legacy},
				{Label: "unified: OAuth client credentials of a service account", Value: sdwan.Unified},
			},
			Value: &p.APIGeneration, Hide: on(config.SDWAN), Group: "generation",
		})
	}
	if !given(cmdutil.FlagServer) {
		add(&prompt.Field{
			Key: "--server", Kind: prompt.KindInput, Title: "Server URL",
			Description: "https://manager.example.com (sdwan unified: empty for " + sdwan.DefaultUnifiedServer + ")",
			Value:       &p.Server,
			Validate: func(v string) error {
				v = strings.TrimSpace(v)
				if v == "" && p.Platform == config.SDWAN && p.APIGeneration == sdwan.Unified {
					return nil
				}
				if v == "" {
					return errors.New("required")
				}
				return config.CheckServerURL(strings.TrimRight(v, "/"))
			},
		})
	}
	if !given("auth") {
		p.Auth = ""
		add(&prompt.Field{
			Key: "--auth", Kind: prompt.KindSelect, Title: "Authentication",
			Options: []prompt.Option{
				{Label: "basic: user name and password on every call", Value: config.AuthBasic},
				{Label: "session: log in once per command (JSESSIONID, X-XSRF-TOKEN)", Value: config.AuthSession},
				{Label: "cert: a principal identity's client certificate", Value: config.AuthCert},
			},
			Value: &p.Auth, Hide: on(config.NSX), Group: "auth",
		})
	}
	password := func() bool { return p.Platform == config.SDWAN || p.Auth == config.AuthCert }
	if !given("username") {
		add(&prompt.Field{Key: "--username", Kind: prompt.KindInput, Title: "User name", Value: &p.Username, Validate: prompt.Required, Hide: password, Group: "username"})
	}
	if !given("password-stdin") && !given("password-env") && !given("password-command") {
		fields = append(fields, secretSource("password", "Password", &p.Password, &p.PasswordEnv, &p.PasswordCommand, password)...)
	}
	if !given("cert-file") {
		add(&prompt.Field{Key: "--cert-file", Kind: prompt.KindInput, Title: "Client certificate (PEM file)", Value: &p.CertFile, Validate: prompt.Required,
			Hide: func() bool { return p.Auth != config.AuthCert }, Group: "cert"})
	}
	if !given("key-file") {
		add(&prompt.Field{Key: "--key-file", Kind: prompt.KindInput, Title: "Its private key (PEM file)", Value: &p.KeyFile, Validate: prompt.Required,
			Hide: func() bool { return p.Auth != config.AuthCert }, Group: "cert"})
	}
	legacy := func() bool { return p.Platform != config.SDWAN || p.APIGeneration != sdwan.Legacy }
	unified := func() bool { return p.Platform != config.SDWAN || p.APIGeneration != sdwan.Unified }
	if !given("token-stdin") && !given("token-env") && !given("token-command") {
		fields = append(fields, secretSource("token", "Static auth token", &p.Token, &p.TokenEnv, &p.TokenCommand, legacy)...)
	}
	if !given("client-id") {
		add(&prompt.Field{Key: "--client-id", Kind: prompt.KindInput, Title: "OAuth client id (service account)", Value: &p.ClientID, Validate: prompt.Required, Hide: unified, Group: "oauth"})
	}
	if !given("tsg-id") {
		add(&prompt.Field{Key: "--tsg-id", Kind: prompt.KindInput, Title: "Tenant service group id", Value: &p.TSGID, Validate: prompt.Required, Hide: unified, Group: "oauth"})
	}
	if !given("client-secret-stdin") && !given("client-secret-env") && !given("client-secret-command") {
		fields = append(fields, secretSource("client-secret", "OAuth client secret", &p.ClientSecret, &p.ClientSecretEnv, &p.ClientSecretCommand, unified)...)
	}
	if err := f.Ask(&prompt.Form{Fields: fields}, "saved"); err != nil {
		return err
	}
	p.Server = strings.TrimRight(strings.TrimSpace(p.Server), "/")
	if p.Platform == config.SDWAN {
		p.Auth = config.AuthToken
		if p.APIGeneration == sdwan.Unified {
			p.Auth = config.AuthOAuth
		}
	} else {
		p.APIGeneration = ""
	}
	if p.Auth == config.AuthBasic && p.Platform != config.NSX {
		p.Auth = "" // the platform's default
	}
	return nil
}

// secretSource asks where a secret comes from, then the variable's name,
// the command, or the secret itself (stored in the 0600 config file).
// "Ask each time" stores nothing: tokenctl prompts at a terminal, or reads
// TOKENCTL_PASSWORD / TOKENCTL_TOKEN.
func secretSource(flag, title string, inline, env, command *string, hide func() bool) []*prompt.Field {
	source := sourceEnv
	group := flag + "-source"
	return []*prompt.Field{
		{
			Key: "--" + flag + "-source", Kind: prompt.KindSelect, Title: title + " from",
			Options: []prompt.Option{
				{Label: "an environment variable (its name is stored)", Value: sourceEnv},
				{Label: "a command that prints it (a password manager)", Value: sourceCommand},
				{Label: "type it now; stored in the config file (mode 0600)", Value: sourceStore},
				{Label: "ask each time (or set the TOKENCTL_* variable)", Value: sourceAsk},
			},
			Value: &source, Hide: hide, Group: group,
		},
		{
			Key: "--" + flag + "-env", Kind: prompt.KindInput, Title: "Environment variable", Value: env,
			Hide:     func() bool { return hide() || source != sourceEnv },
			Group:    flag + "-env",
			Validate: envName,
		},
		{
			Key: "--" + flag + "-command", Kind: prompt.KindInput, Title: "Command", Description: "run with sh -c; its stdout is the secret", Value: command,
			Hide:     func() bool { return hide() || source != sourceCommand },
			Group:    flag + "-command",
			Validate: prompt.Required,
		},
		{
			Key: "--" + flag, Kind: prompt.KindSecret, Title: title, Value: inline,
			Hide:     func() bool { return hide() || source != sourceStore },
			Group:    flag + "-store",
			Validate: prompt.Required,
		},
	}
}

func envName(v string) error {
	if v == "" {
		return errors.New("required")
	}
	for i, r := range v {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return errors.New("a variable name: letters, digits and _, not starting with a digit")
		}
	}
	return nil
}
