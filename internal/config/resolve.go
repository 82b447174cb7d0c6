package config

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// Source says where an override came from.
type Source int

const (
	FromFlag Source = iota + 1
	FromEnv
)

// Overrides are the global settings given on the command line or in the
// environment: flag > environment > profile > default.
type Overrides interface {
	// Lookup returns the setting (flag name, e.g. "server") and where it came
	// from; ok is false when neither a flag nor an environment variable set it.
	Lookup(key string) (value string, src Source, ok bool)
}

// Resolved is the profile a command runs with, after precedence.
type Resolved struct {
	// Name is the profile's name; "" for an ad-hoc --server without a profile.
	Name string
	Profile
	// Sandbox is the built-in profile: the emulator runs in-process.
	Sandbox bool

	password    *string // from TOKENCTL_PASSWORD or a prompt
	staticToken *string // from TOKENCTL_TOKEN
	// secretTimeoutEnv is TOKENCTL_SECRET_COMMAND_TIMEOUT.
	secretTimeoutEnv string
	// timeoutFrom names where Timeout came from, for errors about it.
	timeoutFrom string
	// CAFileFrom names where CAFile came from (--ca-file,
	// TOKENCTL_CA_FILE or the profile), for errors about it.
	CAFileFrom string
}

// NoProfileError is returned when nothing says which server to talk to.
func NoProfileError() error {
	return exit.Usagef("no profile: add one with `tokenctl profile set NAME --platform ssp --server https://HOST --username USER`,\nname one with --profile or TOKENCTL_PROFILE, or try the built-in emulator with `--profile sandbox`")
}

// Resolve picks the profile and applies the overrides.
func Resolve(f *File, ov Overrides) (*Resolved, error) {
	name, _, _ := ov.Lookup("profile")
	if name == "" {
		name = f.CurrentProfile
	}
	platform, platSrc, platSet := ov.Lookup("platform")
	if platSet {
		if err := ValidatePlatform(platform); err != nil {
			return nil, err
		}
	}
	if name == SandboxProfile {
		// The sandbox ignores the server and credential environment
		// variables, so that a shell set up for production cannot point it
		// elsewhere; a flag that contradicts it is a mistake.
		for _, k := range []string{"server", "username"} {
			if _, src, ok := ov.Lookup(k); ok && src == FromFlag {
				return nil, exit.Usagef("--%s cannot be used with --profile sandbox: the sandbox runs in-process with fixed credentials", k)
			}
		}
		if !platSet {
			platform = SSP
		}
		r := &Resolved{Name: SandboxProfile, Sandbox: true, Profile: Profile{Platform: platform, Username: "admin", Auth: AuthBasic}}
		if v, src, ok := ov.Lookup("rps"); ok {
			n, err := ParseRPS(v)
			if err != nil {
				return nil, exit.Usagef("%s %q: %v", sourceName("rps", src), v, err)
			}
			r.RPS = n
		}
		return r, nil
	}
	r := &Resolved{}
	if name != "" {
		p, ok := f.Profiles[name]
		if !ok {
			if len(f.Profiles) == 0 {
				return nil, exit.Usagef("profile %q not found: no profiles are configured; add one with `tokenctl profile set %s ...` or use --profile sandbox", name, name)
			}
			return nil, exit.Usagef("profile %q not found; profiles: %s (or the built-in sandbox)", name, strings.Join(f.Names(), ", "))
		}
		r.Name = name
		r.Profile = *p
		if platSet && platform != p.Platform {
			flag := "--platform"
			if platSrc == FromEnv {
				flag = "TOKENCTL_PLATFORM"
			}
			return nil, exit.Usagef("%s %s conflicts with profile %q, which is a %s profile; --platform is for --profile sandbox and --server", flag, platform, name, p.Platform)
		}
	} else {
		if _, _, ok := ov.Lookup("server"); !ok {
			return nil, NoProfileError()
		}
		if !platSet {
			return nil, exit.Usagef("--server without a profile needs --platform (one of %s)", strings.Join(Platforms, ", "))
		}
		r.Platform = platform
	}
	serverFrom := fmt.Sprintf("profile %q: server", r.Name)
	if v, src, ok := ov.Lookup("server"); ok {
		r.Server = v
		serverFrom = "--server"
		if src == FromEnv {
			serverFrom = "TOKENCTL_SERVER"
		}
	}
	if v, _, ok := ov.Lookup("username"); ok {
		r.Username = v
	}
	r.CAFileFrom = fmt.Sprintf("profile %q: ca_file", r.Name)
	if v, src, ok := ov.Lookup("ca-file"); ok {
		r.CAFile = v
		r.CAFileFrom = sourceName("ca-file", src)
	}
	if v, src, ok := ov.Lookup("insecure"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, exit.Usagef("%s: %q is not a boolean", sourceName("insecure", src), v)
		}
		r.Insecure = b
	}
	if v, src, ok := ov.Lookup("rps"); ok {
		n, err := ParseRPS(v)
		if err != nil {
			return nil, exit.Usagef("%s %q: %v", sourceName("rps", src), v, err)
		}
		r.RPS = n
	} else if r.RPS != 0 {
		if _, err := ParseRPS(strconv.FormatFloat(r.RPS, 'g', -1, 64)); err != nil {
			return nil, exit.Usagef("profile %q: rps %v: %v", r.Name, r.RPS, err)
		}
	}
	r.timeoutFrom = fmt.Sprintf("profile %q: timeout", r.Name)
	if v, src, ok := ov.Lookup("timeout"); ok {
		r.Timeout = v
		r.timeoutFrom = sourceName("timeout", src)
	}
	if v, _, ok := ov.Lookup("password"); ok {
		r.password = &v
	}
	if v, _, ok := ov.Lookup("token"); ok {
		r.staticToken = &v
	}
	if v, _, ok := ov.Lookup("secret-command-timeout"); ok {
		r.secretTimeoutEnv = v
	}
	if r.Server == "" {
		return nil, exit.Usagef("profile %q has no server; set one with `tokenctl profile set %s --server URL`", r.Name, r.Name)
	}
	if err := CheckServerURL(r.Server); err != nil {
		return nil, exit.Usagef("%s: %v", serverFrom, err)
	}
	if r.AuthURL != "" {
		if err := CheckServerURL(r.AuthURL); err != nil {
			return nil, exit.Usagef("profile %q: auth_url: %v", r.Name, err)
		}
	}
	return r, nil
}

// ValidatePlatform checks a platform name.
func ValidatePlatform(p string) error {
	for _, q := range Platforms {
		if p == q {
			return nil
		}
	}
	return exit.Usagef("--platform %q: must be one of %s", p, strings.Join(Platforms, ", "))
}

// TimeoutDuration is the per-request timeout (default 30s).
func (r *Resolved) TimeoutDuration() (time.Duration, error) {
	if r.Timeout == "" {
		return 30 * time.Second, nil
	}
	d, err := time.ParseDuration(r.Timeout)
	if err != nil || d <= 0 {
		from := r.timeoutFrom
		if from == "" {
			from = "--timeout"
		}
		return 0, exit.Usagef("%s %q: must be a positive duration such as 30s or 2m", from, r.Timeout)
	}
	return d, nil
}

// SetPassword sets the password for this run (from a prompt or stdin).
func (r *Resolved) SetPassword(p string) { r.password = &p }

// Password returns the password: TOKENCTL_PASSWORD or one set for this run,
// else the profile's inline value, password_env or password_command.
// ok is false when the profile has none.
func (r *Resolved) Password(ctx context.Context) (string, bool, error) {
	if r.password != nil {
		return *r.password, true, nil
	}
	return r.resolveSecret(ctx, "password", r.Profile.Password, r.PasswordEnv, r.PasswordCommand)
}

// StaticToken returns the SD-WAN static auth token (TOKENCTL_TOKEN first).
func (r *Resolved) StaticToken(ctx context.Context) (string, bool, error) {
	if r.staticToken != nil {
		return *r.staticToken, true, nil
	}
	return r.resolveSecret(ctx, "token", r.Token, r.TokenEnv, r.TokenCommand)
}

// SetStaticToken sets the SD-WAN static token for this run.
func (r *Resolved) SetStaticToken(t string) { r.staticToken = &t }

// ClientSecretValue returns the SD-WAN OAuth client secret.
func (r *Resolved) ClientSecretValue(ctx context.Context) (string, bool, error) {
	if r.password != nil { // TOKENCTL_PASSWORD doubles as the client secret
		return *r.password, true, nil
	}
	return r.resolveSecret(ctx, "client_secret", r.ClientSecret, r.ClientSecretEnv, r.ClientSecretCommand)
}

func (r *Resolved) resolveSecret(ctx context.Context, field, inline, envName, command string) (string, bool, error) {
	switch {
	case inline != "":
		return inline, true, nil
	case envName != "":
		v, ok := os.LookupEnv(envName)
		if !ok || v == "" {
			return "", false, exit.Usagef("profile %q takes its %s from $%s, which is not set", r.Name, field, envName)
		}
		return v, true, nil
	case command != "":
		timeout, err := r.secretCommandTimeout()
		if err != nil {
			return "", false, err
		}
		v, err := runSecretCommand(ctx, field, command, timeout)
		if exit.CodeOf(err) == exit.Interrupted {
			return "", false, err
		}
		if err != nil {
			return "", false, exit.Usagef("profile %q: %v", r.Name, err)
		}
		return v, true, nil
	}
	return "", false, nil
}

// sourceName names where a global setting came from: its flag or its
// TOKENCTL_* environment variable.
func sourceName(key string, src Source) string {
	if src == FromEnv {
		return "TOKENCTL_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
	}
	return "--" + key
}

// ParseRPS reads a requests-per-second cap: a positive number (0.5 is one
// request every two seconds).
func ParseRPS(v string) (float64, error) {
	n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("must be a positive number of requests per second, such as 20 or 0.5")
	}
	return n, nil
}
