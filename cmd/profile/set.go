package profile

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// SetOptions are `profile set`'s inputs.
type SetOptions struct {
	cmdutil.Verb
	Name string

	Auth            string
	Username        string
	PasswordStdin   bool
	PasswordEnv     string
	PasswordCommand string

	TokenStdin          bool
	TokenEnv            string
	TokenCommand        string
	ClientID            string
	ClientSecretStdin   bool
	ClientSecretEnv     string
	ClientSecretCommand string
	TSGID               string
	AuthURL             string
	APIGeneration       string
	APIVersion          string
	TenantID            string
	OperatorID          string

	CertFile   string
	KeyFile    string
	Thumbprint string
	Trust      bool
	TokenType  string
	Use        bool

	SecretCommandTimeout string
}

// NewCmdSet builds `profile set`.
func NewCmdSet(f *cmdutil.Factory, runF func(*SetOptions) error) *cobra.Command {
	opts := &SetOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Create or update a profile",
		Long: `Create a profile, or change the given fields of an existing one (other fields keep
their values). The first profile becomes the current one; --use makes any profile current.

At a terminal, a new profile without --platform or --server is a short wizard: platform,
server, auth method and where the credentials come from (an environment variable, a command,
typed and stored, or asked each time); it then runs tokenctl profile check. Elsewhere every
missing flag is reported at once (exit 2).

Secrets never come from a plain flag value. Store none (you will be asked at a terminal, or
set TOKENCTL_PASSWORD), point at one (--password-env VAR, --password-command CMD), or store
it in the 0600 file (--password-stdin).

The global --server, --ca-file, --insecure, --timeout and --rps flags set the profile's values.
--trust connects to the server, shows its certificate's SHA-256 thumbprint and pins it
after confirmation; scripts pass --thumbprint instead.`,
		Example: `  tokenctl profile set prod --platform ssp --server https://ssp.example.com --username admin --password-env SSP_PASSWORD
  tokenctl profile set nsx1 --platform nsx --server https://nsx.example.com --auth session --username admin --trust
  tokenctl profile set sdwan --platform sdwan --api-generation unified --client-id my-sa@123.iam --client-secret-env SASE_SECRET --tsg-id 1234567890
  echo "$TOKEN" | tokenctl profile set cgx --platform sdwan --api-generation legacy --server https://api.us.cloudgenix.com --token-stdin`,
		Args: cmdutil.ExactArgs("NAME"),
		RunE: cmdutil.RunArgs(opts, func(args []string) error {
			opts.Name = args[0]
			return nil
		}, runF, setRun),
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Auth, "auth", "", "auth method: basic (ssp, nsx, agent), session or cert (nsx), token or oauth (sdwan)")
	fl.StringVar(&opts.Username, "username", "", "user name (ssp, nsx, agent)")
	fl.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from stdin and store it in the profile")
	fl.StringVar(&opts.PasswordEnv, "password-env", "", "take the password from this environment variable at run time")
	fl.StringVar(&opts.PasswordCommand, "password-command", "", "run this command at run time; its stdout is the password")
	fl.BoolVar(&opts.TokenStdin, "token-stdin", false, "sdwan legacy: read the static auth token from stdin and store it")
	fl.StringVar(&opts.TokenEnv, "token-env", "", "sdwan legacy: take the static auth token from this environment variable")
	fl.StringVar(&opts.TokenCommand, "token-command", "", "sdwan legacy: run this command; its stdout is the static auth token")
	fl.StringVar(&opts.ClientID, "client-id", "", "sdwan unified: OAuth client (service account) id")
	fl.BoolVar(&opts.ClientSecretStdin, "client-secret-stdin", false, "sdwan unified: read the OAuth client secret from stdin and store it")
	fl.StringVar(&opts.ClientSecretEnv, "client-secret-env", "", "sdwan unified: take the client secret from this environment variable")
	fl.StringVar(&opts.ClientSecretCommand, "client-secret-command", "", "sdwan unified: run this command; its stdout is the client secret")
	fl.StringVar(&opts.TSGID, "tsg-id", "", "sdwan unified: tenant service group id for the OAuth scope")
	fl.StringVar(&opts.AuthURL, "auth-url", "", "sdwan unified: OAuth token endpoint (default "+sdwan.DefaultAuthURL+")")
	fl.StringVar(&opts.APIGeneration, "api-generation", "", "sdwan: legacy (X-Auth-Token) or unified (OAuth)")
	fl.StringVar(&opts.APIVersion, "api-version", "", "sdwan: v2.1 (default) or v2.0; agent: current or legacy (default: detected)")
	fl.StringVar(&opts.TenantID, "tenant", "", "sdwan: tenant id (default: discovered from the profile call)")
	fl.StringVar(&opts.OperatorID, "operator", "", "sdwan: operator id (default: discovered from the profile call)")
	fl.StringVar(&opts.CertFile, "cert-file", "", "nsx cert auth: PEM client certificate of the principal identity")
	fl.StringVar(&opts.KeyFile, "key-file", "", "nsx cert auth: PEM private key of the client certificate")
	fl.StringVar(&opts.Thumbprint, "thumbprint", "", "pin the server certificate's SHA-256 thumbprint (hex, colons allowed)")
	fl.BoolVar(&opts.Trust, "trust", false, "connect, show the server's certificate thumbprint and pin it after confirmation")
	fl.StringVar(&opts.TokenType, "token-type", "", "ssp: default --type of token commands (sensor or baremetal)")
	fl.BoolVar(&opts.Use, "use", false, "make this the current profile")
	fl.StringVar(&opts.SecretCommandTimeout, "secret-command-timeout", "", "how long --password-command (and the token and client-secret commands) may run, e.g. 1m (default 30s; env "+config.SecretCommandTimeoutEnv+" overrides)")
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteSavedProfiles)
	cmdutil.CompleteFlag(cmd, "auth", cmdutil.FixedValues(config.AuthBasic, config.AuthSession, config.AuthCert, config.AuthToken, config.AuthOAuth))
	cmdutil.CompleteFlag(cmd, "api-generation", cmdutil.FixedValues("legacy", "unified"))
	cmdutil.CompleteFlag(cmd, "api-version", cmdutil.FixedValues("v2.1", "v2.0", "current", "legacy"))
	cmdutil.CompleteFlag(cmd, "token-type", cmdutil.FixedValues("sensor", "baremetal"))
	return cmd
}

// authMethods lists each platform's auth methods, the default first.
var authMethods = map[string][]string{
	config.SSP:   {config.AuthBasic},
	config.NSX:   {config.AuthBasic, config.AuthSession, config.AuthCert},
	config.SDWAN: {config.AuthToken, config.AuthOAuth},
	config.Agent: {config.AuthBasic},
}

func setRun(opts *SetOptions) error {
	f := opts.Factory
	if err := config.ValidateName(opts.Name); err != nil {
		return err
	}
	path, err := f.ConfigPath()
	if err != nil {
		return err
	}
	current, err := config.Load(path)
	if err != nil {
		return err
	}
	p := config.Profile{}
	existing, exists := current.Profiles[opts.Name]
	if exists {
		p = *existing
	}
	changed := func(name string) bool { return cmdutil.Changed(opts.Cmd, name) }
	var problems []exit.Problem
	problem := func(field, rule string) { problems = append(problems, exit.Problem{Field: field, Rule: rule}) }

	if changed(cmdutil.FlagPlatform) {
		plat := opts.Cmd.Flags().Lookup(cmdutil.FlagPlatform).Value.String()
		if err := config.ValidatePlatform(plat); err != nil {
			return err
		}
		if exists && plat != p.Platform {
			return exit.Usagef("profile %q is a %s profile; delete it first to make it a %s profile", opts.Name, p.Platform, plat)
		}
		p.Platform = plat
	}
	asked := needsWizard(opts, exists, &p)
	if asked {
		if err := wizard(opts, &p); err != nil {
			return err
		}
	}
	if p.Platform == "" {
		problem("--platform", "required for a new profile (one of "+strings.Join(config.Platforms, ", ")+")")
		if !changed(cmdutil.FlagServer) {
			problem("--server", "required for a new profile (a URL such as https://manager.example.com)")
		}
		return exit.Problems(problems)
	}
	if changed(cmdutil.FlagServer) {
		p.Server = strings.TrimRight(opts.Cmd.Flags().Lookup(cmdutil.FlagServer).Value.String(), "/")
	}
	set := func(flag string, dst *string, v string) {
		if changed(flag) {
			*dst = v
		}
	}
	set("auth", &p.Auth, opts.Auth)
	set("username", &p.Username, opts.Username)
	set("client-id", &p.ClientID, opts.ClientID)
	set("tsg-id", &p.TSGID, opts.TSGID)
	set("auth-url", &p.AuthURL, opts.AuthURL)
	set("api-generation", &p.APIGeneration, opts.APIGeneration)
	set("api-version", &p.APIVersion, opts.APIVersion)
	set("tenant", &p.TenantID, opts.TenantID)
	set("operator", &p.OperatorID, opts.OperatorID)
	set("cert-file", &p.CertFile, opts.CertFile)
	set("key-file", &p.KeyFile, opts.KeyFile)
	set("token-type", &p.TokenType, opts.TokenType)
	if p.Platform == config.SDWAN {
		sdwanDefaults(&p, changed("api-generation"), changed("auth"))
	}
	if p.Server == "" {
		problem("--server", "required for a new profile (a URL such as https://manager.example.com)")
	} else if err := config.CheckServerURL(p.Server); err != nil {
		problem("--server", err.Error())
	}
	if p.AuthURL != "" {
		if err := config.CheckServerURL(p.AuthURL); err != nil {
			problem("--auth-url", err.Error())
		}
	}
	if changed(cmdutil.FlagTimeout) {
		p.Timeout = opts.Cmd.Flags().Lookup(cmdutil.FlagTimeout).Value.String()
	}
	if changed(cmdutil.FlagCAFile) {
		p.CAFile = opts.Cmd.Flags().Lookup(cmdutil.FlagCAFile).Value.String()
		if p.CAFile != "" {
			if err := checkPEMFile(p.CAFile, "CERTIFICATE"); err != nil {
				problem("--ca-file", err.Error())
			}
		}
	}
	for _, fl := range []struct{ name, path, block string }{{"cert-file", p.CertFile, "CERTIFICATE"}, {"key-file", p.KeyFile, "PRIVATE KEY"}} {
		if changed(fl.name) && fl.path != "" {
			if err := checkPEMFile(fl.path, fl.block); err != nil {
				problem("--"+fl.name, err.Error())
			}
		}
	}
	set("secret-command-timeout", &p.SecretCommandTimeout, opts.SecretCommandTimeout)
	if changed(cmdutil.FlagInsecure) {
		p.Insecure = f.Bool(cmdutil.FlagInsecure)
	}
	if changed(cmdutil.FlagRPS) {
		v := opts.Cmd.Flags().Lookup(cmdutil.FlagRPS).Value.String()
		if n, err := config.ParseRPS(v); err != nil {
			problem("--rps", err.Error())
		} else {
			p.RPS = n
		}
	}

	// Secrets: one source each; a new source replaces the old ones.
	problems = append(problems, setSecret(opts, "password", &p.Password, &p.PasswordEnv, &p.PasswordCommand, opts.PasswordStdin, opts.PasswordEnv, opts.PasswordCommand)...)
	problems = append(problems, setSecret(opts, "token", &p.Token, &p.TokenEnv, &p.TokenCommand, opts.TokenStdin, opts.TokenEnv, opts.TokenCommand)...)
	problems = append(problems, setSecret(opts, "client-secret", &p.ClientSecret, &p.ClientSecretEnv, &p.ClientSecretCommand, opts.ClientSecretStdin, opts.ClientSecretEnv, opts.ClientSecretCommand)...)
	problems = append(problems, validateProfile(&p)...)
	if changed("thumbprint") {
		t, err := client.NormalizeThumbprint(opts.Thumbprint)
		if err != nil {
			problem("--thumbprint", err.Error())
		} else {
			p.Thumbprint = t
		}
	}
	if opts.Trust && changed("thumbprint") {
		problem("--trust", "cannot be combined with --thumbprint")
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}
	if opts.Trust {
		t, err := trust(opts, &p)
		if err != nil {
			return err
		}
		p.Thumbprint = t
	}

	err = config.Update(path, func(cf *config.File) error {
		cf.Profiles[opts.Name] = &p
		if opts.Use || cf.CurrentProfile == "" {
			cf.CurrentProfile = opts.Name
		}
		return nil
	})
	if err != nil {
		return err
	}
	verb := "Created"
	if exists {
		verb = "Updated"
	}
	f.Notice("%s profile %q (%s, %s) in %s.", verb, opts.Name, p.Platform, config.RedactURL(p.Server), path)
	if asked {
		// The wizard ends as a person would go on: check the new profile.
		f.Notice("Checking it (tokenctl profile check %s):", opts.Name)
		f.UseProfile(opts.Name)
		if err := checkRun(f, opts.Cmd); err != nil {
			f.Notice("The profile is saved; change it with tokenctl profile set %s, or delete it with tokenctl profile delete %s.", opts.Name, opts.Name)
			return err
		}
	}
	return nil
}

// checkPEMFile checks that path can be read and holds a PEM block whose
// type ends with blockType (CERTIFICATE; PRIVATE KEY also matches RSA and
// EC keys); certificates must parse.
func checkPEMFile(path, blockType string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", path, unwrapPathError(err))
	}
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if !strings.HasSuffix(block.Type, blockType) {
			continue
		}
		if blockType == "CERTIFICATE" {
			if _, err := x509.ParseCertificate(block.Bytes); err != nil {
				return fmt.Errorf("%s: a certificate does not parse: %v", path, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%s holds no PEM %s (-----BEGIN %s-----)", path, strings.ToLower(blockType), blockType)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// validEnvName is a portable environment variable name: a letter or '_',
// then letters, digits or '_' (POSIX shells accept no other).
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// sdwanDefaults keeps an sdwan profile's generation and auth method in
// step: each implies the other (legacy goes with a static token, unified
// with OAuth), naming a new generation drops an auth method that no longer
// fits, and a unified profile without a server gets pan.dev's.
func sdwanDefaults(p *config.Profile, generationChanged, authChanged bool) {
	if generationChanged && !authChanged {
		p.Auth = ""
	}
	if authChanged && !generationChanged {
		switch p.Auth {
		case config.AuthOAuth:
			p.APIGeneration = sdwan.Unified
		case config.AuthToken:
			p.APIGeneration = sdwan.Legacy
		}
	}
	if p.Server == "" && p.APIGeneration == sdwan.Unified {
		p.Server = sdwan.DefaultUnifiedServer
	}
}

// setSecret applies one secret's flags: --X-stdin stores it inline,
// --X-env / --X-command store a reference; giving one clears the others.
func setSecret(opts *SetOptions, name string, inline, env, command *string, stdin bool, envName, cmdLine string) []exit.Problem {
	changed := func(flag string) bool { return cmdutil.Changed(opts.Cmd, flag) }
	given := 0
	for _, fl := range []string{name + "-stdin", name + "-env", name + "-command"} {
		if changed(fl) {
			given++
		}
	}
	if given == 0 {
		return nil
	}
	if given > 1 {
		return []exit.Problem{{Field: "--" + name + "-stdin, --" + name + "-env, --" + name + "-command", Rule: "are alternatives; give one"}}
	}
	*inline, *env, *command = "", "", ""
	switch {
	case stdin:
		v, err := opts.Factory.IOStreams.ReadSecretLine()
		if err != nil || v == "" {
			return []exit.Problem{{Field: "--" + name + "-stdin", Rule: "stdin was empty"}}
		}
		*inline = v
	case changed(name + "-env"):
		if !validEnvName(envName) {
			return []exit.Problem{{Field: "--" + name + "-env", Rule: fmt.Sprintf("%q must be an environment variable's name (a letter or _, then letters, digits or _), such as SSP_PASSWORD; the value itself is read at run time", envName)}}
		}
		*env = envName
	default:
		if strings.TrimSpace(cmdLine) == "" {
			return []exit.Problem{{Field: "--" + name + "-command", Rule: "must not be empty"}}
		}
		*command = cmdLine
	}
	return nil
}

// validateProfile applies each platform's rules to the finished profile.
func validateProfile(p *config.Profile) []exit.Problem {
	var ps []exit.Problem
	add := func(field, rule string) { ps = append(ps, exit.Problem{Field: field, Rule: rule}) }
	methods := authMethods[p.Platform]
	if p.Auth != "" {
		if pr := cmdutil.EnumFlag("auth", p.Auth, methods...); pr != nil {
			add("--auth", fmt.Sprintf("%q is not an auth method of %s profiles (%s)", p.Auth, p.Platform, strings.Join(methods, ", ")))
		}
	}
	auth := p.Auth
	if auth == "" {
		auth = methods[0]
		if p.Platform == config.SDWAN && p.APIGeneration == "unified" {
			auth = config.AuthOAuth
		}
	}
	only := func(flag string, value string, platforms ...string) {
		if value == "" {
			return
		}
		for _, pl := range platforms {
			if pl == p.Platform {
				return
			}
		}
		add("--"+flag, "does not apply to "+p.Platform+" profiles")
	}
	only("token-type", p.TokenType, config.SSP)
	only("tsg-id", p.TSGID, config.SDWAN)
	only("client-id", p.ClientID, config.SDWAN)
	only("api-generation", p.APIGeneration, config.SDWAN)
	only("tenant", p.TenantID, config.SDWAN)
	only("operator", p.OperatorID, config.SDWAN)
	only("cert-file", p.CertFile, config.NSX)
	only("key-file", p.KeyFile, config.NSX)
	only("api-version", p.APIVersion, config.SDWAN, config.Agent)
	only("auth-url", p.AuthURL, config.SDWAN)
	only("token-stdin/--token-env/--token-command", p.Token+p.TokenEnv+p.TokenCommand, config.SDWAN)
	only("client-secret-stdin/--client-secret-env/--client-secret-command", p.ClientSecret+p.ClientSecretEnv+p.ClientSecretCommand, config.SDWAN)
	if p.TokenType != "" && p.TokenType != "sensor" && p.TokenType != "baremetal" {
		add("--token-type", "must be sensor or baremetal")
	}
	switch p.Platform {
	case config.SDWAN:
		if p.APIGeneration != "" && p.APIGeneration != "legacy" && p.APIGeneration != "unified" {
			add("--api-generation", "must be legacy or unified")
		}
		if p.APIVersion != "" && p.APIVersion != "v2.1" && p.APIVersion != "v2.0" {
			add("--api-version", "sdwan: must be v2.1 or v2.0")
		}
		if auth == config.AuthOAuth && p.APIGeneration == "legacy" {
			add("--auth", "oauth goes with --api-generation unified")
		}
		if auth == config.AuthToken && p.APIGeneration == "unified" {
			add("--auth", "token goes with --api-generation legacy")
		}
		if p.Username != "" || p.Password != "" || p.PasswordEnv != "" || p.PasswordCommand != "" {
			add("--username", "sdwan profiles authenticate with a static token (legacy: --token-stdin/--token-env/--token-command) or OAuth client credentials (unified: --client-id, --client-secret-*, --tsg-id), not a user name and password")
		}
	case config.Agent:
		if p.APIVersion != "" && p.APIVersion != "current" && p.APIVersion != "legacy" {
			add("--api-version", "agent: must be current (/rest/agent-config/1.0) or legacy (/rest/agent/1.0, before 1.5)")
		}
	case config.NSX:
		if auth == config.AuthCert && (p.CertFile == "" || p.KeyFile == "") {
			add("--cert-file", "cert auth needs --cert-file and --key-file")
		}
	}
	if p.Timeout != "" {
		if d, err := time.ParseDuration(p.Timeout); err != nil || d <= 0 {
			add("--timeout", "must be a positive duration such as 30s")
		}
	}
	if p.SecretCommandTimeout != "" {
		if _, err := config.ParsePositiveDuration(p.SecretCommandTimeout); err != nil {
			add("--secret-command-timeout", err.Error())
		}
	}
	return ps
}

// trust shows the server's certificate and pins its thumbprint after
// confirmation (--yes confirms in scripts that already checked it).
func trust(opts *SetOptions, p *config.Profile) (string, error) {
	f := opts.Factory
	if !strings.HasPrefix(p.Server, "https://") {
		return "", exit.Usagef("--trust: %s is not an https server", p.Server)
	}
	ctx, cancel := context.WithTimeout(cmdutil.Context(opts.Cmd), 15*time.Second)
	defer cancel()
	info, err := client.ProbeTLS(ctx, p.Server, client.TLSOptions{CAFile: p.CAFile}, 10*time.Second)
	if err != nil {
		return "", exit.WithCode(exit.Network, fmt.Errorf("--trust: connecting to %s: %w", p.Server, err))
	}
	w := f.IOStreams.ErrOut
	fmt.Fprintf(w, "Server %s presents:\n  subject:    %s\n  issuer:     %s\n  valid:      %s to %s\n  SHA-256:    %s\n",
		p.Server, info.Subject, info.Issuer, info.NotBefore.Format(time.DateOnly), info.NotAfter.Format(time.DateOnly), info.Thumbprint)
	if info.Verified {
		fmt.Fprintln(w, "  (the certificate also verifies against the trusted CAs)")
	} else {
		fmt.Fprintf(w, "  (not trusted by any CA: %s)\n", info.VerifyError)
	}
	if err := f.Confirm("Pin this thumbprint in the profile? Compare it with the one the server's administrator shows"); err != nil {
		if exit.CodeOf(err) == exit.Usage {
			return "", exit.Usagef("--trust needs confirmation: run it in a terminal, add --yes after checking the thumbprint above, or pass --thumbprint")
		}
		return "", err
	}
	t, _ := client.NormalizeThumbprint(info.Thumbprint)
	return t, nil
}
