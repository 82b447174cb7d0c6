package ssp_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// TestContractBaremetal drives the ten operations of
// specs/ssp-baremetal-servers.yaml through every lifecycle phase and checks
// each exchange (the requests built here and the emulator's answers) with
// kin-openapi; the five additionalProperties quirks are relaxed as
// loadBaremetalSpec says, and examples are not validated (the file has none).
func TestContractBaremetal(t *testing.T) {
	doc := loadBaremetalSpec(t)
	step := 100 * time.Millisecond
	c := newContract(t, doc, sim.Options{Seed: 3, LCMStep: step})
	const (
		ok, accepted              = http.StatusOK, http.StatusAccepted
		bad, unauth, forbid, gone = http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound
	)

	// Three hosts on a pool token; db-1's install fails.
	c.h.setFaults(map[string]any{"fail_hosts": "^db-"})
	tok := c.h.createBaremetalToken("rack-7", 3)["id"].(string)
	web1 := c.h.registerHost(tok, "web-1")["server_id"].(string)
	web2 := c.h.registerHost(tok, "web-2")["server_id"].(string)
	db1 := c.h.registerHost(tok, "db-1")["server_id"].(string)

	// Every phase of the installs validates: ACCEPTED, RUNNING, done.
	for i := 0; i < 3; i++ {
		for _, id := range []string{web1, db1} {
			c.call("GET", "/baremetal/servers/"+id+"/status", nil, admin, ok, true)
			c.call("GET", "/baremetal/servers/"+id, nil, auditor, ok, true)
		}
		c.call("POST", "/baremetal/servers-status-detail", map[string]any{}, engineer, ok, true)
		c.call("GET", "/baremetal/servers-summary", nil, auditor, ok, true)
		c.h.advance(step)
	}
	st := c.decode(c.call("GET", "/baremetal/servers/"+db1+"/status", nil, admin, ok, true))
	if st["lcm_status"] != "FAILED" || st["lcm_error"] == nil {
		t.Errorf("db-1 after its install: %v", st)
	}

	// Reads: paging, sorting, the display_name filter and every details filter.
	c.call("GET", "/baremetal/servers", nil, admin, ok, true)
	c.call("GET", "/baremetal/servers?offset=1&page_size=1&sort_by=display_name&sort_ascending=true&display_name=web-2", nil, auditor, ok, true)
	c.call("GET", "/baremetal/servers?sort_by=passphrase", nil, admin, bad, true)
	c.call("GET", "/baremetal/servers?offset=-1", nil, admin, bad, false)
	c.call("GET", "/baremetal/servers", nil, "", unauth, false)
	c.call("GET", "/baremetal/servers/"+missingID, nil, admin, gone, true)
	c.call("GET", "/baremetal/servers/"+missingID+"/status", nil, admin, gone, true)
	c.call("GET", "/baremetal/servers/"+web1+"/status", nil, "", unauth, false)
	full := map[string]any{
		"site_ids": []string{"site-1"}, "offset": 0, "page_size": 10, "sort_by": "display_name", "sort_ascending": true,
		"display_name": []string{"web-1", "web-2"}, "os_details": []string{"Ubuntu 22.04"}, "agent_version": []string{"5.2.1.0.0.25821907"},
		"agent_health": []string{"OK", "DEGRADED"}, "last_operation_info": []string{"NONE"},
	}
	c.call("POST", "/baremetal/servers-status-detail", full, auditor, ok, true)
	c.call("POST", "/baremetal/servers-status-detail", map[string]any{"agent_health": []string{"SLEEPY"}}, admin, bad, false)
	c.call("POST", "/baremetal/servers-status-detail", map[string]any{"sort_by": "passphrase"}, admin, bad, true)
	c.call("POST", "/baremetal/servers-status-detail", map[string]any{"agent_healthy": []string{"OK"}}, admin, bad, true)
	c.call("POST", "/baremetal/servers-status-detail", "", admin, bad, false)
	c.call("POST", "/baremetal/servers-status-detail", map[string]any{}, "", unauth, false)
	c.call("GET", "/baremetal/servers-summary", nil, "", unauth, false)

	// Batch actions: 202 with one task; validation; roles.
	up := c.decode(c.call("POST", "/baremetal/servers?action=BATCH_UPGRADE", map[string]any{"ids": []string{web1, db1}}, admin, accepted, true))
	upTask := up["results"].([]any)[0].(map[string]any)["id"].(string)
	c.call("POST", "/baremetal/servers?action=BATCH_UPGRADE", map[string]any{"ids": []string{web1}}, engineer, forbid, true)
	c.call("POST", "/baremetal/servers?action=BATCH_DELETE", map[string]any{"ids": []string{web1}}, auditor, forbid, true)
	c.call("POST", "/baremetal/servers?action=REBOOT", map[string]any{"ids": []string{web1}}, admin, bad, false)
	c.call("POST", "/baremetal/servers?action=BATCH_DELETE", map[string]any{"ids": []string{"web-1"}}, admin, bad, false)
	c.call("POST", "/baremetal/servers?action=BATCH_DELETE", map[string]any{"ids": []string{}}, admin, bad, true)
	c.call("POST", "/baremetal/servers?action=BATCH_DELETE", map[string]any{"ids": []string{missingID}}, admin, gone, true)
	c.call("POST", "/baremetal/servers?action=BATCH_DELETE", map[string]any{"ids": []string{web1}}, "", unauth, false)
	for i := 0; i < 3; i++ {
		c.call("GET", "/baremetal/tasks/"+upTask, nil, engineer, ok, true)
		c.call("GET", "/baremetal/servers/"+web1+"/status", nil, admin, ok, true)
		c.h.advance(step)
	}
	c.call("GET", "/baremetal/tasks/"+upTask, nil, auditor, forbid, true)
	c.call("GET", "/baremetal/tasks/"+missingID, nil, admin, gone, true)
	c.call("GET", "/baremetal/tasks/"+upTask, nil, "", unauth, false)

	// Uninstalls: one server (the engineer may), forced, batch.
	del := c.decode(c.call("DELETE", "/baremetal/servers/"+web2, nil, engineer, accepted, true))
	c.call("DELETE", "/baremetal/servers/"+db1+"?force=true", nil, admin, accepted, true)
	c.call("DELETE", "/baremetal/servers/"+web1, nil, auditor, forbid, true)
	c.call("DELETE", "/baremetal/servers/"+missingID, nil, admin, gone, true)
	c.call("DELETE", "/baremetal/servers/"+web1+"?force=maybe", nil, admin, bad, false)
	c.call("DELETE", "/baremetal/servers/"+web1, nil, "", unauth, false)
	bd := c.decode(c.call("POST", "/baremetal/servers?action=BATCH_DELETE", map[string]any{"ids": []string{web1, web2}}, admin, accepted, true))
	for i := 0; i < 3; i++ {
		c.call("GET", "/baremetal/tasks/"+del["id"].(string), nil, admin, ok, true)
		c.call("GET", "/baremetal/tasks/"+bd["results"].([]any)[0].(map[string]any)["id"].(string), nil, admin, ok, true)
		c.call("GET", "/baremetal/servers/"+web2+"/status", nil, admin, ok, true)
		c.call("GET", "/baremetal/servers?sort_by=state", nil, admin, ok, true)
		c.h.advance(step)
	}
	c.call("GET", "/baremetal/servers-summary", nil, admin, ok, true)

	// Installer downloads.
	c.call("GET", "/baremetal/download-linux-installer", nil, admin, ok, true)
	c.call("GET", "/baremetal/download-linux-installer?bundle_version=5.1.0.0.0.24160375", nil, engineer, ok, true)
	c.call("GET", "/baremetal/download-linux-installer?bundle_version=9.9", nil, admin, gone, true)
	c.call("GET", "/baremetal/download-linux-installer?bundle_version=latest", nil, admin, bad, true)
	c.call("GET", "/baremetal/download-linux-installer", nil, auditor, forbid, true)
	c.call("GET", "/baremetal/download-windows-agent-bundle", nil, admin, ok, true)
	c.call("GET", "/baremetal/download-windows-agent-bundle?bundle_version=5.2.0.0.0.25398843", nil, engineer, ok, true)
	c.call("GET", "/baremetal/download-windows-agent-bundle?bundle_version=1.0", nil, admin, gone, true)
	c.call("GET", "/baremetal/download-windows-agent-bundle", nil, "", unauth, false)

	// Every operation was driven to a success and an error.
	c.checkCoverage(doc, 10)
}
