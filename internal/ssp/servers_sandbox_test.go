package ssp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/specs"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// registerHost registers a host with a token through the sandbox's control
// route, as `vdefend-cli install bms ssp` does.
func registerHost(t *testing.T, url, tokenID, passphrase, host string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"token_id": tokenID, "passphrase": passphrase, "hostname": host})
	resp, err := http.Post(url+"/_sandbox/ssp/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("register %s: HTTP %d", host, resp.StatusCode)
	}
}

// TestServersClientContractSandbox runs every servers operation of the
// client against the sandbox and validates the traffic against
// ssp-baremetal-servers.yaml.
func TestServersClientContractSandbox(t *testing.T) {
	srv, err := sandbox.New(sandbox.Options{Options: sim.Options{Seed: 1, LCMStep: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	rec := &specs.Recorder{}
	c, err := client.New(client.Options{BaseURL: hs.URL, Transport: rec}, &client.BasicAuth{Username: "admin", Password: "tokenctl-sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	sc := ssp.New(c)
	ctx := context.Background()
	const pp = "Contract-Test-Pass-1!"
	n := int64(3)
	raw, err := sc.CreateBaremetalToken(ctx, &ssp.BaremetalTokenRequest{DisplayName: "pool", AllowedInstanceCount: &n, Passphrase: pp})
	if err != nil {
		t.Fatal(err)
	}
	var tok ssp.TokenInfo
	json.Unmarshal(raw, &tok)
	for _, h := range []string{"web-01", "web-02", "web-03"} {
		registerHost(t, hs.URL, tok.ID, pp, h)
	}
	// Three lifecycle steps on the sandbox clock: every install is done.
	env := srv.Env()
	env.Lock()
	env.Advance(3 * time.Second)
	env.Unlock()

	var servers []map[string]any
	if _, err := sc.ListBaremetalServers(ctx, ssp.ListQuery{}, client.Pager{PageSize: 2}, collect(&servers)); err != nil || len(servers) != 3 {
		t.Fatalf("list: %d, %v", len(servers), err)
	}
	ids := []string{servers[0]["id"].(string), servers[1]["id"].(string), servers[2]["id"].(string)}
	for _, s := range servers {
		if s["registration_token_id"] != tok.ID {
			t.Errorf("server %v: registration_token_id %v, want %s", s["display_name"], s["registration_token_id"], tok.ID)
		}
	}
	var details []map[string]any
	asc := true
	req := ssp.ServerDetailsRequest{DisplayName: []string{"web-01", "web-02"}, AgentHealth: []string{"OK"}, SortBy: "display_name", SortAscending: &asc}
	if _, err := sc.QueryBaremetalServerDetails(ctx, req, client.Pager{PageSize: 1}, collect(&details)); err != nil || len(details) != 2 {
		t.Fatalf("details: %d, %v", len(details), err)
	}
	if details[0]["lcm_status"] != "SUCCESS" || details[0]["display_name"] != "web-01" {
		t.Errorf("details[0] = %v", details[0])
	}
	if _, err := sc.GetBaremetalServer(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.GetBaremetalServerStatus(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.GetBaremetalServerSummary(ctx); err != nil {
		t.Fatal(err)
	}
	_, accepted, err := sc.BaremetalServersAction(ctx, ssp.ActionBatchUpgrade, ids[:2])
	if err != nil || len(accepted) == 0 {
		t.Fatalf("batch upgrade: %v %v", accepted, err)
	}
	if _, err := sc.GetBaremetalTask(ctx, accepted[0].TaskID()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sc.UninstallBaremetalServer(ctx, ids[2], false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sc.BaremetalServersAction(ctx, ssp.ActionBatchDelete, ids[:2]); err != nil {
		t.Fatal(err)
	}
	for _, windows := range []bool{false, true} {
		var buf bytes.Buffer
		if n, err := sc.DownloadBaremetalInstaller(ctx, "", windows, &buf, nil); err != nil || n == 0 {
			t.Fatalf("download (windows=%v): %d bytes, %v", windows, n, err)
		}
	}
	seen := validateServers(t, rec, "/baremetal/registration-tokens")
	wantOps(t, seen, "GetBaremetalServerList", "QueryBaremetalServerDetails", "GetBaremetalServer", "GetBaremetalServerStatus",
		"GetBaremetalServerSummary", "UninstallBaremetalServer", "PerformBaremetalServersAction", "GetBaremetalTaskStatus",
		"GetBaremetalServerInstallerBundle", "GetBaremetalServerWindowsAgentBundle")
}
