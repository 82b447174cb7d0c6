package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// TestDryRunSendsNoWrites runs every command that changes something, on
// every platform and auth method, with --dry-run against one sandbox, and
// proves with the sandbox's request log that no write request reached it
// (the log's classification is the sandbox's routes, not the client's),
// that each command exits 0 having printed at least one planned change,
// that stdout holds the plan as JSON with -o json and nothing for the
// single-value formats, and that no local file was written. The objects
// the deletes and updates name exist, so that each command gets as far as
// its change.
func TestDryRunSendsNoWrites(t *testing.T) {
	pe := newProcEnv(t)
	statePath := filepath.Join(pe.Dir, "sandbox-state.json")
	log := &requestLog{}
	_, url, _ := startProcSandbox(t, sandbox.Options{
		Options:   sim.Options{Seed: 1, SeedSensors: 30},
		StatePath: statePath,
		OnRequest: log.add,
	})
	pe.Set("SRV_PW", sim.DefaultPassword)
	pe.Set("SDWAN_TOKEN", "tokenctl-sandbox-token")
	pe.Set("TOKENCTL_PASSPHRASE", faultPassphrase)
	for _, args := range [][]string{
		{"profile", "set", "ssp", "--platform", "ssp", "--server", url, "--username", "admin", "--password-env", "SRV_PW"},
		{"profile", "set", "nsx", "--platform", "nsx", "--server", url, "--username", "admin", "--password-env", "SRV_PW"},
		{"profile", "set", "nsxs", "--platform", "nsx", "--auth", "session", "--server", url, "--username", "admin", "--password-env", "SRV_PW"},
		{"profile", "set", "agent", "--platform", "agent", "--server", url, "--username", "admin", "--password-env", "SRV_PW"},
		{"profile", "set", "cgx", "--platform", "sdwan", "--api-generation", "legacy", "--server", url, "--token-env", "SDWAN_TOKEN"},
		{"profile", "set", "sase", "--platform", "sdwan", "--api-generation", "unified", "--server", url, "--client-id", "tokenctl-sandbox",
			"--client-secret-env", "SRV_PW", "--tsg-id", "1999000042", "--auth-url", url + "/oauth2/access_token"},
	} {
		if r := pe.Run(t, "", args...); r.Code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	// Objects for the deletes and updates to name (really created).
	made := func(args ...string) string {
		t.Helper()
		r := pe.Run(t, "", args...)
		if r.Code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
		return strings.TrimSpace(r.Stdout)
	}
	sspToken := made("--profile", "ssp", "token", "create", "--display-name", "dry-keep", "-o", "id")
	bmToken := made("--profile", "ssp", "token", "create", "--type", "baremetal", "--display-name", "dry-host", "-o", "id")
	sensorID := strings.Fields(made("--profile", "ssp", "sensor", "list", "--limit", "1", "-o", "id"))[0]
	// A baremetal server (the host installer's registration, a control route).
	reg, _ := json.Marshal(map[string]string{"token_id": bmToken, "passphrase": faultPassphrase, "hostname": "dry-host-1"})
	resp, err := http.Post(url+"/_sandbox/ssp/register", "application/json", bytes.NewReader(reg))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("registering a baremetal server: %v %v", err, resp)
	}
	resp.Body.Close()
	nsxToken := made("--profile", "nsx", "token", "create", "-o", "secret")
	agentUUID := made("--profile", "agent", "token", "create", "--name", "dry-agent", "--read", "-o", "secret")
	cgxToken := made("--profile", "cgx", "authtoken", "create", "--role", "tenant_viewonly", "--expires", "24h", "-o", "id")
	saseToken := made("--profile", "sase", "authtoken", "create", "--role", "tenant_viewonly", "--expires", "24h", "-o", "id")

	for name, body := range map[string]string{
		"ssp.yaml":   "display_name: dry-a\n---\ndisplay_name: dry-b\n",
		"agent.yaml": "name: dry-a\nread: true\n---\nname: dry-b\nchange: true\n",
		"sdwan.yaml": "roles: [{name: tenant_viewonly}]\n---\nroles: [{name: esp_user}]\n",
		"mps.json":   `{"document_file_type":true,"executable_file_type":true,"media_file_type":false,"archive_file_type":true,"data_file_type":true,"script_file_type":true,"other_file_type":false}`,
	} {
		if err := os.WriteFile(filepath.Join(pe.Dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	config, err := os.ReadFile(pe.ConfigPath())
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		args  []string
		stdin string
		// changes is how many changes the plan must hold.
		changes int
	}{
		{[]string{"--profile", "ssp", "token", "create", "--display-name", "dry-x", "--generate-passphrase", "--passphrase-file", "gen-pp.txt"}, "", 1},
		{[]string{"--profile", "ssp", "token", "create", "--display-name", "dry-x", "-o", "manifest"}, "", 1},
		{[]string{"--profile", "ssp", "token", "create", "--type", "baremetal", "--display-name", "dry-y", "-o", "manifest"}, "", 1},
		{[]string{"--profile", "ssp", "token", "create", "-f", "ssp.yaml", "-o", "json"}, "", 2},
		{[]string{"--profile", "ssp", "token", "create", "-f", "-", "--concurrency", "1"}, "display_name: dry-stdin\n", 1},
		{[]string{"--profile", "ssp", "token", "delete", sspToken, bmToken}, "", 2},
		{[]string{"--profile", "ssp", "token", "delete", "dry-keep", "--type", "sensor", "-o", "json"}, "", 1},
		{[]string{"--profile", "ssp", "sensor", "update", sensorID, "--display-name", "renamed"}, "", 1},
		{[]string{"--profile", "ssp", "sensor", "delete", sensorID, "--yes"}, "", 1},
		{[]string{"--profile", "ssp", "sensor", "features", "set", "--ids", "disable", "--flows", "enable", "--mps", "enable", sensorID}, "", 3},
		{[]string{"--profile", "ssp", "sensor", "mps", "set", "--other-file-type"}, "", 1},
		{[]string{"--profile", "ssp", "baremetal", "uninstall", "dry-host-1"}, "", 1},
		{[]string{"--profile", "ssp", "baremetal", "uninstall", "dry-host-1", "--force", "--wait", "-o", "json"}, "", 1},
		{[]string{"--profile", "ssp", "baremetal", "upgrade", "-"}, "dry-host-1\n", 1},
		{[]string{"--profile", "ssp", "token", "create", "--type", "baremetal", "--display-name", "dry-z", "-o", "install-script", "--wait", "healthy"}, "", 1},
		{[]string{"--profile", "ssp", "api", "PUT", "/sensors/mps-global-config", "-f", "mps.json"}, "", 1},
		{[]string{"--profile", "ssp", "api", "DELETE", "/sensors/registration-tokens/" + sspToken}, "", 1},
		{[]string{"--profile", "ssp", "api", "PATCH", "/sensors/appliances/" + sensorID, "-F", "description=x"}, "", 1},
		{[]string{"--profile", "nsx", "token", "create", "-o", "secret"}, "", 1},
		{[]string{"--profile", "nsx", "token", "create", "--type", "sensor"}, "", 1},
		{[]string{"--profile", "nsx", "token", "delete", "-"}, nsxToken + "\n", 1},
		{[]string{"--profile", "nsxs", "token", "create", "-o", "json"}, "", 1},
		{[]string{"--profile", "nsxs", "token", "delete", "-"}, nsxToken + "\n", 1},
		{[]string{"--profile", "agent", "token", "create", "--name", "dry-new", "--read", "-o", "secret"}, "", 1},
		{[]string{"--profile", "agent", "token", "create", "-f", "agent.yaml", "-o", "json"}, "", 2},
		{[]string{"--profile", "agent", "token", "update", "-", "--change"}, agentUUID + "\n", 1},
		{[]string{"--profile", "agent", "token", "update", "dry-agent", "--read=false"}, "", 1},
		{[]string{"--profile", "agent", "token", "delete", "-"}, agentUUID + "\n", 1},
		{[]string{"--profile", "cgx", "authtoken", "create", "--role", "tenant_viewonly", "--expires", "24h", "-o", "secret"}, "", 1},
		{[]string{"--profile", "cgx", "authtoken", "create", "-f", "sdwan.yaml", "--expires", "24h", "-o", "json"}, "", 2},
		{[]string{"--profile", "cgx", "authtoken", "delete", cgxToken}, "", 1},
		{[]string{"--profile", "sase", "authtoken", "create", "--role", "tenant_viewonly", "--expires", "24h"}, "", 1},
		{[]string{"--profile", "sase", "authtoken", "delete", saseToken, "-o", "json"}, "", 1},
	}
	for _, c := range cases {
		before := len(log.all())
		args := append(append([]string(nil), c.args...), "--dry-run")
		r := pe.Run(t, c.stdin, args...)
		label := strings.Join(c.args, " ")
		var writes []string
		for _, rec := range log.all()[before:] {
			if isWrite(rec) {
				writes = append(writes, rec.Method+" "+rec.Path)
			}
		}
		if len(writes) > 0 {
			t.Errorf("%s: the sandbox received writes %v", label, writes)
		}
		if r.Code != 0 {
			t.Errorf("%s: exit %d: %s", label, r.Code, r.Stderr)
			continue
		}
		if n := strings.Count(r.Stderr, "dry run: would send "); n != c.changes {
			t.Errorf("%s: %d changes on stderr, want %d:\n%s", label, n, c.changes, r.Stderr)
		}
		if !strings.Contains(r.Stderr, "  curl -X ") {
			t.Errorf("%s: no curl line on stderr:\n%s", label, r.Stderr)
		}
		json := contains(c.args, "json")
		switch {
		case json:
			var plan []struct {
				Operation, Method, URL, Curl string
			}
			if err := jsonUnmarshal(r.Stdout, &plan); err != nil || len(plan) != c.changes {
				t.Errorf("%s: stdout is not the plan of %d changes (%v): %s", label, c.changes, err, r.Stdout)
			}
		case r.Stdout != "":
			t.Errorf("%s: stdout holds %q, want nothing", label, r.Stdout)
		}
		for _, secret := range []string{sim.DefaultPassword, faultPassphrase, nsxToken, agentUUID, "tokenctl-sandbox-token"} {
			if strings.Contains(r.Stdout+r.Stderr, secret) {
				t.Errorf("%s: a secret (%.6s...) in the output", label, secret)
			}
		}
	}
	// apply needs no handling of its own: its dry run reads, prints the
	// plan diff's way and exits 9, and no write reaches the server.
	examples, err := filepath.Abs("examples/apply")
	if err != nil {
		t.Fatal(err)
	}
	before := len(log.all())
	r := pe.Run(t, "", "--profile", "ssp", "apply", "-f", examples, "--dry-run")
	if r.Code != 9 {
		t.Errorf("apply --dry-run: exit %d, want 9: %s", r.Code, r.Stderr)
	}
	for _, rec := range log.all()[before:] {
		if isWrite(rec) {
			t.Errorf("apply --dry-run: the sandbox received %s %s", rec.Method, rec.Path)
		}
	}

	// No local file was written: no passphrase file, the config as it was.
	if _, err := os.Stat(filepath.Join(pe.Dir, "gen-pp.txt")); !os.IsNotExist(err) {
		t.Errorf("the dry run wrote the passphrase file (%v)", err)
	}
	if now, _ := os.ReadFile(pe.ConfigPath()); string(now) != string(config) {
		t.Error("the dry runs changed the config file")
	}
	// And nothing changed on the server: a real run of a list still shows
	// exactly the objects made above.
	r = pe.Run(t, "", "--profile", "ssp", "token", "list", "--jq", "[.[].display_name] | sort | join(\",\")")
	if strings.TrimSpace(r.Stdout) != "dry-keep" {
		t.Errorf("sensor tokens after the dry runs: %q", r.Stdout)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
