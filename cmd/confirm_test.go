package cmd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"charm.land/huh/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/prompt"
)

// createTokens makes n sensor tokens named name-1.. on the built-in sandbox.
func createTokens(t *testing.T, n int) []string {
	t.Helper()
	pf := filepath.Join(t.TempDir(), "pp")
	os.WriteFile(pf, []byte("Confirm-Pass-Phrase-1!\n"), 0o600)
	var ids []string
	for i := 1; i <= n; i++ {
		out, errOut, code := run{}.exec(t, "token", "create", "--display-name", fmt.Sprintf("edge-%02d", i), "--passphrase-file", pf, "-o", "id")
		if code != 0 {
			t.Fatal(errOut)
		}
		ids = append(ids, strings.TrimSpace(out))
	}
	return ids
}

func tokenCount(t *testing.T) int {
	t.Helper()
	out, _, _ := run{}.exec(t, "token", "list", "-o", "json")
	var items []json.RawMessage
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatal(err)
	}
	return len(items)
}

// TestDeleteConfirmationList: twelve tokens are asked about in one question
// that says what happens, lists ten of them by name and id and counts the
// rest; No and Esc are plain declines (exit 1, "nothing deleted") that send
// no delete; without a terminal --yes is required (exit 2).
func TestDeleteConfirmationList(t *testing.T) {
	sandboxEnv(t)
	ids := createTokens(t, 12)
	args := append([]string{"token", "delete"}, ids...)

	no := &prompt.Stub{Confirms: []bool{false}}
	_, errOut, code := run{stdinTTY: true, stderrTTY: true, prompter: no}.exec(t, args...)
	if code != exit.Error || !strings.Contains(errOut, "nothing deleted") {
		t.Fatalf("No: exit %d, %s", code, errOut)
	}
	if len(no.Asked) != 1 {
		t.Fatalf("asked %q", no.Asked)
	}
	q := no.Asked[0]
	lines := strings.Split(q, "\n")
	if lines[0] != "Delete 12 registration tokens? This cannot be undone." {
		t.Fatalf("question %q", lines[0])
	}
	if len(lines) != 12 || strings.TrimSpace(lines[11]) != "and 2 more" {
		t.Fatalf("list:\n%s", q)
	}
	for i := 1; i <= 10; i++ {
		f := strings.Fields(lines[i])
		if len(f) != 2 || f[0] != fmt.Sprintf("edge-%02d", i) || f[1] != ids[i-1] {
			t.Fatalf("line %d %q: want name and id of %s", i, lines[i], ids[i-1])
		}
	}
	if n := tokenCount(t); n != 12 {
		t.Fatalf("%d tokens after No", n)
	}

	esc := &prompt.Stub{Decline: true}
	_, errOut, code = run{stdinTTY: true, stderrTTY: true, prompter: esc}.exec(t, args...)
	if code != exit.Error || !strings.Contains(errOut, "cancelled: nothing deleted") {
		t.Fatalf("Esc: exit %d, %s", code, errOut)
	}
	if n := tokenCount(t); n != 12 {
		t.Fatalf("%d tokens after Esc", n)
	}

	_, errOut, code = run{}.exec(t, args...)
	if code != exit.Usage || !strings.Contains(errOut, "--yes required when not running interactively: Delete 12 registration tokens? This cannot be undone.") {
		t.Fatalf("no terminal: exit %d, %s", code, errOut)
	}

	yes := &prompt.Stub{Confirms: []bool{true}}
	if _, errOut, code = (run{stdinTTY: true, stderrTTY: true, prompter: yes}).exec(t, args...); code != 0 {
		t.Fatalf("Yes: exit %d %s", code, errOut)
	}
	if n := tokenCount(t); n != 0 {
		t.Fatalf("%d tokens after Yes", n)
	}
}

// TestConfirmOneTarget: a single target is named in the question itself.
func TestConfirmOneTarget(t *testing.T) {
	sandboxEnv(t)
	ids := createTokens(t, 1)
	no := &prompt.Stub{}
	_, _, code := run{stdinTTY: true, stderrTTY: true, prompter: no}.exec(t, "token", "delete", "--type", "sensor", ids[0])
	if code != exit.Error || len(no.Asked) != 1 || no.Asked[0] != "Delete sensor registration token edge-01 ("+ids[0]+")? This cannot be undone." {
		t.Fatalf("exit %d, asked %q", code, no.Asked)
	}
}

// TestProfileDeleteDecline: profile delete asks through the same helper.
func TestProfileDeleteDecline(t *testing.T) {
	sandboxEnv(t)
	t.Setenv("TOKENCTL_PROFILE", "")
	if _, errOut, code := (run{}).exec(t, "profile", "set", "p1", "--platform", "ssp", "--server", "https://ssp.example.com", "--username", "u", "--password-env", "X"); code != 0 {
		t.Fatal(errOut)
	}
	no := &prompt.Stub{Confirms: []bool{false}}
	_, errOut, code := run{stdinTTY: true, stderrTTY: true, prompter: no}.exec(t, "profile", "delete", "p1")
	if code != exit.Error || !strings.Contains(errOut, "nothing deleted") || !strings.HasPrefix(no.Asked[0], "Delete profile p1?") {
		t.Fatalf("exit %d %s %q", code, errOut, no.Asked)
	}
	out, _, _ := run{}.exec(t, "profile", "list", "-o", "json")
	if !strings.Contains(out, `"p1"`) {
		t.Fatalf("declined delete removed the profile: %s", out)
	}
}

func TestDestructiveText(t *testing.T) {
	d := cmdutil.Destructive{Verb: "Delete", Noun: "sensor registration token", Consequence: "This cannot be undone.",
		Targets: []cmdutil.Target{{Name: "a\x1b[2Jb", ID: "1"}, {ID: "2"}, {Name: "c", ID: "3"}}}
	if got := d.Question(); got != "Delete 3 sensor registration tokens? This cannot be undone." {
		t.Fatal(got)
	}
	if got, want := d.List(), "  a\\x1b[2Jb  1\n  -          2\n  c          3"; got != want {
		t.Fatalf("list %q, want %q", got, want)
	}
}

// TestConfirmFocusVisibleWithoutColour: with every escape sequence removed
// (no colour, no reverse or bold: what a terminal without them shows) the
// focused button is still told apart by its brackets, and moving the focus
// moves them.
func TestConfirmFocusVisibleWithoutColour(t *testing.T) {
	v := false
	c := huh.NewConfirm().Title("Delete?").Affirmative("Yes").Negative("No").Value(&v)
	c.WithTheme(huh.ThemeFunc(prompt.Theme))
	c.Focus()
	view := ansi.Strip(c.View())
	if !strings.Contains(view, "[No]") || strings.Contains(view, "[Yes]") {
		t.Fatalf("default No, no colour:\n%s", view)
	}
	v = true
	view = ansi.Strip(c.View())
	if !strings.Contains(view, "[Yes]") || strings.Contains(view, "[No]") {
		t.Fatalf("focus on Yes:\n%s", view)
	}
}

// TestConfirmSensorByName: sensor delete looks names up before it asks, as
// every delete does, and names the sensor with its id in the question.
func TestConfirmSensorByName(t *testing.T) {
	sandboxEnv(t)
	out, errOut, code := run{}.exec(t, "sensor", "list", "--limit", "1", "-o", "json", "--jq", `.[0] | .display_name + " " + .id`)
	if code != 0 {
		t.Fatal(errOut)
	}
	name, id, _ := strings.Cut(strings.TrimSpace(out), " ")
	no := &prompt.Stub{Confirms: []bool{false}}
	_, errOut, code = run{stdinTTY: true, stderrTTY: true, prompter: no}.exec(t, "sensor", "delete", name)
	want := "De-register sensor " + name + " (" + id + ")? The appliance VMs stay and must be removed separately."
	if code != exit.Error || !strings.Contains(errOut, "nothing de-registered") || len(no.Asked) != 1 || no.Asked[0] != want {
		t.Fatalf("exit %d %s, asked %q, want %q", code, errOut, no.Asked, want)
	}
	if _, _, code := (run{}).exec(t, "sensor", "get", id); code != 0 {
		t.Fatalf("declined delete removed the sensor (get: exit %d)", code)
	}
}
