package baremetal

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// newFactory is a factory over test streams, with stdin holding in.
func newFactory(in string) *cmdutil.Factory {
	ios, stdin, _, _ := iostreams.Test()
	stdin.WriteString(in)
	return cmdutil.NewFactory(ios, cmdutil.BuildInfo{})
}

// parse runs cmd with argv and returns what its run function got.
func parse(t *testing.T, f *cmdutil.Factory, cmd *cobra.Command, argv ...string) error {
	t.Helper()
	root := &cobra.Command{Use: "tokenctl", SilenceErrors: true, SilenceUsage: true}
	f.AddGlobalFlags(root)
	root.AddCommand(cmd)
	root.SetArgs(append([]string{cmd.Name()}, argv...))
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	return root.Execute()
}

func TestUninstallArgs(t *testing.T) {
	f := newFactory("web-01\n\n 0b7e5a53-4d0f-4c8e-9d3a-6f1f2a7c9e11 \n")
	var got *UninstallOptions
	err := parse(t, f, NewCmdUninstall(f, func(o *UninstallOptions) error { got = o; return nil }),
		"-", "--force", "--wait", "--wait-timeout", "10m", "--interval", "2s", "--concurrency", "2")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Args, ",") != "web-01,0b7e5a53-4d0f-4c8e-9d3a-6f1f2a7c9e11" || !got.Force || !got.Wait.Wait ||
		got.Wait.Timeout != 10*time.Minute || got.Wait.Interval != 2*time.Second || got.Concurrency != 2 {
		t.Fatalf("options %+v", got)
	}
	// Defaults: 30m, 5s.
	err = parse(t, f, NewCmdUpgrade(f, func(o *UpgradeOptions) error {
		if o.Wait.Timeout != 30*time.Minute || o.Wait.Interval != 5*time.Second || o.Wait.Wait {
			t.Errorf("upgrade defaults %+v", o.Wait)
		}
		return nil
	}), "web-01")
	if err != nil {
		t.Fatal(err)
	}
	if err := parse(t, f, NewCmdUninstall(f, func(*UninstallOptions) error { return nil })); exit.CodeOf(err) != exit.Usage {
		t.Errorf("uninstall without an id: %v", err)
	}
}

func TestInstallerArgs(t *testing.T) {
	f := newFactory("")
	var got *InstallerOptions
	if err := parse(t, f, NewCmdInstaller(f, func(o *InstallerOptions) error { got = o; return nil }), "--bundle-version", "5.2.0", "--windows", "-O", "agent.msi"); err != nil {
		t.Fatal(err)
	}
	if got.BundleVersion != "5.2.0" || !got.Windows || got.Output != "agent.msi" {
		t.Fatalf("options %+v", got)
	}
}

func TestCheckServerArgs(t *testing.T) {
	ps := checkServerArgs([]string{"web-01", "0b7e5a53-4d0f-4c8e-9d3a-6f1f2a7c9e11", " ", strings.Repeat("x", 256), "a\x1bb"})
	if len(ps) != 3 {
		t.Fatalf("problems %v, want 3 (blank, too long, control character)", ps)
	}
}

func TestTaskRows(t *testing.T) {
	rows, err := taskRows([]byte(`{"id":"t1","task_type":"UPGRADE","task_status":"COMPLETED","baremetalserver_task_info":[
		{"id":"s1","display_name":"web-01","server_task_status":"SUCCESS"},{"id":"s2","display_name":"web-02","server_task_status":"FAILED","activity_status_msg":"disk full"}]}`))
	if err != nil || len(rows) != 2 || !strings.Contains(string(rows[1]), `"activity_status_msg":"disk full"`) || !strings.Contains(string(rows[1]), `"task_id":"t1"`) {
		t.Fatalf("rows %s, %v", rows, err)
	}
	rows, err = taskRows([]byte(`{"id":"t2","task_status":"ABORTED","activity_status_msg":"cancelled"}`))
	if err != nil || len(rows) != 1 || !strings.Contains(string(rows[0]), "cancelled") {
		t.Fatalf("rows of a task without servers %s, %v", rows, err)
	}
}
