package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
)

func writeLazyConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenDecodesAProfileAsLoadDoes: every field of a profile comes out of
// Open the same as out of Load.
func TestOpenDecodesAProfileAsLoadDoes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	full := &Profile{Platform: SDWAN, Server: "https://sdwan.example.com", Auth: AuthOAuth, Username: "u", Password: "p",
		PasswordEnv: "PE", PasswordCommand: "pc", Token: "t", TokenEnv: "TE", TokenCommand: "tc", ClientID: "ci",
		ClientSecret: "cs", ClientSecretEnv: "CSE", ClientSecretCommand: "csc", TSGID: "1234", AuthURL: "https://auth.example.com",
		CertFile: "c.pem", KeyFile: "k.pem", CAFile: "ca.pem", Insecure: true, Thumbprint: "AB:CD", Timeout: "10s",
		SecretCommandTimeout: "45s", RPS: 2.5,
		TokenType: "baremetal", APIGeneration: "unified", APIVersion: "v2.0", TenantID: "77", OperatorID: "88"}
	err := Update(path, func(f *File) error {
		f.CurrentProfile = "full"
		f.Profiles["full"] = full
		f.Profiles["other"] = &Profile{Platform: SSP, Server: "https://ssp.example.com"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	p, ok, err := l.Profile("full")
	if err != nil || !ok {
		t.Fatalf("Profile: %v %v", ok, err)
	}
	if !reflect.DeepEqual(p, loaded.Profiles["full"]) || !reflect.DeepEqual(p, full) {
		t.Fatalf("Open decoded\n%+v\nLoad decoded\n%+v", p, loaded.Profiles["full"])
	}
	if l.Current() != "full" || !reflect.DeepEqual(l.Names(), loaded.Names()) {
		t.Fatalf("current %q names %v, want full %v", l.Current(), l.Names(), loaded.Names())
	}
	if _, ok, err := l.Profile("missing"); ok || err != nil {
		t.Fatalf("a missing profile: %v %v", ok, err)
	}
}

// TestOpenDecodesOnlyTheProfileUsed: a mistake in one profile stops the
// commands that use it, naming it, and not the commands that use another.
func TestOpenDecodesOnlyTheProfileUsed(t *testing.T) {
	path := writeLazyConfig(t, "current_profile: good\nprofiles:\n  good:\n    platform: ssp\n    server: https://ssp.example.com\n  typo:\n    platform: ssp\n    sever: https://x\n")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(l, overrides{})
	if err != nil || r.Name != "good" || r.Server != "https://ssp.example.com" {
		t.Fatalf("the good profile: %+v %v", r, err)
	}
	_, err = Resolve(l, overrides{"profile": flag("typo")})
	if err == nil || exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), `profile "typo"`) || !strings.Contains(err.Error(), "sever") {
		t.Fatalf("the profile with a typo: %v", err)
	}
	_, err = Resolve(l, overrides{"profile": flag("nope")})
	if err == nil || !strings.Contains(err.Error(), `profile "nope" not found; profiles: good, typo`) {
		t.Fatalf("an unknown profile: %v", err)
	}
}

func TestOpenRefusesWhatLoadRefuses(t *testing.T) {
	path := writeLazyConfig(t, "current_profle: a\nprofiles: {}\n")
	if _, err := Open(path); err == nil || exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "current_profle") {
		t.Fatalf("unknown top-level setting: %v", err)
	}
	path = writeLazyConfig(t, "profiles: [a, b]\n")
	if _, err := Open(path); err == nil || exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "profiles") {
		t.Fatalf("profiles not a map: %v", err)
	}
	path = writeLazyConfig(t, "profiles: {\n")
	if _, err := Open(path); err == nil || exit.CodeOf(err) != exit.Usage {
		t.Fatalf("broken YAML: %v", err)
	}
	path = writeLazyConfig(t, "profiles: {}\n")
	os.Chmod(path, 0o644)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("0644 config: %v", err)
	}
	if _, err := Open(t.TempDir()); err == nil || exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("a directory: %v", err)
	}
	l, err := Open(filepath.Join(t.TempDir(), "absent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(l, overrides{}); err == nil || !strings.Contains(err.Error(), "no profile") {
		t.Fatalf("no config file: %v", err)
	}
}
