package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
)

type overrides map[string]struct {
	v   string
	src Source
}

func (o overrides) Lookup(k string) (string, Source, bool) {
	e, ok := o[k]
	return e.v, e.src, ok
}

func flag(v string) struct {
	v   string
	src Source
} {
	return struct {
		v   string
		src Source
	}{v, FromFlag}
}

func env(v string) struct {
	v   string
	src Source
} {
	return struct {
		v   string
		src Source
	}{v, FromEnv}
}

func testFile() *File {
	return &File{CurrentProfile: "prod", Profiles: map[string]*Profile{
		"prod": {Platform: SSP, Server: "https://ssp.example.com", Username: "admin", PasswordEnv: "PROD_PW", Timeout: "10s"},
		"nsx1": {Platform: NSX, Server: "https://nsx.example.com", Username: "admin"},
	}}
}

func TestResolvePrecedence(t *testing.T) {
	f := testFile()
	r, err := Resolve(f, overrides{})
	if err != nil || r.Name != "prod" || r.Server != "https://ssp.example.com" {
		t.Fatalf("current profile: %+v %v", r, err)
	}
	r, _ = Resolve(f, overrides{"profile": env("nsx1")})
	if r.Name != "nsx1" {
		t.Fatalf("env profile: %s", r.Name)
	}
	r, _ = Resolve(f, overrides{"profile": flag("prod"), "server": env("https://other")})
	if r.Server != "https://other" {
		t.Fatalf("env server over profile: %s", r.Server)
	}
	r, _ = Resolve(f, overrides{"timeout": flag("3s")})
	if d, _ := r.TimeoutDuration(); d.Seconds() != 3 {
		t.Fatalf("flag timeout over profile: %v", d)
	}
	t.Setenv("PROD_PW", "from-env-var")
	r, _ = Resolve(f, overrides{})
	if pw, ok, err := r.Password(context.Background()); pw != "from-env-var" || !ok || err != nil {
		t.Fatalf("password_env: %q %v %v", pw, ok, err)
	}
	r, _ = Resolve(f, overrides{"password": env("from-TOKENCTL_PASSWORD")})
	if pw, _, _ := r.Password(context.Background()); pw != "from-TOKENCTL_PASSWORD" {
		t.Fatalf("TOKENCTL_PASSWORD over profile: %q", pw)
	}
}

func TestResolveErrors(t *testing.T) {
	f := testFile()
	cases := []struct {
		name string
		f    *File
		ov   overrides
		want string
	}{
		{"no profile", &File{Profiles: map[string]*Profile{}}, overrides{}, "no profile"},
		{"unknown profile", f, overrides{"profile": flag("nope")}, `profile "nope" not found; profiles: nsx1, prod`},
		{"platform conflict", f, overrides{"platform": flag("nsx")}, "--platform nsx conflicts with profile \"prod\""},
		{"platform env conflict", f, overrides{"platform": env("agent")}, "TOKENCTL_PLATFORM agent conflicts"},
		{"bad platform", f, overrides{"platform": flag("vcenter")}, `--platform "vcenter": must be one of ssp, nsx, sdwan, agent`},
		{"server without platform", &File{Profiles: map[string]*Profile{}}, overrides{"server": flag("https://x")}, "--server without a profile needs --platform"},
		{"sandbox with server flag", f, overrides{"profile": flag("sandbox"), "server": flag("https://x")}, "--server cannot be used with --profile sandbox"},
	}
	for _, c := range cases {
		_, err := Resolve(c.f, c.ov)
		if err == nil || !strings.Contains(err.Error(), c.want) || exit.CodeOf(err) != exit.Usage {
			t.Errorf("%s: got %v (exit %d), want %q (exit 2)", c.name, err, exit.CodeOf(err), c.want)
		}
	}
}

func TestSandboxIgnoresServerAndCredentialEnv(t *testing.T) {
	r, err := Resolve(testFile(), overrides{"profile": flag("sandbox"), "server": env("https://prod"), "username": env("root"), "password": env("x"), "platform": flag("nsx")})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Sandbox || r.Platform != NSX || r.Server != "" || r.Username != "admin" {
		t.Fatalf("sandbox profile: %+v", r)
	}
	if _, ok, _ := r.Password(context.Background()); ok {
		t.Fatal("the sandbox took TOKENCTL_PASSWORD")
	}
}

func TestPasswordCommand(t *testing.T) {
	r := &Resolved{Name: "p", Profile: Profile{PasswordCommand: "printf 'from-command\\n'"}}
	pw, ok, err := r.Password(context.Background())
	if pw != "from-command" || !ok || err != nil {
		t.Fatalf("got %q %v %v", pw, ok, err)
	}
	r.PasswordCommand = "exit 3"
	if _, _, err := r.Password(context.Background()); err == nil || !strings.Contains(err.Error(), "password_command failed") {
		t.Fatalf("failing command: %v", err)
	}
}

func TestLoadRefusesReadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte("profiles: {}\n"), 0o644)
	_, err := Load(path)
	if err == nil || exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("0644 config: %v", err)
	}
	os.Chmod(path, 0o600)
	if _, err := Load(path); err != nil {
		t.Fatal(err)
	}
}

func TestLoadNamesUnknownKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(path, []byte("profiles:\n  a:\n    platform: ssp\n    sever: https://x\n"), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "sever") {
		t.Fatalf("typo in config: %v", err)
	}
}

// TestConcurrentUpdatesLoseNothing: 20 writers at once leave a valid 0600
// file holding every profile.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokenctl", "config.yaml")
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := Update(path, func(f *File) error {
				f.Profiles[fmt.Sprintf("p%02d", i)] = &Profile{Platform: SSP, Server: "https://x"}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Profiles) != 20 {
		t.Fatalf("%d profiles after 20 concurrent writes", len(f.Profiles))
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", fi.Mode().Perm())
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"prod", "nsx-01", "a_b"} {
		if ValidateName(ok) != nil {
			t.Errorf("%q rejected", ok)
		}
	}
	for _, bad := range []string{"", "Prod", "a.b", "sandbox", "-x", strings.Repeat("a", 64)} {
		if ValidateName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCache(t *testing.T) {
	c := NewCache(filepath.Join(t.TempDir(), "cache.json"))
	var v string
	if c.Get("https://x/", "k", &v) {
		t.Fatal("empty cache had a value")
	}
	if err := c.Set("https://x/", "k", "legacy"); err != nil {
		t.Fatal(err)
	}
	if !c.Get("https://x", "k", &v) || v != "legacy" {
		t.Fatalf("got %q", v)
	}
	fi, _ := os.Stat(c.Path())
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("cache mode %o", fi.Mode().Perm())
	}
	os.WriteFile(c.Path(), []byte("not json"), 0o600)
	if c.Get("https://x", "k", &v) {
		t.Fatal("a damaged cache returned a value")
	}
	if err := c.Set("https://x", "k", "again"); err != nil {
		t.Fatalf("a damaged cache cannot be rewritten: %v", err)
	}
}
