// Package cmdutil is the plumbing every command shares: the Factory (lazy
// config, profile, HTTP client, printer), global flags, argument checks.
package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"golang.org/x/time/rate"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/prompt"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// BuildInfo is set with -ldflags by goreleaser, else read from the Go
// toolchain's build record (internal/build).
type BuildInfo struct {
	Version  string
	Commit   string
	Date     string
	Modified bool
}

// Factory gives commands what they need, lazily: nothing is read or
// connected until a command asks for it, so `tokenctl version` and --help
// do no work.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Prompter asks the person at the terminal (check IOStreams.CanPrompt
	// first). The default builds huh's prompter on the first question.
	Prompter prompt.Prompter
	Build    BuildInfo

	// Settings resolves global flags and TOKENCTL_* environment variables
	// (flag > env > default).
	Settings *viper.Viper
	flags    *pflag.FlagSet

	configFile *config.File
	profile    *config.Resolved
	// forcedProfile replaces --profile (profile check NAME).
	forcedProfile string
	sandbox       *sandbox.Server
	cleanups      []func()
	// completing is set during dynamic shell completion, which must not
	// wait long for anything.
	completing bool
	// plainHTTPWarned records the plain-HTTP servers warned about (once per
	// run each).
	plainHTTPWarned map[string]bool
	// limiter paces every request of the process (--rps); one for all
	// clients, so concurrent batches share the rate.
	limiter *rate.Limiter
	// dry is the --dry-run state once StartDryRun ran.
	dry *dryRun
	// interrupt ends with the first signal (SetInterrupt).
	interrupt context.Context
	// serverNow is the clock of the latest API client (its server's Date
	// header), for relative times in tables; nil before any connection.
	serverNow func() time.Time
}

// now is the time relative times are printed against: the server's clock
// once a client connected (expiry times are the server's), else the local
// one.
func (f *Factory) now() time.Time {
	if f.serverNow != nil {
		return f.serverNow()
	}
	return time.Now()
}

// NewFactory returns a factory for the process's streams.
func NewFactory(ios *iostreams.IOStreams, build BuildInfo) *Factory {
	f := &Factory{
		IOStreams: ios,
		Build:     build,
		Settings:  viper.New(),
		interrupt: context.Background(),
	}
	f.Prompter = prompt.NewLazy(func() prompt.Prompter { return prompt.New(f.interrupt, ios.In, ios.ErrOut) })
	return f
}

// SetInterrupt gives the factory the context the first SIGINT, SIGTERM or
// SIGHUP cancels (Main), which also ends a question on screen (exit 130).
func (f *Factory) SetInterrupt(ctx context.Context) { f.interrupt = ctx }

// Global flag names.
const (
	FlagProfile  = "profile"
	FlagPlatform = "platform"
	FlagServer   = "server"
	FlagOutput   = "output"
	FlagJQ       = "jq"
	FlagTemplate = "template"
	FlagNoInput  = "no-input"
	FlagYes      = "yes"
	FlagInsecure = "insecure"
	FlagCAFile   = "ca-file"
	FlagTimeout  = "timeout"
	FlagDebug    = "debug"
	FlagQuiet    = "quiet"
	// FlagRetryMaxWait caps the total wait between one request's tries.
	FlagRetryMaxWait = "retry-max-wait"
	// FlagRPS caps the requests per second of the whole process.
	FlagRPS    = "rps"
	FlagDryRun = "dry-run"
	// FlagNoHeaders drops a table's header row.
	FlagNoHeaders = "no-headers"
)

// EnvName is the environment variable of a global setting.
func EnvName(key string) string {
	return "TOKENCTL_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

// AddGlobalFlags registers the global flags; each flag's help names its
// environment variable, which viper binds as the flag's default.
func (f *Factory) AddGlobalFlags(root *cobra.Command) {
	fs := root.PersistentFlags()
	env := func(usage, key string) string { return fmt.Sprintf("%s (env %s)", usage, EnvName(key)) }
	fs.String(FlagProfile, "", env("profile to use; \"sandbox\" runs the built-in emulator", FlagProfile))
	fs.String(FlagPlatform, "", env("platform: ssp, nsx, sdwan or agent (for --profile sandbox and --server)", FlagPlatform))
	fs.String(FlagServer, "", env("server URL, overriding the profile's", FlagServer))
	fs.StringP(FlagOutput, "o", "", env("output format: table, wide, json, jsonl, yaml, id, manifest, secret or install-script (which apply depends on the command)", FlagOutput))
	fs.String(FlagJQ, "", env("filter JSON output with a jq expression", FlagJQ))
	fs.String(FlagTemplate, "", env("format JSON output with a Go template (helpers: timefmt, timeago, tablerow, tablerender, pluck, join, truncate)", FlagTemplate))
	fs.Bool(FlagNoInput, false, env("never prompt; fail naming the flag that would answer", FlagNoInput))
	fs.Bool(FlagYes, false, env("confirm destructive actions without asking", FlagYes))
	fs.Bool(FlagInsecure, false, env("skip TLS certificate verification (unsafe; warns every time)", FlagInsecure))
	fs.String(FlagCAFile, "", env("PEM file of CA certificates to trust besides the system's", FlagCAFile))
	fs.String(FlagTimeout, "", env("timeout of each HTTP request, e.g. 30s", FlagTimeout))
	fs.Bool(FlagDebug, false, env("log HTTP requests and responses to stderr, secrets redacted", FlagDebug))
	fs.BoolP(FlagQuiet, "q", false, env("print no notices on stderr, only errors", FlagQuiet))
	fs.String(FlagRetryMaxWait, "", env("cap on the total wait between one request's retries, whatever the server's Retry-After asks (default 2m)", FlagRetryMaxWait))
	fs.String(FlagRPS, "", env("at most this many requests per second from this process, retries and concurrent batches included (e.g. 20, or 0.5); also a profile setting", FlagRPS))
	fs.Bool(FlagDryRun, false, env("send no change: print each one (method, URL, redacted body, curl line) on stderr, the plan as JSON with -o json; reads still happen, no local file is written, exit 0", FlagDryRun))
	fs.Bool(FlagNoHeaders, false, env("print tables without their header row", FlagNoHeaders))
	CompleteFlag(root, FlagProfile, f.CompleteProfiles)
	CompleteFlag(root, FlagPlatform, FixedValues(config.Platforms...))
	CompleteFlag(root, FlagOutput, FixedValues(output.AllFormats...))
	f.flags = fs
	v := f.Settings
	v.SetEnvPrefix("TOKENCTL")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	_ = v.BindPFlags(fs)
}

// Lookup implements config.Overrides: a global flag if given, else its
// TOKENCTL_* variable. username, password and token exist only in the
// environment (a secret is never a flag value).
func (f *Factory) Lookup(key string) (string, config.Source, bool) {
	if key == FlagProfile && f.forcedProfile != "" {
		return f.forcedProfile, config.FromFlag, true
	}
	if f.flags != nil {
		if fl := f.flags.Lookup(key); fl != nil && fl.Changed {
			return fl.Value.String(), config.FromFlag, true
		}
	}
	if v, ok := os.LookupEnv(EnvName(key)); ok && v != "" {
		return v, config.FromEnv, true
	}
	return "", 0, false
}

// Bool reads a boolean global setting (flag > env).
func (f *Factory) Bool(key string) bool { return f.Settings.GetBool(key) }

// String reads a string global setting (flag > env).
func (f *Factory) String(key string) string { return f.Settings.GetString(key) }

// OutputOptions are the validated -o/--jq/--template settings, and for
// tables --no-headers, the terminal's width and whether to colour.
func (f *Factory) OutputOptions() (output.Options, error) {
	o := output.Options{Format: f.String(FlagOutput), JQ: f.String(FlagJQ), Template: f.String(FlagTemplate), Now: f.now}
	// Environment defaults apply only where they fit the command
	// (output.Options.DropEnvFormat); a flag given explicitly still errs.
	_, src, ok := f.Lookup(FlagOutput)
	o.FormatFromEnv = ok && src == config.FromEnv
	_, jqSrc, jqOK := f.Lookup(FlagJQ)
	_, tmplSrc, tmplOK := f.Lookup(FlagTemplate)
	jqEnv, tmplEnv := jqOK && jqSrc == config.FromEnv, tmplOK && tmplSrc == config.FromEnv
	switch {
	case o.JQ != "" && o.Template != "" && jqEnv && !tmplEnv:
		o.JQ, jqEnv = "", false // --template given: TOKENCTL_JQ gives way
	case o.JQ != "" && o.Template != "" && tmplEnv && !jqEnv:
		o.Template, tmplEnv = "", false
	}
	o.FilterFromEnv = (jqEnv && o.JQ != "") || (tmplEnv && o.Template != "")
	if err := o.Validate(); err != nil {
		return o, err
	}
	if o.IsTable() {
		o.NoHeaders = f.Bool(FlagNoHeaders)
		o.Width = f.IOStreams.TerminalWidth()
		o.Color = f.IOStreams.ColorEnabled()
	}
	return o, nil
}

// OutputFor validates the output settings for a command that prints kind
// in shape (one object or a list): a format that does not apply is refused
// here, before any request is sent (a TOKENCTL_OUTPUT default that does not
// apply gives way to the command's own output instead).
func (f *Factory) OutputFor(kind output.Kind, shape output.Shape) (output.Options, error) {
	o, err := f.OutputOptions()
	if err != nil {
		return o, err
	}
	return o, o.Check(kind, shape)
}

// Printer returns the printer for the validated output options.
func (f *Factory) Printer(o output.Options) *output.Printer {
	return output.New(f.IOStreams, o)
}

// Notice prints a message on stderr unless --quiet. String arguments are
// escaped (output.Escape): they may be names a server chose.
func (f *Factory) Notice(format string, args ...any) {
	if f.Bool(FlagQuiet) {
		return
	}
	fmt.Fprintf(f.IOStreams.ErrOut, format+"\n", escape.Args(args)...)
}

// Warn prints a warning on stderr (even with --quiet), its string
// arguments escaped.
func (f *Factory) Warn(format string, args ...any) {
	fmt.Fprintf(f.IOStreams.ErrOut, "warning: "+format+"\n", escape.Args(args)...)
}

// ConfigPath is the config file's path.
func (f *Factory) ConfigPath() (string, error) { return config.Path() }

// Config loads the config file once.
func (f *Factory) Config() (*config.File, error) {
	if f.configFile != nil {
		return f.configFile, nil
	}
	path, err := config.Path()
	if err != nil {
		return nil, err
	}
	cf, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	f.configFile = cf
	return cf, nil
}

// Profile resolves the current profile once (flag > env > profile > default).
func (f *Factory) Profile() (*config.Resolved, error) {
	if f.profile != nil {
		return f.profile, nil
	}
	var profiles config.Profiles
	name, _, _ := f.Lookup(FlagProfile)
	switch {
	case name == config.SandboxProfile:
		profiles = &config.File{} // the sandbox needs no config file
	case f.configFile != nil:
		profiles = f.configFile
	default:
		// Only the profile used is decoded (config.Open), not the file.
		path, err := config.Path()
		if err != nil {
			return nil, err
		}
		if profiles, err = config.Open(path); err != nil {
			return nil, err
		}
	}
	p, err := config.Resolve(profiles, f)
	if err != nil {
		return nil, err
	}
	f.profile = p
	return p, nil
}

// UseProfile makes the command run with the named profile, as --profile
// would (profile check NAME).
func (f *Factory) UseProfile(name string) {
	f.forcedProfile = name
	f.profile = nil
}

// AddCleanup registers work to do when the command ends (close the
// sandbox, destroy an NSX session).
func (f *Factory) AddCleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// Cleanup runs the cleanups, last registered first.
func (f *Factory) Cleanup() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
	f.cleanups = nil
}

// SandboxStatePath is the built-in sandbox's state file:
// $TOKENCTL_SANDBOX_STATE, else $XDG_STATE_HOME/tokenctl/sandbox.json.
func SandboxStatePath() (string, error) {
	if p := os.Getenv("TOKENCTL_SANDBOX_STATE"); p != "" {
		return p, nil
	}
	dir, err := config.StateDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "sandbox.json"), nil
}

// BuiltinSandboxSensors is how many generated sensors the built-in sandbox
// shows, so `sensor list` has something to list.
const BuiltinSandboxSensors = 24

// startSandbox runs the emulator in-process on a loopback port for the
// built-in profile and points the profile at it.
func (f *Factory) startSandbox(p *config.Resolved) error {
	if f.sandbox != nil {
		return nil
	}
	state, err := SandboxStatePath()
	if err != nil {
		return err
	}
	wait := 30 * time.Second
	if f.completing {
		wait = CompletionTimeout
	}
	if f.DryRun() {
		if _, err := os.Stat(state); errors.Is(err, os.ErrNotExist) {
			// A dry run writes no file: a state that does not exist yet
			// is the empty state, kept in memory.
			state = ""
		}
	}
	// The lifecycle step and faults come from TOKENCTL_SANDBOX_LCM_*, so
	// that tests and demos can make installs quick or failing.
	lc, err := sandbox.LifecycleFromEnv()
	if err != nil {
		return exit.WithCode(exit.Usage, err)
	}
	srv, err := sandbox.New(sandbox.Options{
		Options:     sim.Options{Seed: 1, SeedSensors: BuiltinSandboxSensors, LCMStep: lc.Step, LCMFaults: lc.Faults},
		StatePath:   state,
		WaitForLock: wait,
	})
	if err != nil {
		return exit.WithCode(exit.Usage, err)
	}
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		srv.Close()
		return err
	}
	f.sandbox = srv
	f.AddCleanup(func() {
		if err := srv.Close(); err != nil {
			fmt.Fprintf(f.IOStreams.ErrOut, "warning: saving sandbox state: %v\n", err)
		}
	})
	p.Server = url
	p.SetPassword(sim.DefaultPassword)
	return nil
}

// Context is the command's context.
func Context(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// DebugWriter is stderr with --debug, else nil.
func (f *Factory) DebugWriter() io.Writer {
	if f.Bool(FlagDebug) {
		return f.IOStreams.ErrOut
	}
	return nil
}

// ClientOptions builds the HTTP options of a resolved profile.
func (f *Factory) ClientOptions(p *config.Resolved) (client.Options, error) {
	timeout, err := p.TimeoutDuration()
	if err != nil {
		return client.Options{}, err
	}
	retryWait, err := RetryBaseWait()
	if err != nil {
		return client.Options{}, err
	}
	retryMax, err := f.RetryMaxWait()
	if err != nil {
		return client.Options{}, err
	}
	var notices io.Writer
	if !f.Bool(FlagQuiet) {
		notices = f.IOStreams.ErrOut
	}
	if p.Insecure && p.Thumbprint == "" && strings.HasPrefix(p.Server, "https:") {
		f.Warn("TLS certificate verification is disabled (--insecure): anyone on the path can read your credentials")
	}
	var plan *client.Plan
	if f.dry != nil {
		plan = f.dry.plan
	}
	return client.Options{
		DryRun:    plan,
		BaseURL:   p.Server,
		Timeout:   timeout,
		UserAgent: "tokenctl/" + f.Build.Version,
		Debug:     f.DebugWriter(),
		// 0 leaves the client's default.
		RetryBaseWait: retryWait,
		RetryMaxWait:  retryMax,
		Notices:       notices,
		Limiter:       f.rateLimiter(p.RPS),
		TLS: client.TLSOptions{
			CAFile:     p.CAFile,
			CAFileFrom: p.CAFileFrom,
			Insecure:   p.Insecure,
			Thumbprint: p.Thumbprint,
			CertFile:   p.CertFile,
			KeyFile:    p.KeyFile,
		},
	}, nil
}

// RetryBaseWaitEnv sets the first retry backoff (a Go duration; default
// 300ms, doubling up to 5s with jitter). It exists for fault-injection tests
// and the benchmarks, which retry against a loopback sandbox and have no
// reason to wait; a server's Retry-After is honoured regardless.
const RetryBaseWaitEnv = "TOKENCTL_RETRY_BASE_WAIT"

// RetryBaseWait reads $TOKENCTL_RETRY_BASE_WAIT (0 when unset).
func RetryBaseWait() (time.Duration, error) {
	v := os.Getenv(RetryBaseWaitEnv)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, exit.Usagef("%s=%q: must be a positive duration such as 300ms", RetryBaseWaitEnv, v)
	}
	return d, nil
}

// RetryMaxWait is --retry-max-wait (env TOKENCTL_RETRY_MAX_WAIT); 0 when
// unset, which leaves the client's default (2m).
func (f *Factory) RetryMaxWait() (time.Duration, error) {
	v, src, ok := f.Lookup(FlagRetryMaxWait)
	if !ok {
		return 0, nil
	}
	d, err := config.ParsePositiveDuration(v)
	if err != nil {
		return 0, exit.Usagef("%s %q: %v", SourceName(FlagRetryMaxWait, src), v, err)
	}
	return d, nil
}

// SourceName names where a global setting came from, for errors about its
// value: the flag (--timeout) or its environment variable (TOKENCTL_TIMEOUT).
func SourceName(key string, src config.Source) string {
	if src == config.FromEnv {
		return EnvName(key)
	}
	return "--" + key
}

// CheckEnv refuses TOKENCTL_* values that cannot mean anything, naming the
// variable (not the flag it stands for): a switch that is not a boolean
// (TOKENCTL_YES=sure would otherwise read as false), a platform that does
// not exist. Values a command reads later are checked where they are
// read, also naming the variable (TOKENCTL_TIMEOUT, TOKENCTL_SERVER, ...).
func (f *Factory) CheckEnv() error {
	var ps []exit.Problem
	// Every switch among the global flags (a list kept by hand missed
	// TOKENCTL_DRY_RUN=yes, which read as false and changed the server).
	f.flags.VisitAll(func(fl *pflag.Flag) {
		if fl.Value.Type() != "bool" || fl.Changed {
			return
		}
		if v, ok := os.LookupEnv(EnvName(fl.Name)); ok && v != "" {
			if _, err := strconv.ParseBool(v); err != nil {
				ps = append(ps, exit.Problem{Field: EnvName(fl.Name), Rule: fmt.Sprintf("%q is not a boolean (true, false, 1 or 0)", v)})
			}
		}
	})
	if v, src, ok := f.Lookup(FlagPlatform); ok && src == config.FromEnv {
		if err := config.ValidatePlatform(v); err != nil {
			ps = append(ps, exit.Problem{Field: EnvName(FlagPlatform), Rule: fmt.Sprintf("%q: must be one of %s", v, strings.Join(config.Platforms, ", "))})
		}
	}
	return exit.Problems(ps)
}

// rateLimiter is the process's request pacer for rps requests per second
// (nil when rps is 0): a token bucket of one, so requests are spaced
// evenly and no burst goes over the rate.
func (f *Factory) rateLimiter(rps float64) client.Limiter {
	if rps <= 0 {
		return nil
	}
	if f.limiter == nil {
		f.limiter = rate.NewLimiter(rate.Limit(rps), 1)
	}
	return f.limiter
}
