package cmd

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

func testRoot() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	return NewCmdRoot(cmdutil.NewFactory(ios, cmdutil.BuildInfo{Version: "test"}))
}

// walk visits every command of the tree.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

// TestEveryCommandHasExamples fails on a runnable command whose help has no
// examples, so that a command added anywhere is caught when it is merged.
// Help topics and cobra's own help and __complete commands are exempt.
func TestEveryCommandHasExamples(t *testing.T) {
	root := testRoot()
	n := 0
	walk(root, func(c *cobra.Command) {
		if !c.Runnable() || c.Hidden || c.IsAdditionalHelpTopicCommand() || c.Name() == "help" || strings.HasPrefix(c.Name(), "__") {
			return
		}
		n++
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no Example in its help", c.CommandPath())
			return
		}
		for _, line := range strings.Split(c.Example, "\n") {
			if !strings.HasPrefix(line, "  ") {
				t.Errorf("%s: example line %q is not indented by two spaces", c.CommandPath(), line)
			}
		}
	})
	if n < 40 {
		t.Fatalf("only %d runnable commands walked", n)
	}
}

// TestListAndDeleteAliases: every list answers to ls and every delete to rm.
func TestListAndDeleteAliases(t *testing.T) {
	root := testRoot()
	want := map[string]string{"list": "ls", "delete": "rm"}
	found := 0
	walk(root, func(c *cobra.Command) {
		alias, ok := want[c.Name()]
		if !ok {
			return
		}
		found++
		if !c.HasAlias(alias) {
			t.Errorf("%s has no alias %q", c.CommandPath(), alias)
		}
	})
	if found < 8 {
		t.Fatalf("only %d list/delete commands", found)
	}
}

func TestHelpTopics(t *testing.T) {
	sandboxEnv(t)
	out, _, code := run{}.exec(t, "help", "exit-codes")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, m := range exit.Table {
		if !regexp.MustCompile(`(?m)^\s+` + strconv.Itoa(m.Code) + `  ` + regexp.QuoteMeta(m.Meaning) + `$`).MatchString(out) {
			t.Errorf("exit-codes lacks %d: %s\n%s", m.Code, m.Meaning, out)
		}
	}
	out, _, code = run{}.exec(t, "help", "environment")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, v := range []string{"TOKENCTL_PASSWORD", "TOKENCTL_TOKEN", "TOKENCTL_PASSPHRASE", "TOKENCTL_USERNAME", "TOKENCTL_PROFILE", "TOKENCTL_OUTPUT", "TOKENCTL_CONFIG", "NO_COLOR", "CLICOLOR_FORCE", "COLUMNS"} {
		if !strings.Contains(out, "\n  "+v+" ") {
			t.Errorf("environment lacks %s", v)
		}
	}
	out, _, _ = run{}.exec(t, "--help")
	if !strings.Contains(out, "Additional help topics:") || !strings.Contains(out, "exit-codes") || !strings.Contains(out, "TOKENCTL_PASSWORD") {
		t.Errorf("root help does not point at the topics and secret variables:\n%s", out)
	}
}

// TestUnknownHelpTopic: `help` with a name that is no command or topic is
// a usage error with a suggestion, not the root's (or the group's) help
// and exit 0, which hid the typo.
func TestUnknownHelpTopic(t *testing.T) {
	sandboxEnv(t)
	for _, tc := range []struct {
		args    []string
		suggest string
	}{
		{[]string{"help", "exit-code"}, "exit-codes"},
		{[]string{"help", "tokn"}, "token"},
		{[]string{"help", "token", "lst"}, "list"},
		{[]string{"help", "environmnet"}, "environment"},
		{[]string{"exit-code"}, "exit-codes"},
	} {
		out, errOut, code := run{}.exec(t, tc.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "Did you mean") || !strings.Contains(errOut, tc.suggest) {
			t.Errorf("%q: exit %d, stdout %d bytes, stderr %q; want exit 2, nothing on stdout, a suggestion of %s", tc.args, code, len(out), errOut, tc.suggest)
		}
	}
	for _, args := range [][]string{{"help"}, {"help", "token", "list"}, {"help", "environment"}} {
		if out, _, code := (run{}).exec(t, args...); code != 0 || out == "" {
			t.Errorf("%q: exit %d", args, code)
		}
	}
}

// TestEveryEnvVarDocumented scans the program's sources for TOKENCTL_*
// variables: each must appear in `tokenctl help environment`, so a
// variable added anywhere is documented (the global flags' variables are
// listed from the flag set, so they are covered by construction).
func TestEveryEnvVarDocumented(t *testing.T) {
	help := cmdutil.EnvHelp(testRoot())
	re := regexp.MustCompile(`"(TOKENCTL_[A-Z0-9_]+)"`)
	seen := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "bench" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			seen[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 5 {
		t.Fatalf("found only %v", names)
	}
	for _, n := range names {
		if !strings.Contains(help, n) {
			t.Errorf("%s is read by the code but not listed in `tokenctl help environment` (internal/cmdutil/env.go)", n)
		}
	}
}
