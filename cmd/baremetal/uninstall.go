package baremetal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// UninstallOptions are `baremetal uninstall`'s inputs.
type UninstallOptions struct {
	cmdutil.Verb

	Args        []string
	Force       bool
	Concurrency int
	Wait        waitFlag
}

// NewCmdUninstall builds `baremetal uninstall ID...` (UninstallBaremetalServer,
// or PerformBaremetalServersAction BATCH_DELETE for several).
func NewCmdUninstall(f *cmdutil.Factory, runF func(*UninstallOptions) error) *cobra.Command {
	opts := &UninstallOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "uninstall ID|NAME... [--force] [--wait] --yes",
		Short: "Uninstall the agents from baremetal servers (ssp)",
		Long: `Uninstall the vendor's agents from baremetal servers. The SSP accepts the request (202)
and runs it as a task; tokenctl prints the task and, with --wait, follows it to its end.

One server is one DELETE (UninstallBaremetalServer). Several are one BATCH_DELETE
(PerformBaremetalServersAction), which only the enterprise_admin role may call: when the
SSP refuses the batch (403), or with --force, tokenctl sends one DELETE per server instead.
--force asks the SSP to force the uninstall (force=true), for servers that cannot be
reached. A server that does not exist counts as done.

Asks for confirmation on a terminal; elsewhere --yes is required. "-" reads ids (or names)
from stdin. With --wait the exit code is the task's: 0 when every server succeeded, 8 when
some failed, 5 when the task was aborted or every server failed, 124 when it timed out.`,
		Example: `  tokenctl baremetal uninstall web-01 --yes --wait
  tokenctl baremetal details --agent-health DISCONNECTED -o id | tokenctl baremetal uninstall - --force --yes
  tokenctl baremetal uninstall 0b7e5a53-4d0f-4c8e-9d3a-6f1f2a7c9e11 3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f --yes -o json`,
		Args: cmdutil.MinArgs(1, "ID"),
		RunE: cmdutil.RunIDList(opts, &opts.Args, runF, uninstallRun),
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "force the uninstall (force=true), one DELETE per server")
	cmd.Flags().IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "how many single uninstalls run at once")
	opts.Wait.register(cmd, "the uninstall task")
	cmd.ValidArgsFunction = f.CompleteBaremetalServerIDs
	return cmd
}

func uninstallRun(opts *UninstallOptions) error {
	f := opts.Factory
	o, err := startAction(f, opts.Cmd, opts.Args, opts.Wait, cmdutil.ConcurrencyProblems(opts.Concurrency)...)
	if err != nil {
		return err
	}
	var sc *ssp.Client
	ns, err := f.ConfirmTargets(opts.Cmd, cmdutil.Destructive{
		Verb: "Uninstall the agents from", Noun: "baremetal server",
		Consequence: "The hosts stop reporting to the SSP.", Done: "uninstalled",
	}, dedupe(opts.Args), func() (_ cmdutil.NameLookup, err error) {
		_, sc, err = f.SSPClient(opts.Cmd)
		return serverLookup(sc), err
	})
	if err != nil || len(ns) == 0 {
		return err
	}
	ctx := cmdutil.Context(opts.Cmd)
	ids := dedupe(cmdutil.IDsOf(ns))

	var accepted []ssp.AsyncResponse
	single := len(ids) == 1 || opts.Force
	if !single {
		_, res, err := sc.BaremetalServersAction(ctx, ssp.ActionBatchDelete, ids)
		var ae *client.APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
			f.Notice("The SSP refused BATCH_DELETE (HTTP 403: only enterprise_admin may batch); uninstalling one server at a time.")
			single = true
		case err != nil:
			return err
		default:
			accepted = res
		}
	}
	var outcome error
	if single {
		results := f.RunBulk(ctx, "accepted", ids, opts.Concurrency, func(ctx context.Context, i int, pr *cmdutil.Progress) (json.RawMessage, error) {
			raw, gone, err := sc.UninstallBaremetalServer(ctx, ids[i], opts.Force)
			if err != nil {
				return nil, err
			}
			if gone {
				f.NoticeAbove(pr, "Baremetal server %s was already gone.", ids[i])
				return nil, nil
			}
			return raw, nil
		})
		for _, r := range results {
			if !r.OK || r.Value == nil {
				continue
			}
			var a ssp.AsyncResponse
			if err := json.Unmarshal(r.Value, &a); err != nil {
				return fmt.Errorf("uninstall baremetal server %s: unexpected response: %w", r.Source, err)
			}
			accepted = append(accepted, a)
		}
		f.PrintFailures(results)
		outcome = bulk.Outcome(results)
		if exit.CodeOf(outcome) != exit.OK && exit.CodeOf(outcome) != exit.Partial {
			return outcome // every uninstall failed; the errors are printed
		}
	}
	if !opts.Wait.Wait {
		if err := printAccepted(f, o, "Uninstall", accepted); err != nil {
			return err
		}
		return outcome
	}
	err = waitTasks(f, ctx, sc, o, taskIDs(accepted), opts.Wait, false)
	if outcome != nil && err == nil {
		return outcome // some uninstalls were refused: a partial failure
	}
	if outcome != nil && exit.CodeOf(err) != exit.Partial {
		return exit.WithCode(exit.Partial, err)
	}
	return err
}

// dedupe keeps the first of repeated arguments.
func dedupe(args []string) []string {
	seen := map[string]bool{}
	out := args[:0:0]
	for _, a := range args {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
