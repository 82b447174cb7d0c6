// Package sandbox is `tokenctl sandbox serve`: the vendor emulators on a
// loopback port, for demos, scripts and tests.
package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	sdwansim "github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

// NewCmdSandbox builds `tokenctl sandbox`.
func NewCmdSandbox(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group(&cobra.Command{
		Use:   "sandbox <command>",
		Short: "Run the built-in emulator of the four vendor APIs",
		Example: `  tokenctl --profile sandbox token list
  tokenctl sandbox serve --listen 127.0.0.1:8443 --state ./sandbox.json`,
	}, NewCmdServe(f), NewCmdVdefend(f))
}

// ServeOptions are `sandbox serve`'s inputs.
type ServeOptions struct {
	Listen       string
	State        string
	SeedSensors  int
	Seed         int64
	TLS          bool
	AgentLegacy  bool
	PasswordFile string
	URLFile      string
	FaultRate    float64
	FaultKinds   string
	RetryAfter   int
	Latency      time.Duration

	LCMStep        time.Duration
	LCMFailRate    float64
	LCMFailHosts   string
	LCMTaskOutcome string
}

// NewCmdServe builds `sandbox serve`.
func NewCmdServe(f *cmdutil.Factory) *cobra.Command {
	opts := &ServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the SSP, NSX, SD-WAN and agent-config emulators on a loopback port",
		Long: `Serve the emulators of the four vendor APIs on one loopback listener until interrupted.
The URL, the credentials and ready ` + "`profile set`" + ` lines are printed on stderr.

Credentials: admin / tokenctl-sandbox (read-write) and auditor / tokenctl-sandbox (read-only),
HTTP Basic for ssp, nsx and agent (NSX session login too); SD-WAN static token
tokenctl-sandbox-token and OAuth client tokenctl-sandbox / tokenctl-sandbox. SSP also has
engineer / tokenctl-sandbox with the security_engineer role: it may uninstall one baremetal
server at a time, while batch actions (BATCH_DELETE, BATCH_UPGRADE) are enterprise_admin only
(403). --password-file replaces the password tokenctl-sandbox.

State lives in --state FILE (one process at a time); without it a fresh temporary file is
used, never the built-in profile's.

SSP baremetal servers: a host joins when it registers with a baremetal token through the
register route below, which ` + "`tokenctl sandbox vdefend-cli`" + ` (the stand-in for the vendor's
host installer) calls at the URL in the manifest. Its display_name is the hostname it reports
(INFERRED: the vendor does not say how a host names itself) and its registration_token_id the
token. Installs, upgrades and uninstalls go ACCEPTED -> RUNNING -> SUCCESS, one step per
--lcm-step of the sandbox clock; an installed server then shows connectivity UP and agent
health OK, an uninstalled one goes TERMINATING -> TERMINATED. --lcm-fail-hosts and
--lcm-fail-rate make operations FAILED with an lcm_error naming the host; --lcm-task-outcome
ends new tasks TIMEDOUT, ABORTED or FAILED. Sensor registrations go IN_PROGRESS -> REGISTERED
(or FAILED) the same way. Installer downloads serve a small generated bundle per version.
The built-in profile (--profile sandbox) takes the same settings from TOKENCTL_SANDBOX_LCM_STEP,
TOKENCTL_SANDBOX_LCM_FAIL_RATE, TOKENCTL_SANDBOX_LCM_FAIL_HOSTS and
TOKENCTL_SANDBOX_LCM_TASK_OUTCOME.

Control routes (sandbox only: no credentials, errors as {"error": "..."}):
  GET  /_sandbox/info                 vendors, the sandbox clock (now_ms), requests served
  POST /_sandbox/clock                {"advance": "31m"}: move the sandbox clock forward
  POST /_sandbox/ssp/register         {"token_id": ID, "passphrase": P, "hostname": H}: a host
                                      (baremetal token) or a sensor (sensor token) registers;
                                      404 unknown token, 403 wrong passphrase, 409 EXPIRED or
                                      USED; the same hostname on the same token again is the
                                      same server or sensor and uses no instance (a FAILED
                                      install is retried)
  POST /_sandbox/ssp/local-uninstall  {"server_id": ID}: the agent was removed on the host
  GET  /_sandbox/ssp/faults           the lifecycle faults and step
  POST /_sandbox/ssp/faults           {"fail_rate": F, "fail_hosts": RE, "task_outcome": X}:
                                      replace the lifecycle faults until the sandbox stops
HTTP faults (--faults, --latency) never hit the control routes.

It listens on loopback only and answers only requests addressed to a loopback host
(127.0.0.1, ::1, localhost), so a web page cannot reach it through DNS rebinding; a request
body must arrive within 10s, so a slow client holds up nobody else.`,
		Example: `  tokenctl sandbox serve --listen 127.0.0.1:8443 --tls --seed-sensors 100000
  tokenctl sandbox serve --state ./sandbox.json --url-file ./url.txt &
  tokenctl sandbox serve --lcm-step 200ms --lcm-fail-hosts '^db-'
  curl -s -X POST "$URL/_sandbox/ssp/faults" -d '{"task_outcome": "TIMEDOUT"}'`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serveRun(f, cmd, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Listen, "listen", "127.0.0.1:0", "loopback address to listen on (port 0 picks a free one)")
	fl.StringVar(&opts.State, "state", "", "state file (default: a fresh temporary file)")
	fl.IntVar(&opts.SeedSensors, "seed-sensors", 0, "generate this many SSP sensors (not stored; 100000 costs no disk)")
	fl.Int64Var(&opts.Seed, "seed", 1, "seed of generated data, for reproducible runs")
	fl.BoolVar(&opts.TLS, "tls", false, "serve HTTPS with a generated self-signed certificate")
	fl.BoolVar(&opts.AgentLegacy, "agent-legacy", false, "serve only the pre-1.5 agent paths (/rest/agent/1.0/tokens/)")
	fl.StringVar(&opts.PasswordFile, "password-file", "", "file whose first line replaces the password tokenctl-sandbox")
	fl.StringVar(&opts.URLFile, "url-file", "", "write the URL to this file once serving (for scripts)")
	fl.Float64Var(&opts.FaultRate, "faults", 0, "fail this fraction of requests (0..1), reproducibly from --seed")
	fl.StringVar(&opts.FaultKinds, "fault-kinds", "", "comma-separated kinds to inject: 429, 502, 503, 504, reset-before, reset-after (default all)")
	fl.IntVar(&opts.RetryAfter, "retry-after", 1, "Retry-After seconds sent with injected 429 and 503 (0 allowed; -1 sends none)")
	fl.DurationVar(&opts.Latency, "latency", 0, "delay every answer by this long, e.g. 200ms")
	fl.DurationVar(&opts.LCMStep, "lcm-step", 0, "length of one SSP lifecycle step on the sandbox clock (default 2s; env "+sandbox.EnvLCMStep+")")
	fl.Float64Var(&opts.LCMFailRate, "lcm-fail-rate", 0, "fail this fraction (0..1) of lifecycle operations, drawn from --seed and the host name (env "+sandbox.EnvLCMFailRate+")")
	fl.StringVar(&opts.LCMFailHosts, "lcm-fail-hosts", "", "fail lifecycle operations on hosts whose name matches this regular expression (env "+sandbox.EnvLCMFailHosts+")")
	fl.StringVar(&opts.LCMTaskOutcome, "lcm-task-outcome", "", "end new baremetal tasks TIMEDOUT, ABORTED or FAILED (every server fails) (env "+sandbox.EnvLCMTaskOutcome+")")
	cmdutil.CompleteFlag(cmd, "lcm-task-outcome", cmdutil.FixedValues(ssp.TaskOutcomes...))
	return cmd
}

func serveRun(f *cmdutil.Factory, cmd *cobra.Command, opts *ServeOptions) error {
	if opts.SeedSensors < 0 {
		return exit.Usagef("--seed-sensors: must not be negative")
	}
	password := ""
	if opts.PasswordFile != "" {
		data, err := os.ReadFile(opts.PasswordFile)
		if err != nil {
			return exit.Usagef("--password-file: %v", err)
		}
		password, _, _ = strings.Cut(strings.TrimRight(string(data), "\r\n"), "\n")
		if password == "" {
			return exit.Usagef("--password-file %s: empty", opts.PasswordFile)
		}
	}
	var problems []exit.Problem
	if opts.FaultRate < 0 || opts.FaultRate > 1 {
		problems = append(problems, exit.Problem{Field: "--faults", Rule: fmt.Sprintf("%v: must be between 0 and 1", opts.FaultRate)})
	}
	kinds, err := sandbox.ParseFaultKinds(opts.FaultKinds)
	if err != nil {
		problems = append(problems, exit.Problem{Field: "--fault-kinds", Rule: err.Error()})
	}
	if opts.Latency < 0 {
		problems = append(problems, exit.Problem{Field: "--latency", Rule: "must not be negative"})
	}
	if opts.RetryAfter < -1 {
		problems = append(problems, exit.Problem{Field: "--retry-after", Rule: fmt.Sprintf("%d: must be 0 or more seconds, or -1 to send no Retry-After", opts.RetryAfter)})
	}
	if opts.State != "" {
		if fi, err := os.Stat(opts.State); err == nil && fi.IsDir() {
			problems = append(problems, exit.Problem{Field: "--state", Rule: fmt.Sprintf("%s is a directory; give the state file's path, e.g. %s", opts.State, filepath.Join(opts.State, "sandbox.json"))})
		}
	}
	lc, lcProblems := lifecycle(cmd, opts)
	if err := exit.Problems(append(problems, lcProblems...)); err != nil {
		return err
	}
	retryAfter := time.Duration(opts.RetryAfter) * time.Second
	if opts.RetryAfter < 0 {
		retryAfter = -1
	}
	state := opts.State
	if state == "" {
		dir, err := os.MkdirTemp("", "tokenctl-sandbox-")
		if err != nil {
			return err
		}
		state = filepath.Join(dir, "state.json")
	}
	srv, err := sandbox.New(sandbox.Options{
		Options: sim.Options{Password: password, Seed: opts.Seed, SeedSensors: opts.SeedSensors, AgentLegacy: opts.AgentLegacy,
			LCMStep: lc.Step, LCMFaults: lc.Faults},
		StatePath: state,
		TLS:       opts.TLS,
		Log:       f.IOStreams.ErrOut,
		Faults:    sandbox.Faults{Rate: opts.FaultRate, Kinds: kinds, RetryAfter: retryAfter, Latency: opts.Latency, Seed: opts.Seed},
	})
	if err != nil {
		if opts.State != "" {
			err = fmt.Errorf("--state %s: %w", opts.State, err)
		}
		return exit.WithCode(exit.Usage, err)
	}
	url, err := srv.Start(opts.Listen)
	if err != nil {
		srv.Close()
		return exit.Usagef("--listen %s: %v", opts.Listen, err)
	}
	printBanner(f, srv, url, state, opts.PasswordFile)
	if opts.URLFile != "" {
		if err := os.WriteFile(opts.URLFile, []byte(url+"\n"), 0o600); err != nil {
			srv.Close()
			return err
		}
	}
	<-cmdutil.Context(cmd).Done()
	fmt.Fprintln(f.IOStreams.ErrOut, "sandbox: stopping; state saved to", state)
	return srv.Close()
}

// lifecycle is the environment's lifecycle setting with the flags given on
// top, and the problems of each (all of them, to be reported at once).
func lifecycle(cmd *cobra.Command, opts *ServeOptions) (sandbox.Lifecycle, []exit.Problem) {
	var problems []exit.Problem
	lc, err := sandbox.LifecycleFromEnv()
	if err != nil {
		problems = append(problems, exit.Problem{Field: "environment", Rule: err.Error()})
	}
	fl := cmd.Flags()
	if fl.Changed("lcm-step") {
		if opts.LCMStep <= 0 {
			problems = append(problems, exit.Problem{Field: "--lcm-step", Rule: fmt.Sprintf("%v: must be positive", opts.LCMStep)})
		}
		lc.Step = opts.LCMStep
	}
	// Each flag alone, so that each problem names its flag.
	for _, c := range []struct {
		flag   string
		faults sim.LCMFaults
		set    func()
	}{
		{"lcm-fail-rate", sim.LCMFaults{FailRate: opts.LCMFailRate}, func() { lc.Faults.FailRate = opts.LCMFailRate }},
		{"lcm-fail-hosts", sim.LCMFaults{FailHosts: opts.LCMFailHosts}, func() { lc.Faults.FailHosts = opts.LCMFailHosts }},
		{"lcm-task-outcome", sim.LCMFaults{TaskOutcome: opts.LCMTaskOutcome}, func() { lc.Faults.TaskOutcome = opts.LCMTaskOutcome }},
	} {
		if !fl.Changed(c.flag) {
			continue
		}
		if _, err := ssp.CheckLCMFaults(c.faults); err != nil {
			problems = append(problems, exit.Problem{Field: "--" + c.flag, Rule: err.Error()})
			continue
		}
		c.set()
	}
	if len(problems) > 0 {
		return lc, problems
	}
	faults, err := ssp.CheckLCMFaults(lc.Faults)
	if err != nil {
		return lc, []exit.Problem{{Field: "environment", Rule: err.Error()}}
	}
	lc.Faults = faults
	return lc, nil
}

func printBanner(f *cmdutil.Factory, srv *sandbox.Server, url, state, passwordFile string) {
	customPassword := passwordFile != ""
	w := f.IOStreams.ErrOut
	pw := sim.DefaultPassword
	if customPassword {
		pw = "(from --password-file)"
	}
	trust := ""
	if c := srv.Certificate(); c != nil {
		tp := client.Thumbprint(c.Leaf)
		fmt.Fprintf(w, "sandbox: TLS certificate SHA-256 %s\n", tp)
		trust = " --thumbprint " + strings.ReplaceAll(tp, ":", "")
	}
	fmt.Fprintf(w, "sandbox: serving SSP, NSX, SD-WAN and agent-config APIs at %s\n", url)
	fmt.Fprintf(w, "sandbox: state %s\n", state)
	fmt.Fprintf(w, "sandbox: users admin / %s (read-write), auditor / %s (read-only); SSP also engineer / %s (security_engineer: no batch actions)\n", pw, pw, pw)
	fmt.Fprintf(w, "sandbox: SD-WAN static token %s; OAuth client %s / %s, TSG %s\n", sdwansim.StaticAuthToken, sdwansim.OAuthClientID, pw, sdwansim.TSGID)
	exportPW := "SBX_PASSWORD=" + sim.DefaultPassword
	if customPassword {
		// The password was kept out of argv and off the screen: the
		// setup line reads it from the file, never echoes it.
		exportPW = fmt.Sprintf("SBX_PASSWORD=\"$(head -n 1 %s)\"", shellQuote(passwordFile))
	}
	fmt.Fprintf(w, "sandbox: profiles for it (first: export %s SBX_SDWAN_TOKEN=%s)\n", exportPW, sdwansim.StaticAuthToken)
	fmt.Fprintf(w, "  tokenctl profile set sbx --platform ssp --server %s --username admin --password-env SBX_PASSWORD%s\n", url, trust)
	fmt.Fprintf(w, "  tokenctl profile set sbx-nsx --platform nsx --server %s --username admin --password-env SBX_PASSWORD --auth session%s\n", url, trust)
	fmt.Fprintf(w, "  tokenctl profile set sbx-agent --platform agent --server %s --username admin --password-env SBX_PASSWORD%s\n", url, trust)
	fmt.Fprintf(w, "  tokenctl profile set sbx-sdwan --platform sdwan --api-generation legacy --server %s --token-env SBX_SDWAN_TOKEN%s\n", url, trust)
	fmt.Fprintf(w, "  tokenctl profile set sbx-sase --platform sdwan --api-generation unified --server %s --auth-url %s/oauth2/access_token --client-id %s --client-secret-env SBX_PASSWORD --tsg-id %s%s\n", url, url, sdwansim.OAuthClientID, sdwansim.TSGID, trust)
	fmt.Fprintln(w, "sandbox: Ctrl-C stops it")
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
