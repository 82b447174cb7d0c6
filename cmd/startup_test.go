package cmd

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
	"github.com/tokenctl/tokenctl/internal/prompt"
)

// execWith runs tokenctl in-process on f, as if stdin and stderr were a
// terminal (a prompt could be shown).
func execWith(t *testing.T, f *cmdutil.Factory, args ...string) (string, string, int) {
	t.Helper()
	root := NewCmdRoot(f)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	f.Cleanup()
	code := 0
	if err != nil {
		code = report(f, err)
	}
	out, errOut := f.IOStreams.Out.(interface{ String() string }), f.IOStreams.ErrOut.(interface{ String() string })
	return out.String(), errOut.String(), code
}

func terminalFactory() *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	ios.SetTTY(true, false, true)
	return cmdutil.NewFactory(ios, cmdutil.BuildInfo{Version: "test"})
}

// TestCommandsThatAskNothingSetUpNoPrompt: the factory's prompter is built
// on the first question, and `version` and `token get` ask none, even at a
// terminal; a command that does ask builds it then.
func TestCommandsThatAskNothingSetUpNoPrompt(t *testing.T) {
	sandboxEnv(t)
	f := terminalFactory()
	if _, _, code := execWith(t, f, "version"); code != 0 {
		t.Fatalf("version: exit %d", code)
	}
	lazy, ok := f.Prompter.(*prompt.Lazy)
	if !ok {
		t.Fatalf("the factory's prompter is a %T, not built lazily", f.Prompter)
	}
	if lazy.Built() {
		t.Fatal("version built the prompter")
	}

	f = terminalFactory()
	f.IOStreams.In.(interface{ WriteString(string) (int, error) }).WriteString("Lazy-Prompt-Pass-1!\n")
	out, errOut, code := execWith(t, f, "token", "create", "--display-name", "lazy", "--passphrase-stdin", "-o", "id")
	if code != 0 {
		t.Fatalf("create: exit %d %s", code, errOut)
	}
	id := strings.TrimSpace(out)
	if f.Prompter.(*prompt.Lazy).Built() {
		t.Fatal("a create given its passphrase on stdin built the prompter")
	}

	for _, args := range [][]string{{"token", "get", id, "-o", "json"}, {"token", "get", id}} {
		f = terminalFactory()
		if _, errOut, code := execWith(t, f, args...); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
		if f.Prompter.(*prompt.Lazy).Built() {
			t.Fatalf("%v built the prompter", args)
		}
	}

	// The control: a delete at a terminal without --yes asks, and only then
	// is the prompter built.
	f = terminalFactory()
	var built int
	stub := &prompt.Stub{Confirms: []bool{false}}
	f.Prompter = prompt.NewLazy(func() prompt.Prompter { built++; return stub })
	if _, _, code := execWith(t, f, "token", "delete", id); code != exit.Error {
		t.Fatalf("declined delete: exit %d", code)
	}
	if built != 1 || len(stub.Asked) != 1 {
		t.Fatalf("the prompter was built %d times and asked %v", built, stub.Asked)
	}
}

// TestTopLevelNames: the names and aliases in topLevel are the commands'
// own, so that newCmdRootFor finds the command a line names.
func TestTopLevelNames(t *testing.T) {
	f := terminalFactory()
	for _, c := range topLevel {
		cmd := c.build(f)
		if cmd.Name() != c.name || !slices.Equal(cmd.Aliases, c.aliases) {
			t.Errorf("topLevel has %q %v; the command is %q %v", c.name, c.aliases, cmd.Name(), cmd.Aliases)
		}
	}
	// Besides topLevel, the whole tree has only help topics (no run, no
	// subcommands) and cobra's completion and help commands.
	var names []string
	for _, c := range NewCmdRoot(f).Commands() {
		if c.Name() == "completion" || c.Name() == "help" || !c.Runnable() && !c.HasSubCommands() {
			continue
		}
		names = append(names, c.Name())
	}
	var want []string
	for _, c := range topLevel {
		want = append(want, c.name)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("NewCmdRoot has %v, topLevel %v", names, want)
	}
}

// TestRootBuildsOnlyTheCommandUsed: a command line that names a top-level
// command builds that subtree alone; help, completion and anything unclear
// build the whole tree.
func TestRootBuildsOnlyTheCommandUsed(t *testing.T) {
	built := func(args ...string) []string {
		var names []string
		for _, c := range newCmdRootFor(terminalFactory(), args).Commands() {
			names = append(names, c.Name())
		}
		return names
	}
	for _, args := range [][]string{
		{"token", "get", "ID", "-o", "json"},
		{"--profile", "prod", "token", "get", "ID"},
		{"--profile=prod", "-o", "json", "--debug", "token", "list"},
		{"-ojson", "-q", "--no-input", "token"},
		{"--timeout", "token", "token"}, // --timeout's value is "token"
	} {
		if got := built(args...); !slices.Equal(got, []string{"token"}) {
			t.Errorf("%q built %v, want token alone", args, got)
		}
	}
	all := len(topLevel)
	for _, args := range [][]string{
		{}, {"help"}, {"help", "token"}, {"--help"}, {"completion", "bash"}, {"__complete", "token", ""},
		{"tokn", "list"}, {"--unknown", "token"}, {"-qo", "json", "token"}, {"--", "token"}, {"--profile"},
	} {
		if got := built(args...); len(got) < all {
			t.Errorf("%q built only %v", args, got)
		}
	}
	if got := built("version"); !slices.Equal(got, []string{"version"}) {
		t.Errorf("version built %v", got)
	}
}
