package baremetal

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
	"github.com/tokenctl/tokenctl/internal/wait"
)

// waitFlag is --wait on uninstall, upgrade and task, with the shared
// --wait-timeout and --interval.
type waitFlag struct {
	Wait bool
	cmdutil.WaitFlags
}

func (w *waitFlag) register(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVar(&w.Wait, "wait", false, "poll "+what+" until it ends: exit 0 when every server succeeded, 8 when some failed, 5 when the task was aborted or every server failed, 124 when it timed out")
	w.WaitFlags.Register(cmd)
}

// startAction starts uninstall and upgrade, which print the task they
// start: the platform, -o, then the servers' arguments, the wait flags and
// the verb's own problems, all checked before anything is sent.
func startAction(f *cmdutil.Factory, cmd *cobra.Command, args []string, w waitFlag, problems ...exit.Problem) (output.Options, error) {
	if err := f.SSPOnly(cmd); err != nil {
		return output.Options{}, err
	}
	o, err := f.OutputFor(asyncKind(), output.Many)
	if err != nil {
		return o, err
	}
	ps := append(checkServerArgs(args), w.Validate(cmd, w.Wait)...)
	return o, exit.Problems(append(ps, problems...))
}

// fetchTask is wait.TaskFetch over the client.
func fetchTask(sc *ssp.Client) wait.TaskFetch {
	return func(ctx context.Context, id string) (ssp.Task, json.RawMessage, error) {
		raw, err := sc.GetBaremetalTask(ctx, id)
		if err != nil {
			return ssp.Task{}, nil, err
		}
		var t ssp.Task
		if err := json.Unmarshal(raw, &t); err != nil {
			return ssp.Task{}, nil, fmt.Errorf("get baremetal task %s: unexpected response: %w", id, err)
		}
		if t.ID == "" {
			t.ID = id
		}
		return t, raw, nil
	}
}

// waitTasks polls the tasks to their end (a progress line on a terminal),
// prints them as they ended, names every server that did not succeed on
// stderr, and returns the outcome's error (nil, or exit 5, 8 or 124).
func waitTasks(f *cmdutil.Factory, ctx context.Context, sc *ssp.Client, o output.Options, ids []string, w waitFlag, single bool) error {
	line := f.NewStatusLine()
	res, err := wait.Tasks(ctx, ids, fetchTask(sc), wait.TaskOptions{
		Timeout:  w.Timeout,
		Interval: w.Interval,
		OnRound: func(done, total int, err error) {
			msg := fmt.Sprintf("waiting for %d task(s): %d ended", total, done)
			if err != nil {
				msg += " (retrying: " + firstLine(err.Error()) + ")"
			}
			line.Set("%s", msg)
		},
	})
	line.Clear()
	if exit.CodeOf(err) == exit.Interrupted {
		// The tasks go on in the SSP: say how to follow them again.
		follow := make([]string, len(ids))
		for i, id := range ids {
			follow[i] = "tokenctl baremetal task " + escape.Text(id) + " --wait"
		}
		return exit.Errorf(exit.Interrupted, "interrupted while waiting for %d task(s); they go on in the SSP without tokenctl; to wait again: %s", len(ids), strings.Join(follow, "; "))
	}
	if err != nil {
		return err
	}
	var raws []json.RawMessage
	for _, t := range res.Tasks {
		if t.Raw != nil {
			raws = append(raws, t.Raw)
		}
		reportTask(f, t)
	}
	if err := printTasks(f, o, raws, single); err != nil {
		return err
	}
	if res.Code == exit.OK {
		return nil
	}
	return exit.Errorf(res.Code, "%s", res.Reason)
}

// reportTask names, on stderr, a task that ended badly or is still running,
// and each of its servers that did not succeed, with the vendor's message.
func reportTask(f *cmdutil.Factory, t wait.TaskState) {
	task := t.Task
	switch {
	case !t.Done && task.TaskStatus == "":
		fmt.Fprintf(f.IOStreams.ErrOut, "task %s: not read\n", t.ID)
		return
	case !t.Done:
		fmt.Fprintf(f.IOStreams.ErrOut, "task %s (%s): still %s\n", escape.Args([]any{t.ID, task.TaskType, task.TaskStatus})...)
		return
	}
	code, _ := wait.TaskCode(task)
	if code == exit.OK {
		f.Notice("Task %s (%s) %s: %d server(s) succeeded.", t.ID, task.TaskType, task.TaskStatus, len(task.Servers))
		return
	}
	msg := ""
	if task.ActivityStatusMsg != "" {
		msg = ": " + task.ActivityStatusMsg
	}
	fmt.Fprintf(f.IOStreams.ErrOut, "task %s (%s) %s%s\n", escape.Args([]any{t.ID, task.TaskType, task.TaskStatus, msg})...)
	for _, s := range task.Servers {
		if s.ServerTaskStatus == ssp.LCMSuccess {
			continue
		}
		name := s.ID
		if s.DisplayName != "" && s.DisplayName != s.ID {
			name = s.DisplayName + " (" + s.ID + ")"
		}
		line := fmt.Sprintf("  server %s: %s", name, s.ServerTaskStatus)
		if s.ActivityStatusMsg != "" {
			line += ": " + s.ActivityStatusMsg
		}
		fmt.Fprintln(f.IOStreams.ErrOut, escape.Text(line))
	}
}

// printTasks prints BaremetalTaskInfo objects: the vendor's JSON, JSON
// lines or YAML (one object when single, else a list), task ids for -o id,
// and a table of one row per server.
func printTasks(f *cmdutil.Factory, o output.Options, raws []json.RawMessage, single bool) error {
	pr := f.Printer(o)
	if !o.IsTable() {
		if single && len(raws) == 1 {
			return pr.Object(raws[0], taskKind())
		}
		l := pr.List(taskKind())
		for _, r := range raws {
			if err := l.Add(r); err != nil {
				return err
			}
		}
		return l.Close()
	}
	l := pr.List(taskKind())
	for _, r := range raws {
		rows, err := taskRows(r)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if err := l.Add(row); err != nil {
				return err
			}
		}
	}
	return l.Close()
}

// printAccepted prints the AsyncApiResponse objects of accepted uninstalls
// or upgrades, and says on stderr how to follow them.
func printAccepted(f *cmdutil.Factory, o output.Options, verb string, accepted []ssp.AsyncResponse) error {
	ids := taskIDs(accepted)
	switch len(ids) {
	case 0:
	case 1:
		f.Notice("%s accepted: task %s. Follow with: tokenctl baremetal task %s --wait", verb, ids[0], ids[0])
	default:
		f.Notice("%s accepted: tasks %s. Follow each with: tokenctl baremetal task ID --wait", verb, strings.Join(ids, ", "))
	}
	if len(accepted) == 0 && o.IsTable() {
		return nil // nothing was accepted (every server was gone)
	}
	l := f.Printer(o).List(asyncKind())
	for _, a := range accepted {
		if err := l.Add(cmdutil.RawOf(a)); err != nil {
			return err
		}
	}
	return l.Close()
}

// taskIDs are the distinct task ids of accepted actions.
func taskIDs(accepted []ssp.AsyncResponse) []string {
	var ids []string
	seen := map[string]bool{}
	for _, a := range accepted {
		if id := a.TaskID(); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
