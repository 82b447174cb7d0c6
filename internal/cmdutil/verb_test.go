package cmdutil

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
	"github.com/tokenctl/tokenctl/internal/output"
)

type testOptions struct {
	Verb
	ID  string
	IDs []string
}

// TestRunHelpers: the RunE helpers record the command before reading the
// arguments, read "-" from stdin, and give the options to the test's runF
// instead of the run function when there is one.
func TestRunHelpers(t *testing.T) {
	ios, in, _, _ := iostreams.Test()
	f := NewFactory(ios, BuildInfo{})
	opts := &testOptions{Verb: Verb{Factory: f}}
	cmd := &cobra.Command{Use: "get"}
	var ran, hooked []string
	run := func(o *testOptions) error { ran = append(ran, o.ID); return nil }
	hook := func(o *testOptions) error {
		if o.Cmd != cmd {
			t.Errorf("runF saw command %v", o.Cmd)
		}
		hooked = append(hooked, o.ID)
		return nil
	}

	if err := RunOneID(opts, &opts.ID, nil, run)(cmd, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	in.WriteString("b\n")
	if err := RunOneID(opts, &opts.ID, hook, run)(cmd, []string{"-"}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ran, []string{"a"}) || !slices.Equal(hooked, []string{"b"}) {
		t.Fatalf("run saw %q, runF saw %q", ran, hooked)
	}
	in.WriteString("c\nd\n")
	err := RunOneID(opts, &opts.ID, hook, run)(cmd, []string{"-"})
	if exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "get takes one ID; stdin had 2") {
		t.Fatalf("two ids on stdin: %v", err)
	}

	in.WriteString("x\n\ny\n")
	list := func(o *testOptions) error { ran = o.IDs; return nil }
	if err := RunIDList(opts, &opts.IDs, nil, list)(cmd, []string{"w", "-"}); err != nil || !slices.Equal(ran, []string{"w", "x", "y"}) {
		t.Fatalf("ID list: %q, %v", ran, err)
	}

	refused := errors.New("refused")
	take := func([]string) error { return refused }
	if err := RunArgs(opts, take, hook, run)(cmd, nil); !errors.Is(err, refused) {
		t.Fatalf("an argument error must stop the run: %v", err)
	}
}

// TestDestructiveSecret: a secret target's id is masked in the question and
// the list; names are shown as they are.
func TestDestructiveSecret(t *testing.T) {
	secret := "7ba167aa-631c-4771-b197-fcb459cc7fd7"
	d := Destructive{Verb: "Delete", Noun: "agent token", Secret: true, Targets: []Target{{ID: secret}}}
	if q := d.Question(); strings.Contains(q, secret) || !strings.Contains(q, output.Mask(secret)) {
		t.Fatalf("question %q", q)
	}
	d.Targets = append(d.Targets, Target{Name: "ci", ID: "11111111-2222-4333-8444-555555555555"})
	l := d.List()
	if strings.Contains(l, secret) || strings.Contains(l, "11111111-2222") || !strings.Contains(l, "ci") {
		t.Fatalf("list %q", l)
	}
}
