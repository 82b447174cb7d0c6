package authtoken_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/cmd"
	"github.com/tokenctl/tokenctl/cmd/authtoken"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
	"github.com/tokenctl/tokenctl/internal/prompt"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	sdwansandbox "github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
)

func testFactory(t *testing.T) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv("TOKENCTL_CONFIG", "")
	t.Setenv("TOKENCTL_SANDBOX_STATE", "")
	t.Setenv("TOKENCTL_TOKEN", "")
	t.Setenv("TOKENCTL_PASSWORD", "")
	t.Setenv("CI", "")
	ios, in, out, errOut := iostreams.Test()
	return cmdutil.NewFactory(ios, cmdutil.BuildInfo{Version: "test"}), in, out, errOut
}

func TestCreateFlags(t *testing.T) {
	f, _, _, _ := testFactory(t)
	var got *authtoken.CreateOptions
	c := authtoken.NewCmdCreate(f, func(o *authtoken.CreateOptions) error { got = o; return nil })
	c.SetArgs([]string{"--role", "tenant_viewonly", "--role", "secops,devops", "--expires", "30d", "--tenant", "1", "--operator", "2", "-f", "x.yaml", "--session-key-c-file", "k.txt"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.Roles, " ") != "tenant_viewonly secops devops" || got.Expires != "30d" || got.IDs.TenantID != "1" || got.IDs.OperatorID != "2" || got.File != "x.yaml" || got.SessionKeyC != "k.txt" {
		t.Fatalf("options %+v", got)
	}
	// A secret is no flag value: there is no --session-key-c.
	c = authtoken.NewCmdCreate(f, func(*authtoken.CreateOptions) error { return nil })
	c.SetArgs([]string{"--session-key-c", "x"})
	c.SilenceErrors, c.SilenceUsage = true, true
	if err := c.Execute(); err == nil {
		t.Fatal("--session-key-c was accepted")
	}
}

func TestGetAndDeleteArgs(t *testing.T) {
	f, in, _, _ := testFactory(t)
	in.WriteString("17000000000000100\n")
	var get *authtoken.GetOptions
	c := authtoken.NewCmdGet(f, func(o *authtoken.GetOptions) error { get = o; return nil })
	c.SetArgs([]string{"-"})
	if err := c.Execute(); err != nil || get.ID != "17000000000000100" {
		t.Fatalf("get -: %+v %v", get, err)
	}
	var del *authtoken.DeleteOptions
	c = authtoken.NewCmdDelete(f, func(o *authtoken.DeleteOptions) error { del = o; return nil })
	c.SetArgs([]string{"1", "2", "--concurrency", "2", "--operator", "9"})
	if err := c.Execute(); err != nil || strings.Join(del.IDs, ",") != "1,2" || del.Concurrency != 2 || del.SDWANIDs.OperatorID != "9" {
		t.Fatalf("delete: %+v %v", del, err)
	}
	c = authtoken.NewCmdDelete(f, func(*authtoken.DeleteOptions) error { return nil })
	c.SetArgs(nil)
	c.SilenceErrors, c.SilenceUsage = true, true
	if err := c.Execute(); exit.CodeOf(err) != exit.Usage {
		t.Fatalf("delete without ids: %v", err)
	}
}

// run executes tokenctl's root command in-process.
func run(t *testing.T, f *cmdutil.Factory, args ...string) error {
	t.Helper()
	root := cmd.NewCmdRoot(f)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	f.Cleanup()
	return err
}

// Bad input is exit 2 before anything runs: the built-in sandbox is never
// even started (its state file would appear).
func TestCreateValidatesBeforeConnecting(t *testing.T) {
	f, _, out, _ := testFactory(t)
	err := run(t, f, "--profile", "sandbox", "--platform", "sdwan", "authtoken", "create",
		"--role", "tenant_viewonly", "--role", "bogus", "--expires-at", "2001-01-01T00:00:00Z")
	if exit.CodeOf(err) != exit.Usage {
		t.Fatalf("got %v, want exit 2", err)
	}
	for _, want := range []string{`"bogus" is not a documented role`, "--expires-at: 2001-01-01T00:00:00Z is not in the future"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if out.Len() != 0 {
		t.Errorf("stdout: %q", out)
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("XDG_STATE_HOME"), "tokenctl", "sandbox.json")); err == nil {
		t.Error("the sandbox was started")
	}
}

// -o secret prints the secret alone: a newline only on a terminal.
func TestCreateSecretOutput(t *testing.T) {
	for _, tty := range []bool{false, true} {
		f, _, out, errOut := testFactory(t)
		f.IOStreams.SetTTY(false, tty, false)
		if err := run(t, f, "--profile", "sandbox", "--platform", "sdwan", "authtoken", "create", "--role", "tenant_viewonly", "--expires", "1h", "-o", "secret"); err != nil {
			t.Fatal(err)
		}
		s := out.String()
		secret := strings.TrimSuffix(s, "\n")
		if len(secret) != 64 || strings.HasSuffix(s, "\n") != tty {
			t.Errorf("tty=%v: stdout %q", tty, s)
		}
		if strings.Contains(errOut.String(), secret) || strings.Contains(errOut.String(), "warning") {
			t.Errorf("tty=%v: stderr %q", tty, errOut)
		}
	}
}

// A legacy profile without a token asks for it at a terminal, and fails
// with exit 2 naming the ways to give one elsewhere.
func TestStaticTokenPrompt(t *testing.T) {
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer func() { hs.Close(); srv.Close() }()

	f, _, out, _ := testFactory(t)
	if err := run(t, f, "profile", "set", "cgx", "--platform", "sdwan", "--api-generation", "legacy", "--server", hs.URL); err != nil {
		t.Fatal(err)
	}
	f, _, _, _ = testFactory2(t)
	err = run(t, f, "authtoken", "list")
	if exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "TOKENCTL_TOKEN") {
		t.Fatalf("without a terminal: %v", err)
	}

	f, _, out, _ = testFactory2(t)
	f.IOStreams.SetTTY(true, false, true)
	stub := &prompt.Stub{Passwords: []string{sdwansandbox.StaticAuthToken}}
	f.Prompter = stub
	if err := run(t, f, "authtoken", "list", "-o", "id"); err != nil {
		t.Fatal(err)
	}
	if len(stub.Asked) != 1 || !strings.Contains(stub.Asked[0], "static auth token") || !strings.Contains(out.String(), sdwansandbox.SystemTokenID) {
		t.Fatalf("asked %v; stdout %q", stub.Asked, out)
	}
}

// testFactory2 is a fresh factory in the same config and state directories.
func testFactory2(t *testing.T) (*cmdutil.Factory, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	ios, in, out, errOut := iostreams.Test()
	return cmdutil.NewFactory(ios, cmdutil.BuildInfo{Version: "test"}), in, out, errOut
}
