package cmdutil

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// Credentials for a plain http:// server draw one warning per run; https
// and loopback servers none (issue 13 item 9). Building the client sends
// nothing, so the .invalid hosts are never looked up.
func TestPlainHTTPWarning(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	data := `profiles:
  plain: {platform: ssp, server: "http://ssp.example.invalid:8080", username: admin}
  tls: {platform: ssp, server: "https://ssp.example.invalid", username: admin}
  local: {platform: agent, server: "http://127.0.0.1:8085", username: admin}
  lh: {platform: nsx, server: "http://localhost:8080", username: admin}
  cgx: {platform: sdwan, api_generation: legacy, server: "http://api.example.invalid", token: t0ken-value}
`
	if err := os.WriteFile(cfg, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TOKENCTL_CONFIG", cfg)
	t.Setenv("TOKENCTL_PASSWORD", "pw-value")
	for name, want := range map[string]string{
		"plain": "warning: http://ssp.example.invalid:8080 is plain HTTP: your user name and password (HTTP Basic) will cross the network unencrypted; use https://\n",
		"cgx":   "warning: http://api.example.invalid is plain HTTP: your static X-Auth-Token will cross the network unencrypted; use https://\n",
		"tls":   "",
		"local": "",
		"lh":    "",
	} {
		ios, _, _, errOut := iostreams.Test()
		f := NewFactory(ios, BuildInfo{Version: "test"})
		root := &cobra.Command{Use: "tokenctl"}
		f.AddGlobalFlags(root)
		t.Setenv("TOKENCTL_PROFILE", name)
		for range 3 {
			if _, _, err := f.APIClient(context.Background()); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if got := errOut.String(); got != want {
			t.Errorf("%s: stderr %q, want %q", name, got, want)
		}
		if strings.Contains(errOut.String(), "pw-value") {
			t.Errorf("%s: the warning shows the password", name)
		}
	}
}
