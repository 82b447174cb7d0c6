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
)

// NewCmdSandbox builds `tokenctl sandbox`.
func NewCmdSandbox(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox <command>",
		Short: "Run the built-in emulator of the four vendor APIs",
		Args:  cobra.ArbitraryArgs,
		RunE:  cmdutil.GroupRunE,
	}
	cmd.AddCommand(NewCmdServe(f))
	return cmd
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
tokenctl-sandbox-token and OAuth client tokenctl-sandbox / tokenctl-sandbox.
--password-file replaces the password tokenctl-sandbox.

State lives in --state FILE (one process at a time); without it a fresh temporary file is
used, never the built-in profile's. Sandbox-only control routes live under /_sandbox/.

It listens on loopback only and answers only requests addressed to a loopback host
(127.0.0.1, ::1, localhost), so a web page cannot reach it through DNS rebinding; a request
body must arrive within 10s, so a slow client holds up nobody else.`,
		Example: `  tokenctl sandbox serve --listen 127.0.0.1:8443 --tls --seed-sensors 100000
  tokenctl sandbox serve --state ./sandbox.json --url-file ./url.txt &`,
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
	if err := exit.Problems(problems); err != nil {
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
		Options:   sim.Options{Password: password, Seed: opts.Seed, SeedSensors: opts.SeedSensors, AgentLegacy: opts.AgentLegacy},
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
	fmt.Fprintf(w, "sandbox: users admin / %s (read-write), auditor / %s (read-only)\n", pw, pw)
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
