package sandbox

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/iostreams"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

func testFactory() *cmdutil.Factory {
	ios, _, _, _ := iostreams.Test()
	return &cmdutil.Factory{IOStreams: ios}
}

// TestVdefendSSPArgs: the vendor's --mf=FILE --pp=P forms and the space
// forms parse alike; the host root and hostname come from the environment.
func TestVdefendSSPArgs(t *testing.T) {
	root := t.TempDir()
	t.Setenv(EnvHostRoot, root)
	t.Setenv(EnvHostname, "web-9")
	for _, args := range [][]string{
		{"--mf=m.txt", "--pp=Pass-Phrase-2026!"},
		{"--mf", "m.txt", "--pp", "Pass-Phrase-2026!"},
	} {
		var got *VdefendSSPOptions
		cmd := NewCmdVdefendSSP(testFactory(), func(o *VdefendSSPOptions) error { got = o; return nil })
		cmd.SetArgs(args)
		if err := cmd.Execute(); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if got.ManifestFile != "m.txt" || got.Passphrase != "Pass-Phrase-2026!" || got.Hostname != "web-9" || got.Host.root != root {
			t.Errorf("%v: %+v", args, got)
		}
	}
}

func TestVdefendInstallerArgs(t *testing.T) {
	t.Setenv(EnvHostRoot, "")
	var got *VdefendInstallerOptions
	cmd := NewCmdVdefendInstaller(testFactory(), func(o *VdefendInstallerOptions) error { got = o; return nil })
	cmd.SetArgs([]string{})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.InstallPath != DefaultInstallPath || got.LogPath != DefaultLogPath || got.Host.root != "" {
		t.Errorf("defaults %+v", got)
	}
	if p := got.Host.path("/opt/x"); p != "/opt/x" {
		t.Errorf("no root: %s", p)
	}
	if p := (host{root: "/tmp/h1"}).path("/opt/x"); p != filepath.Join("/tmp/h1", "opt", "x") {
		t.Errorf("with a root: %s", p)
	}
}

// TestShimExample: examples/vdefend-cli is the shim the installer bundle
// carries and the docs show.
func TestShimExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "examples", "vdefend-cli"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != ssp.ShimScript {
		t.Errorf("examples/vdefend-cli is %q, the bundle's shim %q", data, ssp.ShimScript)
	}
}

// TestHostPath: paths are prefixed by the host root, except those already
// inside it (an install script's --install-path in a demo), which would
// otherwise nest the root twice.
func TestHostPath(t *testing.T) {
	h := host{root: "/tmp/hosts/web-01"}
	for in, want := range map[string]string{
		"/opt/vmware/vdefend":                "/tmp/hosts/web-01/opt/vmware/vdefend",
		"/tmp/hosts/web-01/opt/vdefend":      "/tmp/hosts/web-01/opt/vdefend",
		"/tmp/hosts/web-01":                  "/tmp/hosts/web-01",
		"/tmp/hosts/web-010/opt":             "/tmp/hosts/web-01/tmp/hosts/web-010/opt",
		"/tmp/hosts/web-01/../web-02/opt":    "/tmp/hosts/web-01/tmp/hosts/web-02/opt",
		"/etc/vmware/vdefend/installer.json": "/tmp/hosts/web-01/etc/vmware/vdefend/installer.json",
	} {
		if got := h.path(in); got != want {
			t.Errorf("path(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (host{}).path("/opt/vmware/vdefend"); got != "/opt/vmware/vdefend" {
		t.Errorf("no root: path = %q", got)
	}
}
