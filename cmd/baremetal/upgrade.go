package baremetal

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// UpgradeOptions are `baremetal upgrade`'s inputs.
type UpgradeOptions struct {
	cmdutil.Verb

	Args []string
	Wait waitFlag
}

// NewCmdUpgrade builds `baremetal upgrade ID...` (PerformBaremetalServersAction
// BATCH_UPGRADE).
func NewCmdUpgrade(f *cmdutil.Factory, runF func(*UpgradeOptions) error) *cobra.Command {
	opts := &UpgradeOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "upgrade ID|NAME... [--wait]",
		Short: "Upgrade the agents of baremetal servers to the latest version (ssp)",
		Long: `Upgrade the vendor's agents on baremetal servers (BATCH_UPGRADE, one call for all the
servers; only the enterprise_admin role may call it). The SSP accepts it (202) and runs it
as a task; tokenctl prints the task and, with --wait, follows it to its end: 0 when every
server succeeded, 8 when some failed, 5 when the task was aborted or every server failed,
124 when it timed out. "-" reads ids (or names) from stdin.`,
		Example: `  tokenctl baremetal upgrade web-01 web-02 --wait
  tokenctl baremetal details --last-operation-info UPGRADE_FAILED -o id | tokenctl baremetal upgrade - --wait`,
		Args: cmdutil.MinArgs(1, "ID"),
		RunE: cmdutil.RunIDList(opts, &opts.Args, runF, upgradeRun),
	}
	opts.Wait.register(cmd, "the upgrade task")
	cmd.ValidArgsFunction = f.CompleteBaremetalServerIDs
	return cmd
}

func upgradeRun(opts *UpgradeOptions) error {
	f := opts.Factory
	o, err := startAction(f, opts.Cmd, opts.Args, opts.Wait)
	if err != nil {
		return err
	}
	if len(opts.Args) == 0 {
		return f.NothingToDo(opts.Cmd)
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	ids, err := resolveServers(ctx, f, sc, dedupe(opts.Args))
	if err != nil {
		return err
	}
	ids = dedupe(ids)
	_, accepted, err := sc.BaremetalServersAction(ctx, ssp.ActionBatchUpgrade, ids)
	if err != nil {
		return err
	}
	if len(taskIDs(accepted)) == 0 {
		return fmt.Errorf("batch upgrade of %s: the SSP accepted it but named no task", strings.Join(ids, ", "))
	}
	if !opts.Wait.Wait {
		return printAccepted(f, o, "Upgrade", accepted)
	}
	return waitTasks(f, ctx, sc, o, taskIDs(accepted), opts.Wait, false)
}
