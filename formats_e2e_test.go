package main

import (
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// TestFormatsRefusedBeforeAnyRequest runs every command with each of -o id,
// manifest, secret and install-script that it cannot print (each command declares what it
// prints through its output Kind, one object or a list): each is exit 2
// naming the format, and the sandbox receives no request at all.
func TestFormatsRefusedBeforeAnyRequest(t *testing.T) {
	srv, url, _ := startProcSandbox(t, sandbox.Options{Options: sim.Options{Seed: 1, SeedSensors: 3}})
	e := newProcEnv(t)
	e.Set("SBX_PASSWORD", sim.DefaultPassword)
	e.Set("SDWAN_TOKEN", sdwan.StaticAuthToken)
	for _, p := range [][]string{
		{"ssp", "--platform", "ssp", "--username", "admin", "--password-env", "SBX_PASSWORD"},
		{"nsx", "--platform", "nsx", "--username", "admin", "--password-env", "SBX_PASSWORD"},
		{"agent", "--platform", "agent", "--username", "admin", "--password-env", "SBX_PASSWORD"},
		{"sdwan", "--platform", "sdwan", "--api-generation", "legacy", "--token-env", "SDWAN_TOKEN"},
	} {
		if r := e.Run(t, "", append([]string{"profile", "set", p[0], "--server", url}, p[1:]...)...); r.Code != 0 {
			t.Fatalf("profile set %s: %s", p[0], r.Stderr)
		}
	}
	const uuid = "aad3ff20-ad06-49bb-ad0a-a074c7287675"
	cases := []struct {
		profile string
		args    string
		refused string // formats among id, manifest, secret and install-script it cannot print
	}{
		// The pairs of issue 16 item 7.
		{"ssp", "token list", "manifest secret"},
		{"ssp", "token status", "manifest secret"},
		// Every other command, by what it prints.
		{"ssp", "token list --type baremetal", "manifest secret"},
		{"ssp", "token list --sort-by expires", "manifest secret"},
		{"ssp", "token status --type baremetal", "manifest secret"},
		{"ssp", "token status " + uuid, "secret"},
		{"ssp", "token get " + uuid, "secret"},
		{"ssp", "token create --display-name x --passphrase-stdin", "secret"},
		{"ssp", "token delete " + uuid + " --yes", "manifest secret"},
		{"ssp", "sensor list", "manifest secret"},
		{"ssp", "sensor details", "manifest secret"},
		{"ssp", "sensor get " + uuid, "manifest secret"},
		{"ssp", "sensor update " + uuid + " --display-name x", "manifest secret"},
		{"ssp", "sensor delete " + uuid + " --yes", "manifest secret"},
		{"ssp", "sensor status " + uuid, "id manifest secret"},
		{"ssp", "sensor signatures " + uuid, "manifest secret"},
		{"ssp", "sensor features " + uuid, "id manifest secret"},
		{"ssp", "sensor features set --flows enable " + uuid, "manifest secret"},
		{"ssp", "sensor mps get", "id manifest secret"},
		{"ssp", "sensor mps set --document-file-type=true", "id manifest secret"},
		{"ssp", "sensor versions", "manifest secret"},
		{"ssp", "profile check", "id manifest secret"},
		{"ssp", "token list", "install-script"},
		{"ssp", "token status --type baremetal", "install-script"},
		{"ssp", "token get " + uuid, "install-script"},
		{"ssp", "token wait " + uuid, "manifest secret install-script"},
		{"ssp", "baremetal list", "manifest secret install-script"},
		{"ssp", "baremetal details", "manifest secret"},
		{"ssp", "baremetal get " + uuid, "manifest secret install-script"},
		{"ssp", "baremetal status " + uuid, "manifest secret"},
		{"ssp", "baremetal summary", "id manifest secret"},
		{"ssp", "baremetal task " + uuid, "manifest secret"},
		{"ssp", "baremetal uninstall " + uuid + " --yes", "manifest secret"},
		{"ssp", "baremetal upgrade " + uuid + " --yes", "manifest secret"},
		{"ssp", "apply -f plan.yaml", "id manifest secret"},
		{"ssp", "diff -f plan.yaml", "id manifest secret"},
		{"nsx", "token get nsx-token-value", "id manifest secret"},
		{"nsx", "token create", "manifest"},
		{"nsx", "token delete nsx-token-value --yes", "id manifest secret"},
		{"agent", "token list", "manifest secret"},
		{"agent", "token get " + uuid, "manifest"},
		{"agent", "token update " + uuid + " --read", "manifest"},
		{"agent", "token create --name x", "manifest"},
		{"agent", "token delete " + uuid + " --yes", "id manifest secret"},
		{"sdwan", "authtoken list", "manifest secret"},
		{"sdwan", "authtoken get 17000000000000043", "manifest secret"},
		{"sdwan", "authtoken delete 17000000000000043 --yes", "manifest secret"},
		{"sdwan", "authtoken create --role tenant_viewonly", "manifest"},
	}
	n := 0
	for _, c := range cases {
		for _, format := range strings.Fields(c.refused) {
			before := srv.Requests()
			args := append([]string{"--profile", c.profile}, strings.Fields(c.args)...)
			args = append(args, "-o", format)
			r := e.Run(t, "Refused-Passphrase-1!\n", args...)
			if r.Code != 2 || !strings.Contains(r.Stderr, "-o "+format) {
				t.Errorf("%s: exit %d, want 2 naming -o %s:\n%s", strings.Join(args, " "), r.Code, format, r.Stderr)
			}
			if sent := srv.Requests() - before; sent != 0 {
				t.Errorf("%s: %d requests sent before the refusal", strings.Join(args, " "), sent)
			}
			n++
		}
	}
	t.Logf("%d command/format pairs refused before sending", n)
	// The counter sees what a command that runs sends.
	before := srv.Requests()
	if r := e.Run(t, "", "--profile", "ssp", "token", "list", "-o", "id"); r.Code != 0 || srv.Requests() == before {
		t.Fatalf("token list -o id: exit %d, %d requests", r.Code, srv.Requests()-before)
	}
}
