package config

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
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
}

// NoProfileError is returned when nothing says which server to talk to.
func NoProfileError() error {
	return exit.Usagef("no profile: add one with `tokenctl profile set NAME --platform ssp --server https://HOST --username USER`,\nname one with --profile or TOKENCTL_PROFILE, or try the built-in emulator with `--profile sandbox`")
}

// Resolve picks the profile and applies the overrides.
func Resolve(f Profiles, ov Overrides) (*Resolved, error) {
	name, _, _ := ov.Lookup("profile")
	if name == "" {
		name = f.Current()
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
		return &Resolved{Name: SandboxProfile, Sandbox: true, Profile: Profile{Platform: platform, Username: "admin", Auth: AuthBasic}}, nil
	}
	r := &Resolved{}
	if name != "" {
		p, ok, err := f.Profile(name)
		if err != nil {
			return nil, err
		}
		if !ok {
			if len(f.Names()) == 0 {
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
	if v, _, ok := ov.Lookup("server"); ok {
		r.Server = v
	}
	if v, _, ok := ov.Lookup("username"); ok {
		r.Username = v
	}
	if v, _, ok := ov.Lookup("ca-file"); ok {
		r.CAFile = v
	}
	if v, _, ok := ov.Lookup("insecure"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, exit.Usagef("--insecure / TOKENCTL_INSECURE: %q is not a boolean", v)
		}
		r.Insecure = b
	}
	if v, _, ok := ov.Lookup("timeout"); ok {
		r.Timeout = v
	}
	if v, _, ok := ov.Lookup("password"); ok {
		r.password = &v
	}
	if v, _, ok := ov.Lookup("token"); ok {
		r.staticToken = &v
	}
	if r.Server == "" {
		return nil, exit.Usagef("profile %q has no server; set one with `tokenctl profile set %s --server URL`", r.Name, r.Name)
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
		return 0, exit.Usagef("--timeout %q: must be a positive duration such as 30s or 2m", r.Timeout)
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
	return resolveSecret(ctx, r.Name, "password", r.Profile.Password, r.PasswordEnv, r.PasswordCommand)
}

// StaticToken returns the SD-WAN static auth token (TOKENCTL_TOKEN first).
func (r *Resolved) StaticToken(ctx context.Context) (string, bool, error) {
	if r.staticToken != nil {
		return *r.staticToken, true, nil
	}
	return resolveSecret(ctx, r.Name, "token", r.Token, r.TokenEnv, r.TokenCommand)
}

// SetStaticToken sets the SD-WAN static token for this run.
func (r *Resolved) SetStaticToken(t string) { r.staticToken = &t }

// ClientSecretValue returns the SD-WAN OAuth client secret.
func (r *Resolved) ClientSecretValue(ctx context.Context) (string, bool, error) {
	if r.password != nil { // TOKENCTL_PASSWORD doubles as the client secret
		return *r.password, true, nil
	}
	return resolveSecret(ctx, r.Name, "client_secret", r.ClientSecret, r.ClientSecretEnv, r.ClientSecretCommand)
}

func resolveSecret(ctx context.Context, profile, field, inline, envName, command string) (string, bool, error) {
	switch {
	case inline != "":
		return inline, true, nil
	case envName != "":
		v, ok := os.LookupEnv(envName)
		if !ok || v == "" {
			return "", false, exit.Usagef("profile %q takes its %s from $%s, which is not set", profile, field, envName)
		}
		return v, true, nil
	case command != "":
		v, err := runSecretCommand(ctx, command)
		if err != nil {
			return "", false, exit.Usagef("profile %q: %s_command failed: %v", profile, field, err)
		}
		return v, true, nil
	}
	return "", false, nil
}

// runSecretCommand runs a *_command through the shell; its stdout, without
// the final newline, is the secret. Its stderr goes to ours, so a password
// manager can ask for a PIN; its stdout is never shown.
func runSecretCommand(ctx context.Context, command string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(ctx, "cmd", "/C", command)
	} else {
		cmd = exec.CommandContext(ctx, "sh", "-c", command)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", err
	}
	s := strings.TrimRight(out.String(), "\r\n")
	if s == "" {
		return "", fmt.Errorf("it printed nothing")
	}
	return s, nil
}
