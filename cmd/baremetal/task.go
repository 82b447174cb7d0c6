package baremetal

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// TaskOptions are `baremetal task`'s inputs.
type TaskOptions struct {
	cmdutil.Verb

	ID   string
	Wait waitFlag
}

// NewCmdTask builds `baremetal task ID` (GetBaremetalTaskStatus).
func NewCmdTask(f *cmdutil.Factory, runF func(*TaskOptions) error) *cobra.Command {
	opts := &TaskOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "task ID [--wait]",
		Short: "Show a baremetal task with each server's result (ssp)",
		Long: `Show a task of the SSP (GetBaremetalTaskStatus): an uninstall or upgrade, its status
(ACCEPTED, RUNNING, COMPLETED, TIMEDOUT, FREE, ABORTED) and each server's part (SUCCESS,
FAILED, ...) with the vendor's message. The table has one row per server; JSON output is the
vendor's BaremetalTaskInfo. Tasks have no names: ID is the id that uninstall or upgrade
printed.

With --wait tokenctl polls the task until it ends: exit 0 when it COMPLETED with every
server SUCCESS, 8 when some servers failed, 5 when it was ABORTED or every server failed,
124 when it TIMEDOUT or --wait-timeout passed.`,
		Example: `  tokenctl baremetal task 5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f
  tokenctl baremetal task 5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f --wait --wait-timeout 10m -o json`,
		Args: cmdutil.ExactArgs("ID"),
		RunE: cmdutil.RunOneID(opts, &opts.ID, runF, taskRun),
	}
	opts.Wait.register(cmd, "the task")
	return cmd
}

func taskRun(opts *TaskOptions) error {
	f := opts.Factory
	if err := f.SSPOnly(opts.Cmd); err != nil {
		return err
	}
	o, err := f.OutputFor(taskKind(), output.One)
	if err != nil {
		return err
	}
	problems := opts.Wait.Validate(opts.Cmd, opts.Wait.Wait)
	if !ssp.IsUUID(opts.ID) {
		problems = append([]exit.Problem{{Field: "ID", Rule: fmt.Sprintf("%q is not a task id (a UUID, as uninstall and upgrade print it)", opts.ID)}}, problems...)
	}
	if err := exit.Problems(problems); err != nil {
		return err
	}
	ctx, sc, err := f.SSPClient(opts.Cmd)
	if err != nil {
		return err
	}
	if opts.Wait.Wait {
		return waitTasks(f, ctx, sc, o, []string{opts.ID}, opts.Wait, true)
	}
	raw, err := sc.GetBaremetalTask(ctx, opts.ID)
	if err != nil {
		return err
	}
	return printTasks(f, o, []json.RawMessage{raw}, true)
}
