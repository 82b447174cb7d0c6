package installscript

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dash runs the scripts: Debian's /bin/sh, and the strictest common POSIX
// shell. CI installs it (apt-get install dash) when absent; locally the
// test skips without it.
func dash(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("dash")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dash is not installed (CI is set, so this fails): apt-get install dash")
		}
		t.Skip("dash is not installed; skipping the run under dash (apt-get install dash)")
	}
	return p
}

// A manifest with everything a shell could misread.
const trickyManifest = "eyJzc3AiOiJodHRwOi8vMTI3LjAuMC4xIn0=\n'quoted' \"double\" $(touch /tmp/pwned) `x` \\ $HOME\n\ttab"

const passphrase = `It's-a-Pass\phrase$1!`

// shim is a stand-in vdefend-cli: it logs its arguments, copies the manifest
// it is given and records the file's mode, and fails or sleeps on request.
const shim = `#!/bin/sh
printf '%s\n' "$*" >>"$SHIM_DIR/log"
case "$1 $2 $3" in
"install bms installer")
	mkdir -p "$5" && : >"$5/installer"
	exit "${SHIM_INSTALLER_RC:-0}"
	;;
"install bms ssp")
	mf=${4#--mf=}
	cp "$mf" "$SHIM_DIR/manifest"
	stat -c %a "$mf" >"$SHIM_DIR/mode"
	printf '%s' "$mf" >"$SHIM_DIR/mfpath"
	printf '%s' "${5#--pp=}" >"$SHIM_DIR/pp"
	if [ -n "${SHIM_SLEEP:-}" ]; then
		: >"$SHIM_DIR/started"
		sleep "$SHIM_SLEEP"
	fi
	exit "${SHIM_SSP_RC:-0}"
	;;
esac
exit 64
`

type host struct {
	t       *testing.T
	dir     string // shim's files
	bin     string // PATH entry with the shim
	tmp     string // TMPDIR of the script
	install string // install path
	script  string
}

func newHost(t *testing.T, s Script) *host {
	t.Helper()
	root := t.TempDir()
	h := &host{t: t, dir: filepath.Join(root, "shim"), bin: filepath.Join(root, "bin"), tmp: filepath.Join(root, "tmp"), install: filepath.Join(root, "opt", "vdefend")}
	for _, d := range []string{h.dir, h.bin, h.tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(h.bin, "vdefend-cli"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}
	s.InstallPath = h.install
	out, err := s.Render()
	if err != nil {
		t.Fatal(err)
	}
	h.script = filepath.Join(root, "install.sh")
	if err := os.WriteFile(h.script, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *host) cmd(env []string, args ...string) *exec.Cmd {
	c := exec.Command(dash(h.t), append([]string{"-s", "--"}, args...)...)
	script, err := os.Open(h.script)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { script.Close() })
	c.Stdin = script // piped, as `... | ssh host sudo sh -s -- ARGS`
	c.Env = append([]string{"PATH=" + h.bin + ":/usr/bin:/bin", "TMPDIR=" + h.tmp, "SHIM_DIR=" + h.dir}, env...)
	return c
}

// run pipes the script into dash and returns its exit code and stderr.
func (h *host) run(env []string, args ...string) (int, string) {
	h.t.Helper()
	c := h.cmd(env, args...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	h.t.Fatal(err)
	return 0, ""
}

func (h *host) calls() []string {
	b, err := os.ReadFile(filepath.Join(h.dir, "log"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func (h *host) read(name string) string {
	b, err := os.ReadFile(filepath.Join(h.dir, name))
	if err != nil {
		h.t.Fatal(err)
	}
	return string(b)
}

// noTempFiles fails when the script left anything in its TMPDIR.
func (h *host) noTempFiles() {
	h.t.Helper()
	left, _ := os.ReadDir(h.tmp)
	for _, e := range left {
		h.t.Errorf("left behind in TMPDIR: %s", e.Name())
	}
}

func TestSyntaxUnderShAndDash(t *testing.T) {
	for _, s := range []Script{
		{TokenID: "id", Manifest: trickyManifest, Passphrase: passphrase},
		{TokenID: "id", Manifest: trickyManifest, HostPassphraseFile: "/etc/vdefend/pp with 'space'"},
	} {
		out, err := s.Render()
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range []string{"sh", "dash", "bash"} {
			path, err := exec.LookPath(sh)
			if err != nil {
				continue
			}
			args := []string{"-n"}
			if sh == "bash" {
				args = []string{"--posix", "-n"}
			}
			c := exec.Command(path, args...)
			c.Stdin = bytes.NewReader(out)
			if msg, err := c.CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", sh, err, msg)
			}
		}
	}
}

func TestInstallOnceThenGuard(t *testing.T) {
	h := newHost(t, Script{TokenID: "613b203e-d183-4311-b0e2-bfd90b518f20", DisplayName: "web-01", Manifest: trickyManifest, Passphrase: passphrase})
	code, stderr := h.run(nil)
	if code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	calls := h.calls()
	if len(calls) != 2 || calls[0] != "install bms installer --install-path "+h.install || !strings.HasPrefix(calls[1], "install bms ssp --mf="+h.tmp+"/tokenctl-manifest.") {
		t.Fatalf("vdefend-cli calls:\n%s", strings.Join(calls, "\n"))
	}
	if got := h.read("manifest"); got != trickyManifest {
		t.Errorf("the installer read the manifest\n%q\nwant\n%q", got, trickyManifest)
	}
	if got := strings.TrimSpace(h.read("mode")); got != "600" {
		t.Errorf("manifest file mode %s, want 600", got)
	}
	if got := h.read("pp"); got != passphrase {
		t.Errorf("--pp=%q, want %q", got, passphrase)
	}
	h.noTempFiles()
	if _, err := os.Stat("/tmp/pwned"); err == nil {
		t.Error("the manifest's $(...) ran")
	}
	marker, err := os.ReadFile(filepath.Join(h.install, MarkerName))
	if err != nil || !strings.Contains(string(marker), "token_id=613b203e-d183-4311-b0e2-bfd90b518f20\n") {
		t.Fatalf("marker: %q, %v", marker, err)
	}

	// Run twice, install once.
	code, stderr = h.run(nil)
	if code != 0 || len(h.calls()) != 2 || !strings.Contains(stderr, "already registered") {
		t.Fatalf("second run: exit %d, calls %q\n%s", code, h.calls(), stderr)
	}
	// --force installs again; the installer is already in place.
	code, stderr = h.run(nil, "--force")
	calls = h.calls()
	if code != 0 || len(calls) != 3 || !strings.HasPrefix(calls[2], "install bms ssp ") || !strings.Contains(stderr, "installer is already in") {
		t.Fatalf("--force: exit %d, calls %q\n%s", code, calls, stderr)
	}
	h.noTempFiles()
}

func TestInstallPathOption(t *testing.T) {
	h := newHost(t, Script{TokenID: "t", Manifest: "m", Passphrase: passphrase})
	other := filepath.Join(filepath.Dir(h.install), "elsewhere")
	if code, stderr := h.run(nil, "--install-path", other); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(other, MarkerName)); err != nil {
		t.Fatal(err)
	}
	if code, _ := h.run(nil, "--install-path="+other); code != 0 || len(h.calls()) != 2 {
		t.Fatalf("--install-path=DIR did not find the marker: exit %d, calls %q", code, h.calls())
	}
	for _, args := range [][]string{{"--install-path"}, {"--reinstall"}} {
		if code, stderr := h.run(nil, args...); code != 2 || !strings.Contains(stderr, "install script:") {
			t.Errorf("%v: exit %d, %s", args, code, stderr)
		}
	}
}

func TestHostPassphraseFile(t *testing.T) {
	dir := t.TempDir()
	ppFile := filepath.Join(dir, "pp file")
	h := newHost(t, Script{TokenID: "t", Manifest: "m", HostPassphraseFile: ppFile})
	if code, stderr := h.run(nil); code != 2 || !strings.Contains(stderr, "cannot read the passphrase file "+ppFile) || h.calls() != nil {
		t.Fatalf("missing file: exit %d, calls %q\n%s", code, h.calls(), stderr)
	}
	if err := os.WriteFile(ppFile, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := h.run(nil); code != 2 || !strings.Contains(stderr, "is empty") {
		t.Fatalf("empty file: exit %d\n%s", code, stderr)
	}
	if err := os.WriteFile(ppFile, []byte(passphrase+"\r\nsecond line\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := h.run(nil); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if got := h.read("pp"); got != passphrase {
		t.Errorf("--pp=%q, want the file's first line %q", got, passphrase)
	}
	out, _ := os.ReadFile(h.script)
	if bytes.Contains(out, []byte(passphrase)) {
		t.Error("the script embeds the passphrase it should read on the host")
	}
}

func TestFailuresLeaveNoMarkerAndNoManifest(t *testing.T) {
	h := newHost(t, Script{TokenID: "t", Manifest: "m", Passphrase: passphrase})
	if code, stderr := h.run([]string{"SHIM_INSTALLER_RC=3"}); code != 3 || !strings.Contains(stderr, "install bms installer failed (exit 3)") {
		t.Fatalf("installer failure: exit %d\n%s", code, stderr)
	}
	if code, stderr := h.run([]string{"SHIM_SSP_RC=5"}); code != 5 || !strings.Contains(stderr, "install bms ssp failed (exit 5)") {
		t.Fatalf("ssp failure: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(h.install, MarkerName)); err == nil {
		t.Error("a failed install wrote the marker")
	}
	h.noTempFiles()
	// Without vdefend-cli on PATH.
	c := h.cmd(nil)
	c.Env[0] = "PATH=/usr/bin:/bin"
	var stderr bytes.Buffer
	c.Stderr = &stderr
	err := c.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 127 || !strings.Contains(stderr.String(), "vdefend-cli is not on PATH") {
		t.Fatalf("no vdefend-cli: %v\n%s", err, stderr.String())
	}
}

func TestSignalRemovesManifest(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			h := newHost(t, Script{TokenID: "t", Manifest: "m", Passphrase: passphrase})
			c := h.cmd([]string{"SHIM_SLEEP=60"})
			c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			started := filepath.Join(h.dir, "started")
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if _, err := os.Stat(started); err == nil {
					break
				}
				if time.Now().After(deadline) {
					c.Process.Kill()
					t.Fatal("the installer never started")
				}
			}
			mf := h.read("mfpath")
			if _, err := os.Stat(mf); err != nil {
				t.Fatalf("the manifest file is missing while the installer runs: %v", err)
			}
			// The terminal's signal goes to the whole process group.
			if err := syscall.Kill(-c.Process.Pid, sig); err != nil {
				t.Fatal(err)
			}
			err := c.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("script ended with %v", err)
			}
			want := map[syscall.Signal]int{syscall.SIGHUP: 129, syscall.SIGINT: 130, syscall.SIGTERM: 143}[sig]
			if ee.ExitCode() != want {
				t.Errorf("exit %d, want %d", ee.ExitCode(), want)
			}
			if _, err := os.Stat(mf); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the manifest file %s survived the signal", mf)
			}
			h.noTempFiles()
		})
	}
}

func TestRenderRefuses(t *testing.T) {
	for name, s := range map[string]Script{
		"no manifest":       {Passphrase: passphrase},
		"no passphrase":     {Manifest: "m"},
		"NUL in manifest":   {Manifest: "a\x00b", Passphrase: passphrase},
		"newline in secret": {Manifest: "m", Passphrase: "a\nb"},
	} {
		if _, err := s.Render(); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}
