package main

import (
	"archive/zip"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVersionAfterGoInstall installs tokenctl the way `go install
// github.com/tokenctl/tokenctl@VERSION` does, from a module proxy on the
// local file system (this tree, zipped as the proxy would serve it; its
// dependencies from the module cache), with no -ldflags: `tokenctl version`
// reports the module version, and for a pseudo-version the commit and its
// time, instead of "dev (commit none, built unknown)" (issue 13 item 7).
func TestVersionAfterGoInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tokenctl twice through a module proxy")
	}
	gomodcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	depsProxy := filepath.Join(strings.TrimSpace(string(gomodcache)), "cache", "download")
	if _, err := os.Stat(depsProxy); err != nil {
		t.Skipf("no module cache to serve the dependencies: %v", err)
	}
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	const module = "github.com/tokenctl/tokenctl"
	// One install (a build costs minutes on a busy machine): a
	// pseudo-version carries all three, the module version, the commit
	// and its time. Release versions take the same path (TestResolve in
	// internal/build covers the rest).
	versions := map[string]string{"v0.0.0-20260102030405-abcdef123456": "2026-01-02T03:04:05Z"}
	for v, when := range versions {
		writeModuleVersion(t, filepath.Join(proxy, module, "@v"), module, v, when)
	}
	// No tagged versions; @latest is the pseudo-version (the go command
	// asks, for deprecation notices).
	if err := os.WriteFile(filepath.Join(proxy, module, "@v", "list"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	latest, _ := json.Marshal(map[string]string{"Version": "v0.0.0-20260102030405-abcdef123456", "Time": "2026-01-02T03:04:05Z"})
	if err := os.WriteFile(filepath.Join(proxy, module, "@latest"), latest, 0o644); err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(tmp, "bin")
	env := append(os.Environ(),
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(depsProxy),
		"GOSUMDB=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off",
		"GOPATH="+filepath.Join(tmp, "gopath"), "GOMODCACHE="+filepath.Join(tmp, "modcache"), "GOBIN="+bin,
	)
	for v, when := range versions {
		// -trimpath keeps the build cache keys free of this run's module
		// cache path, so later runs of the test reuse the compiled packages.
		cmd := exec.Command("go", "install", "-trimpath", module+"@"+v)
		cmd.Dir = tmp
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go install %s: %v\n%s", v, err, out)
		}
		out, err := exec.Command(filepath.Join(bin, "tokenctl"), "version", "-o", "json").Output()
		if err != nil {
			t.Fatal(err)
		}
		var info struct{ Version, Commit, Date string }
		if err := json.Unmarshal(out, &info); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if info.Version != strings.TrimPrefix(v, "v") {
			t.Errorf("installed %s reports version %q", v, info.Version)
		}
		if strings.Contains(v, "abcdef123456") && (info.Commit != "abcdef123456" || info.Date != when) {
			t.Errorf("installed %s reports commit %q, date %q", v, info.Commit, info.Date)
		}
	}
	// Tidy the read-only module cache the installs made.
	exec.Command("chmod", "-R", "u+w", filepath.Join(tmp, "modcache")).Run()
}

// writeModuleVersion writes what a module proxy serves for one version:
// .info, .mod and .zip of the module in the working directory.
func writeModuleVersion(t *testing.T, dir, module, version, when string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": when})
	if err := os.WriteFile(filepath.Join(dir, version+".info"), info, 0o644); err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, version+".mod"), mod, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	prefix := module + "@" + version + "/"
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "docs" || d.Name() == "completions") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		w, err := zw.Create(prefix + filepath.ToSlash(path))
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
