package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
)

const commentedConfig = `# my tokenctl setup, kept in dotfiles
current_profile: prod # the one I use most

profiles:
  # production SSP; ask Jane before changing
  prod:
    platform: ssp
    server: https://ssp.example.com # behind the VPN
    username: admin
    password_env: PROD_PW
  # lab NSX manager
  lab:
    platform: nsx
    server: https://nsx.lab.example.com
    username: admin
`

func writeConfig(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateKeepsComments(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeConfig(t, path, commentedConfig)
	err := Update(path, func(f *File) error {
		f.Profiles["prod"].Username = "operator"
		f.Profiles["prod"].PasswordEnv = ""
		f.Profiles["prod"].PasswordCommand = "pass show ssp"
		f.Profiles["new"] = &Profile{Platform: Agent, Server: "https://bamboo.example.com", Username: "ci"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{
		"# my tokenctl setup, kept in dotfiles",
		"# the one I use most",
		"# production SSP; ask Jane before changing",
		"# behind the VPN",
		"# lab NSX manager",
		"username: operator",
		"password_command: pass show ssp",
		"new:",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("after Update the file lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "PROD_PW") {
		t.Errorf("a field set to empty stayed in the file:\n%s", got)
	}
	// The profiles keep their order (prod before lab), the new one comes last.
	if i, j, k := strings.Index(got, "prod:"), strings.Index(got, "lab:"), strings.Index(got, "new:"); !(i < j && j < k) {
		t.Errorf("profile order changed:\n%s", got)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Profiles["prod"].Username != "operator" || f.Profiles["new"].Platform != Agent || f.Profiles["lab"].Server != "https://nsx.lab.example.com" || f.CurrentProfile != "prod" {
		t.Fatalf("reloaded config: %+v", f)
	}
}

func TestUpdateDeletesProfileAndCurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	writeConfig(t, path, commentedConfig)
	err := Update(path, func(f *File) error {
		delete(f.Profiles, "prod")
		f.CurrentProfile = ""
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Profiles["prod"]; ok || f.CurrentProfile != "" || f.Profiles["lab"] == nil {
		t.Fatalf("after delete: %+v", f)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "# lab NSX manager") {
		t.Errorf("the other profile's comment was lost:\n%s", data)
	}
}

func TestUpdateNewFileHasHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokenctl", "config.yaml")
	if err := Update(path, func(f *File) error {
		f.Profiles["a"] = &Profile{Platform: SSP, Server: "https://a.example.com"}
		f.CurrentProfile = "a"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), configHeader) {
		t.Fatalf("new file does not start with the header:\n%s", data)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %o", fi.Mode().Perm())
	}
}

func TestUpdateWritesThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "dotfiles", "tokenctl.yaml")
	writeConfig(t, target, commentedConfig)
	link := filepath.Join(dir, "config", "tokenctl", "config.yaml")
	if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel(filepath.Dir(link), target)
	if err := os.Symlink(rel, link); err != nil {
		t.Fatal(err)
	}
	if err := Update(link, func(f *File) error {
		f.Profiles["lab"].Username = "labadmin"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("config.yaml is no longer a symbolic link: %v %v", fi.Mode(), err)
	}
	data, _ := os.ReadFile(target)
	if !strings.Contains(string(data), "username: labadmin") || !strings.Contains(string(data), "# lab NSX manager") {
		t.Fatalf("the link's target was not updated:\n%s", data)
	}
	// A dangling link: the write creates its target.
	dangling := filepath.Join(dir, "dangling.yaml")
	created := filepath.Join(dir, "elsewhere", "made.yaml")
	if err := os.MkdirAll(filepath.Dir(created), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(created, dangling); err != nil {
		t.Fatal(err)
	}
	if err := Update(dangling, func(f *File) error {
		f.Profiles["a"] = &Profile{Platform: SSP, Server: "https://a.example.com"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(dangling); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("dangling link replaced: %v", err)
	}
	if _, err := os.Stat(created); err != nil {
		t.Fatalf("the dangling link's target was not created: %v", err)
	}
}

func TestConfigPathIsDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"Load":   func() error { _, err := Load(dir); return err }(),
		"Update": Update(dir, func(*File) error { return nil }),
	} {
		if err == nil || exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "is a directory") || strings.Contains(err.Error(), "chmod") {
			t.Errorf("%s of a directory: %v (exit %d)", name, err, exit.CodeOf(err))
		}
	}
}

func TestUpdateRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	writeConfig(t, path, commentedConfig)
	stale := []string{filepath.Join(dir, ".config.yaml.tmp-123"), filepath.Join(dir, ".config.yaml.tmp-abc")}
	for _, s := range stale {
		writeConfig(t, s, "half a file")
	}
	other := filepath.Join(dir, ".other.yaml.tmp-1")
	writeConfig(t, other, "not ours")
	if err := Update(path, func(f *File) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, s := range stale {
		if _, err := os.Stat(s); !os.IsNotExist(err) {
			t.Errorf("%s survived the next write", s)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another file's temporary was removed: %v", err)
	}
}
