package cmdutil

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// sandboxFactory is a factory whose current profile is the built-in
// sandbox (24 generated sensors), with its own state and config files.
func sandboxFactory(t *testing.T, platform string) *Factory {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("TOKENCTL_CONFIG", filepath.Join(dir, "config.yaml"))
	t.Setenv("TOKENCTL_SANDBOX_STATE", filepath.Join(dir, "sandbox.json"))
	t.Setenv("TOKENCTL_PROFILE", "sandbox")
	t.Setenv("TOKENCTL_PLATFORM", platform)
	ios, _, _, _ := iostreams.Test()
	f := NewFactory(ios, BuildInfo{Version: "test"})
	t.Cleanup(f.Cleanup)
	return f
}

func values(comps []cobra.Completion) []string {
	var out []string
	for _, c := range comps {
		v, _, _ := strings.Cut(c, "\t")
		out = append(out, v)
	}
	return out
}

func TestCompleteSensorIDs(t *testing.T) {
	f := sandboxFactory(t, "ssp")
	cmd := &cobra.Command{Use: "get"}
	comps, dir := f.CompleteSensorIDs(cmd, nil, "")
	if dir != cobra.ShellCompDirectiveNoFileComp {
		t.Errorf("directive %v", dir)
	}
	// Every id, then every display name (names are IDs too).
	if len(comps) != 2*BuiltinSandboxSensors {
		t.Fatalf("%d sensor ids and names, want %d: %q", len(comps), 2*BuiltinSandboxSensors, comps)
	}
	id, desc, ok := strings.Cut(comps[0], "\t")
	if !ok || len(id) != 36 || desc == "" {
		t.Fatalf("completion %q: want id<TAB>display name", comps[0])
	}
	if name, nameDesc, _ := strings.Cut(comps[BuiltinSandboxSensors], "\t"); name != desc || nameDesc != id {
		t.Errorf("name completion %q: want %s<TAB>%s", comps[BuiltinSandboxSensors], desc, id)
	}
	if got := values(first(f.CompleteSensorIDsOnly(cmd, nil, ""))); len(got) != BuiltinSandboxSensors || got[0] != id {
		t.Errorf("ids only (features set): %d offered", len(got))
	}
	// What was typed filters; ids already on the line are not offered again.
	if got := values(first(f.CompleteSensorIDs(cmd, nil, id[:8]))); len(got) != 1 || got[0] != id {
		t.Errorf("prefix %s: %q", id[:8], got)
	}
	if got := values(first(f.CompleteSensorIDs(cmd, []string{id}, ""))); len(got) != 2*BuiltinSandboxSensors-1 || contains(got, id) {
		t.Errorf("after %s on the line: %d offered", id, len(got))
	}
	// FirstArg stops after one.
	if got, _ := FirstArg(f.CompleteSensorIDs)(cmd, []string{id}, ""); len(got) != 0 {
		t.Errorf("FirstArg offered %d after one argument", len(got))
	}
	if !f.IOStreams.NoInput {
		t.Error("completion left prompting enabled")
	}
}

func TestCompletionRefusesSecretPlatforms(t *testing.T) {
	for _, platform := range []string{"nsx", "agent"} {
		f := sandboxFactory(t, platform)
		cmd := &cobra.Command{Use: "get"}
		ran := false
		fn := f.CompleteFromServer([]string{"ssp", "nsx", "agent", "sdwan"}, func(ctx context.Context, c *client.Client, p *config.Resolved, cmd *cobra.Command) ([]cobra.Completion, error) {
			ran = true
			return []cobra.Completion{"secret-value"}, nil
		})
		if got, _ := fn(cmd, nil, ""); len(got) != 0 || ran {
			t.Errorf("%s: offered %q (lister ran: %v)", platform, got, ran)
		}
		if f.sandbox != nil {
			t.Errorf("%s: the sandbox was started for a refused completion", platform)
		}
	}
}

func TestCompleteProfiles(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TOKENCTL_CONFIG", filepath.Join(dir, "config.yaml"))
	ios, _, _, _ := iostreams.Test()
	f := NewFactory(ios, BuildInfo{})
	cmd := &cobra.Command{Use: "use"}
	if got := values(first(f.CompleteProfiles(cmd, nil, ""))); len(got) != 1 || got[0] != "sandbox" {
		t.Errorf("no config: %q", got)
	}
	if got := values(first(f.CompleteSavedProfiles(cmd, nil, ""))); len(got) != 0 {
		t.Errorf("saved profiles without config: %q", got)
	}
}

func first(c []cobra.Completion, _ cobra.ShellCompDirective) []cobra.Completion { return c }

// A server's display names reach the shell as completion descriptions and
// values: control characters in them are escaped in descriptions, and a
// name that holds any is not offered as a value (it could not be typed
// back, and its raw bytes would land on the command line).
func TestCompletionEscapesServerText(t *testing.T) {
	f := sandboxFactory(t, "ssp")
	ctx := context.Background()
	c, _, err := f.APIClient(ctx)
	if err != nil {
		t.Fatal(err)
	}
	evil := "evil\x1b]0;pwned\x07\x1b[2J"
	if _, err := c.Do(ctx, client.Call{Operation: "create", Method: "POST", Path: "/sensors/registration-tokens",
		Body: map[string]any{"display_name": evil, "passphrase": "Evil-Passphrase-2026!"}}); err != nil {
		t.Fatal(err)
	}
	cmd := &cobra.Command{Use: "get"}
	comps, _ := f.CompleteTokenIDs(cmd, nil, "")
	if len(comps) == 0 {
		t.Fatal("nothing offered")
	}
	for _, comp := range comps {
		if strings.ContainsAny(comp, "\x1b\x07") {
			t.Errorf("completion %q carries control characters", comp)
		}
	}
	if !strings.Contains(strings.Join(comps, "\n"), `evil\x1b]0;pwned\x07\x1b[2J`) {
		t.Errorf("the escaped name is not in any description: %q", comps)
	}
}
