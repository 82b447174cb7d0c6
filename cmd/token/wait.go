package token

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
	"github.com/tokenctl/tokenctl/internal/wait"
)

// WaitOptions are `token wait`'s inputs.
type WaitOptions struct {
	cmdutil.Verb

	ID    string
	Type  string
	For   string
	Count int
	cmdutil.WaitFlags
}

// NewCmdWait builds `token wait ID`.
func NewCmdWait(f *cmdutil.Factory, runF func(*WaitOptions) error) *cobra.Command {
	opts := &WaitOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "wait ID [--for used|registered|healthy] [--count N]",
		Short: "Wait until the hosts a token registers are registered or healthy (ssp)",
		Long: `Wait until a registration token has done its job, polling the SSP:

  --for used        the token is USED (or EXHAUSTED); a sensor token also when its
                    usage_count reaches --count
  --for registered  --count hosts registered with the token (default): baremetal servers
                    whose registration_token_id is ID, not TERMINATING or TERMINATED;
                    sensors whose token_id is ID, registration_status REGISTERED
  --for healthy     those hosts registered and healthy: a baremetal server's lcm_status
                    SUCCESS, connectivity UP and overall agent health OK; a sensor's
                    health OK

ID is the token's id, or its display_name (a pool's name resolves to its only AVAILABLE
token; see "token get").

Each round costs the same few calls however many hosts there are: the token's status,
one scan of the server (or sensor details) list, every page, and for baremetal servers one
status-detail query. The interval (--interval, default 5s) doubles while nothing changes,
up to six times itself, and starts again when something does.

A host whose install FAILED (lcm FAILED or ABORTED, a sensor registration FAILED) is named
on stderr with its lcm_error; the wait goes on while --count can still be reached.

Exit codes: 0 when --count hosts reached the condition (failed ones are still reported);
5 when it can no longer be reached (too many failed hosts, the token EXPIRED or used up);
124 when --wait-timeout (default 30m) passes first, reporting what was reached; 3 and 4 at
once on authentication errors and an unknown token. Rate limits, server errors and
network failures are retried until the timeout.

A progress line ("2/5 registered, 1 installing, 1 failed"; for healthy also "1 not
healthy": installed, but disconnected or degraded) is drawn on a terminal's stderr.
stdout has the hosts reached and failed: a table, or with -o json|yaml the hosts in the
vendor's field names with "result": "reached" or "failed" (failed ones with their
lcm_error); -o id prints the ids of the hosts reached. --for used reads the token only,
not its hosts: the table is left out and -o json prints [].

Interrupted (Ctrl-C, SIGTERM, SIGHUP): exit 130; nothing is changed, and the message says
how far the wait got and the command that takes it up again.`,
		Example: `  tokenctl token wait 613b203e-d183-4311-b0e2-bfd90b518f20 --for healthy
  tokenctl token wait "$TOKEN" --for registered --count 20 --wait-timeout 1h -o json
  tokenctl token wait "$TOKEN" --for used`,
		Args: cmdutil.ExactArgs("ID"),
		RunE: cmdutil.RunOneID(opts, &opts.ID, runF, waitRun),
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Type, "type", "", "sensor or baremetal (default: look the id up)")
	fl.StringVar(&opts.For, "for", wait.Registered, "condition: "+strings.Join(wait.Conditions, ", "))
	fl.IntVar(&opts.Count, "count", 1, "how many hosts must reach the condition (--for used: the usage count)")
	opts.WaitFlags.Register(cmd)
	cmd.ValidArgsFunction = cmdutil.FirstArg(f.CompleteTokenIDs)
	cmdutil.CompleteFlag(cmd, "type", cmdutil.FixedValues(tokenTypes...))
	cmdutil.CompleteFlag(cmd, "for", cmdutil.FixedValues(wait.Conditions...))
	return cmd
}

func waitRun(opts *WaitOptions) error {
	f := opts.Factory
	p, err := f.ProfileOn(opts.Cmd, config.SSP)
	if err != nil {
		return err
	}
	o, err := f.OutputFor(hostKind(), output.Many)
	if err != nil {
		return err
	}
	typ, explicit, err := sspType(opts.Type, p)
	if err != nil {
		return err
	}
	spec := waitSpec{For: opts.For, Count: opts.Count, CountGiven: cmdutil.Changed(opts.Cmd, "count"), WaitFlags: opts.WaitFlags}
	if err := exit.Problems(spec.problems(opts.Cmd, "--for")); err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	// The lookup is the wait's first round: retried until the deadline.
	return waitForHosts(ctx, f, sc, opts.ID, func(ctx context.Context) (string, string, error) {
		found, err := lookupSSPToken(ctx, f, sc, opts.ID, typ, explicit, statusSSPToken)
		if err != nil {
			return "", "", err
		}
		return found.typ, found.id, nil
	}, spec, &o)
}

// waitSpec is what to wait for: --for (or create's --wait), --count and
// the timing flags.
type waitSpec struct {
	For        string
	Count      int
	CountGiven bool
	cmdutil.WaitFlags
}

// problems checks the values; forFlag names the condition's flag.
func (w waitSpec) problems(cmd *cobra.Command, forFlag string) []exit.Problem {
	var ps []exit.Problem
	if p := cmdutil.EnumFlag(strings.TrimPrefix(forFlag, "--"), w.For, wait.Conditions...); p != nil {
		ps = append(ps, *p)
	}
	if w.Count < 1 {
		ps = append(ps, exit.Problem{Field: "--count", Rule: "must be at least 1"})
	}
	return append(ps, w.WaitFlags.Validate(cmd, true)...)
}

// hostKind prints the hosts of a wait.
func hostKind() output.Kind {
	return output.Kind{
		Noun:    "host",
		IDField: "id",
		Columns: []output.Column{
			output.TextField("NAME", "display_name"),
			output.Field("ID", "id"),
			output.StateField("RESULT", "result"),
			output.StateField("STATE", "state"),
			output.StateField("LCM", "lcm_status"),
			output.StateField("CONNECTIVITY", "connectivity_status"),
			output.StateField("HEALTH", "health"),
			output.TextField("LCM ERROR", "lcm_error"),
		},
	}
}

// hostResult is a host as `token wait` prints it.
type hostResult struct {
	wait.Host
	Result string `json:"result"`
}

// waitForHosts runs the wait on the token that lookup finds (its type and
// id; arg names it until then) and reports it: the progress line on a
// terminal's stderr, failed hosts on stderr, and, when o is not nil, the
// hosts reached and failed on stdout. It returns the outcome's error: nil,
// exit 5 or exit 124.
func waitForHosts(ctx context.Context, f *cmdutil.Factory, sc *ssp.Client, arg string, lookup func(context.Context) (typ, id string, err error),
	spec waitSpec, o *output.Options) error {
	noun, id := "registration token", arg
	src := &wait.Lazy{New: func(ctx context.Context) (wait.Source, error) {
		typ, tid, err := lookup(ctx)
		if err != nil {
			return nil, err
		}
		id = tid
		if typ == ssp.Baremetal {
			noun = "baremetal registration token"
			return &wait.Baremetal{Client: sc, TokenID: id}, nil
		}
		noun = "sensor registration token"
		return &wait.Sensor{Client: sc, TokenID: id}, nil
	}}
	line := f.NewStatusLine()
	reported := map[string]bool{}
	res, err := wait.Run(ctx, src, wait.Options{
		Condition:  spec.For,
		Count:      spec.Count,
		CountGiven: spec.CountGiven,
		Timeout:    spec.Timeout,
		Interval:   spec.Interval,
		OnRound: func(p wait.Progress) {
			// Name each failed host once, as soon as it is seen.
			for _, h := range p.FailedHosts {
				if !reported[h.ID] {
					reported[h.ID] = true
					line.Clear()
					fmt.Fprintf(f.IOStreams.ErrOut, "host %s failed: %s\n", escape.Text(h.Label()), escape.Text(failure(h)))
				}
			}
			line.Set("%s", p.String())
		},
	})
	line.Clear()
	if exit.CodeOf(err) == exit.Interrupted {
		// Nothing was changed: the hosts go on installing. Say how far the
		// wait got and how to take it up again.
		so := ""
		if res.TokenStatus != "" || len(res.Reached)+len(res.Pending)+len(res.Failed) > 0 {
			so = " (so far: " + res.Progress().String() + ")"
		}
		resume := fmt.Sprintf("tokenctl token wait %s --for %s", id, spec.For)
		if spec.CountGiven {
			resume += fmt.Sprintf(" --count %d", spec.Count)
		}
		return exit.Errorf(exit.Interrupted, "interrupted while waiting for %s %s%s; nothing was changed, the hosts go on without tokenctl; to wait again: %s", noun, escape.Text(id), so, resume)
	}
	if err != nil {
		return err
	}
	if o != nil && !(res.Condition == wait.Used && o.IsTable()) {
		if err := printHosts(f, *o, res); err != nil {
			return err
		}
	}
	progress := res.Progress()
	switch res.Outcome {
	case wait.Reached:
		f.Notice("Done: %s (%s %s).", progress, noun, id)
		return nil
	case wait.Unreachable:
		return exit.Errorf(exit.Conflict, "%s %s: %s (%s)", noun, id, res.Reason, progress)
	default:
		msg := fmt.Sprintf("timed out after %s waiting for %s %s: %s", spec.Timeout, noun, id, progress)
		var installing, unhealthy []string
		for _, h := range res.Pending {
			if h.Installed {
				unhealthy = append(unhealthy, fmt.Sprintf("%s [%s]", h.Label(), health(h)))
			} else {
				installing = append(installing, h.Label())
			}
		}
		if len(installing) > 0 {
			msg += "; still installing: " + strings.Join(installing, ", ")
		}
		if len(unhealthy) > 0 {
			msg += "; installed but not healthy: " + strings.Join(unhealthy, ", ")
		}
		if res.Reason != "" {
			msg += "; " + res.Reason
		}
		return exit.Errorf(exit.Timeout, "%s", msg)
	}
}

// health is what an installed host that is not healthy shows: its
// connectivity and health.
func health(h wait.Host) string {
	var parts []string
	if h.Connectivity != "" {
		parts = append(parts, "connectivity "+h.Connectivity)
	}
	if h.Health != "" {
		parts = append(parts, "health "+h.Health)
	}
	if len(parts) == 0 {
		return "health unknown"
	}
	return strings.Join(parts, ", ")
}

// failure is a failed host's reason: its lcm status and lcm_error.
func failure(h wait.Host) string {
	var parts []string
	if h.LCMStatus != "" {
		s := "lcm " + h.LCMStatus
		if h.LCMOperation != "" {
			s += " (" + h.LCMOperation + ")"
		}
		parts = append(parts, s)
	} else if h.State != "" {
		parts = append(parts, "registration "+h.State)
	}
	if h.LCMError != "" {
		parts = append(parts, h.LCMError)
	}
	if len(parts) == 0 {
		return "failed"
	}
	return strings.Join(parts, ": ")
}

// printHosts prints the hosts reached, then those failed (-o id: the ids
// of the hosts reached).
func printHosts(f *cmdutil.Factory, o output.Options, res wait.Result) error {
	l := f.Printer(o).List(hostKind())
	for _, group := range []struct {
		result string
		hosts  []wait.Host
	}{{"reached", res.Reached}, {"failed", res.Failed}} {
		if o.Format == output.ID && group.result != "reached" {
			continue
		}
		for _, h := range group.hosts {
			if err := l.Add(cmdutil.RawOf(hostResult{Host: h, Result: group.result})); err != nil {
				return err
			}
		}
	}
	return l.Close()
}
