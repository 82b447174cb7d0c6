package apply

import (
	"errors"
	"testing"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
	"github.com/tokenctl/tokenctl/internal/reconcile"
)

func testFactory() *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	return cmdutil.NewFactory(ios, cmdutil.BuildInfo{})
}

func TestApplyFlags(t *testing.T) {
	cases := []struct {
		args  []string
		file  string
		prune bool
		conc  int
	}{
		{[]string{"-f", "docs/"}, "docs/", false, 4},
		{[]string{"--file", "-", "--prune", "--concurrency", "9"}, "-", true, 9},
	}
	for _, tc := range cases {
		var got *ApplyOptions
		cmd := NewCmdApply(testFactory(), func(o *ApplyOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		if err := cmd.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.File != tc.file || got.Prune != tc.prune || got.Concurrency != tc.conc {
			t.Errorf("%v: %+v", tc.args, got)
		}
	}
	var d *DiffOptions
	cmd := NewCmdDiff(testFactory(), func(o *DiffOptions) error { d = o; return nil })
	cmd.SetArgs([]string{"-f", "x.yaml", "--prune"})
	if err := cmd.Execute(); err != nil || d.File != "x.yaml" || !d.Prune {
		t.Fatalf("diff: %+v %v", d, err)
	}
	cmd = NewCmdDiff(testFactory(), func(*DiffOptions) error { return nil })
	cmd.SetArgs([]string{"extra"})
	if err := cmd.Execute(); exit.CodeOf(err) != exit.Usage {
		t.Fatalf("diff with an argument: %v, want exit 2", err)
	}
}

// TestOutcome: apply's exit code from its results.
func TestOutcome(t *testing.T) {
	denied := exit.WithCode(exit.Auth, errors.New("403"))
	ok := func(o reconcile.Outcome) reconcile.Result { return reconcile.Result{Outcome: o, OK: true} }
	bad := func(err error) reconcile.Result { return reconcile.Result{Outcome: reconcile.Failed, Err: err} }
	cases := []struct {
		name    string
		results []reconcile.Result
		want    int
	}{
		{"all done", []reconcile.Result{ok(reconcile.Created), ok(reconcile.Kept)}, exit.OK},
		{"nothing to do", []reconcile.Result{ok(reconcile.Kept)}, exit.OK},
		{"some done, some failed", []reconcile.Result{ok(reconcile.Created), bad(denied)}, exit.Partial},
		{"failed, the rest unchanged", []reconcile.Result{ok(reconcile.Kept), bad(denied)}, exit.Auth},
		{"all failed", []reconcile.Result{bad(denied), bad(errors.New("x"))}, exit.Auth},
	}
	for _, tc := range cases {
		if got := exit.CodeOf(outcome(tc.results)); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}
