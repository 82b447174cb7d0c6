package ssp_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// step is the lifecycle step of these tests: the clock is fake, so only
// advance moves it.
const step = 2 * time.Second

const (
	latest = "5.2.1.0.0.25821907"
	older  = "5.1.1.0.0.24613428"
)

func (h *harness) serverStatus(id string) map[string]any {
	h.t.Helper()
	return h.expect(http.StatusOK, "GET", "/baremetal/servers/"+id+"/status", nil, admin).json(h.t)
}

func (h *harness) server(id string) map[string]any {
	h.t.Helper()
	return h.expect(http.StatusOK, "GET", "/baremetal/servers/"+id, nil, auditor).json(h.t)
}

func (h *harness) task(id string) map[string]any {
	h.t.Helper()
	return h.expect(http.StatusOK, "GET", "/baremetal/tasks/"+id, nil, admin).json(h.t)
}

// registerAt registers a host with an agent version (an older one makes a
// server that needs an upgrade).
func (h *harness) registerAt(tokenID, hostname, version string) string {
	h.t.Helper()
	body := map[string]any{"token_id": tokenID, "passphrase": goodPassphrase, "hostname": hostname, "agent_version": version}
	return h.expect(http.StatusOK, "POST", "/_sandbox/ssp/register", body, "").json(h.t)["server_id"].(string)
}

// batch runs a batch action and returns its task id.
func (h *harness) batch(action string, ids ...string) string {
	h.t.Helper()
	r := h.expect(http.StatusAccepted, "POST", "/baremetal/servers?action="+action, map[string]any{"ids": ids}, admin).json(h.t)
	results := r["results"].([]any)
	if len(results) != 1 {
		h.t.Fatalf("%s: %d results, want one task", action, len(results))
	}
	res := results[0].(map[string]any)
	if res["status_url"] != "/baremetal/tasks/"+res["id"].(string) {
		h.t.Errorf("%s: status_url %v", action, res["status_url"])
	}
	return res["id"].(string)
}

// serverTasks maps a task's per-server entries: server id -> [status, message].
func serverTasks(t *testing.T, task map[string]any) map[string][2]string {
	t.Helper()
	out := map[string][2]string{}
	for _, it := range task["baremetalserver_task_info"].([]any) {
		m := it.(map[string]any)
		msg, _ := m["activity_status_msg"].(string)
		out[m["id"].(string)] = [2]string{m["server_task_status"].(string), msg}
	}
	return out
}

func want(t *testing.T, what string, m map[string]any, fields map[string]any) {
	t.Helper()
	for k, v := range fields {
		got := m[k]
		if k == "overall_agent_health" {
			got = m["agent_health"].(map[string]any)["overall_agent_health"]
		}
		if got != v {
			t.Errorf("%s: %s = %v, want %v", what, k, got, v)
		}
	}
}

func TestBaremetalRegistrationLifecycle(t *testing.T) {
	h := newHarness(t, sim.Options{})
	tok := h.createBaremetalToken("rack-1", 2)["id"].(string)

	first := h.registerHost(tok, "web-1")
	want(t, "first registration", first, map[string]any{"device_type": "BAREMETAL", "created": true, "lcm_status": "ACCEPTED",
		"display_name": "web-1", "status": "AVAILABLE", "remaining_instance_count": 1.0})
	id := first["server_id"].(string)

	srv := h.server(id)
	want(t, "server", srv, map[string]any{"display_name": "web-1", "registration_token_id": tok, "state": "READY", "os_name": "Ubuntu"})
	if _, ok := srv["agent_version"]; ok {
		t.Errorf("agent_version before the install finished: %v", srv)
	}
	phases := []map[string]any{
		{"lcm_status": "ACCEPTED", "lcm_operation": "INSTALL", "state": "READY", "connectivity_status": "DOWN", "overall_agent_health": "DISCONNECTED"},
		{"lcm_status": "RUNNING", "lcm_operation": "INSTALL", "state": "READY", "connectivity_status": "DOWN", "overall_agent_health": "DISCONNECTED"},
		{"lcm_status": "SUCCESS", "lcm_operation": "INSTALL", "state": "READY", "connectivity_status": "UP", "overall_agent_health": "OK", "agent_version": latest, "last_operation_info": "NONE"},
	}
	for i, p := range phases {
		want(t, "phase "+strconv.Itoa(i), h.serverStatus(id), p)
		h.advance(step)
	}
	// Later steps change nothing.
	h.advance(10 * time.Minute)
	want(t, "ten minutes later", h.serverStatus(id), phases[2])
	if h.server(id)["agent_version"] != latest {
		t.Errorf("server agent_version %v", h.server(id)["agent_version"])
	}

	// The install script may run twice: the same host is the same server.
	again := h.registerHost(tok, "web-1")
	want(t, "second run on web-1", again, map[string]any{"server_id": id, "created": false, "lcm_status": "SUCCESS", "remaining_instance_count": 1.0})

	// The token's last instance; then USED refuses new hosts, not web-1.
	h.registerHost(tok, "web-2")
	st := h.expect(http.StatusOK, "GET", "/baremetal/registration-tokens/"+tok+"/status", nil, admin).json(t)
	want(t, "token after two hosts", st, map[string]any{"status": "USED", "remaining_instance_count": 0.0})
	r := h.expect(http.StatusConflict, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": tok, "passphrase": goodPassphrase, "hostname": "web-3"}, "")
	if !strings.Contains(string(r.body), "USED") {
		t.Errorf("web-3 on a USED token: %s", r.body)
	}
	want(t, "web-1 on a USED token", h.registerHost(tok, "web-1"), map[string]any{"server_id": id, "created": false})
	if n := len(h.list("/baremetal/servers", admin).Results); n != 2 {
		t.Errorf("%d servers, want 2", n)
	}

	// An EXPIRED token refuses a new host (409), and a wrong passphrase is 403.
	tok2 := h.createBaremetalToken("rack-2", 5)["id"].(string)
	h.expect(http.StatusForbidden, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": tok2, "passphrase": "Wrong-Passphrase-42", "hostname": "x"}, "")
	h.advance(31 * time.Minute)
	r = h.expect(http.StatusConflict, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": tok2, "passphrase": goodPassphrase, "hostname": "late"}, "")
	if !strings.Contains(string(r.body), "EXPIRED") {
		t.Errorf("registration on an expired token: %s", r.body)
	}
	h.expect(http.StatusBadRequest, "POST", "/_sandbox/ssp/register", map[string]any{"token_id": tok2, "passphrase": goodPassphrase, "agent_version": "1.0"}, "")
}

func TestBaremetalInstallFaults(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 11, LCMFaults: sim.LCMFaults{FailHosts: "^db-"}})
	tok := h.createBaremetalToken("rack-1", 10)["id"].(string)
	web := h.registerHost(tok, "web-1")["server_id"].(string)
	db := h.registerHost(tok, "db-1")["server_id"].(string)
	h.advance(2 * step)
	want(t, "web-1", h.serverStatus(web), map[string]any{"lcm_status": "SUCCESS", "state": "READY"})
	st := h.serverStatus(db)
	want(t, "db-1", st, map[string]any{"lcm_status": "FAILED", "state": "NOT_READY", "connectivity_status": "DOWN", "overall_agent_health": "DISCONNECTED"})
	if msg, _ := st["lcm_error"].(string); !strings.Contains(msg, "db-1") || !strings.Contains(msg, "fail_hosts") {
		t.Errorf("lcm_error %q should name the host and the fault", msg)
	}

	// Running the installer again after the fault is gone retries the
	// install on the same server, without using another instance.
	h.setFaults(map[string]any{})
	again := h.registerHost(tok, "db-1")
	want(t, "db-1 again", again, map[string]any{"server_id": db, "created": false, "lcm_status": "ACCEPTED", "remaining_instance_count": 8.0})
	h.advance(2 * step)
	want(t, "db-1 retried", h.serverStatus(db), map[string]any{"lcm_status": "SUCCESS", "state": "READY"})
	if _, ok := h.serverStatus(db)["lcm_error"]; ok {
		t.Error("lcm_error stays after a successful retry")
	}

	// A fail rate is drawn from the seed: the same seed fails the same hosts.
	failing := func(seed int64) []string {
		h := newHarness(t, sim.Options{Seed: seed, LCMFaults: sim.LCMFaults{FailRate: 0.5}})
		tok := h.createBaremetalToken("pool", 20)["id"].(string)
		ids := map[string]string{}
		for i := range 20 {
			name := "host-" + strconv.Itoa(i)
			ids[name] = h.registerHost(tok, name)["server_id"].(string)
		}
		h.advance(2 * step)
		var failed []string
		for name, id := range ids {
			if h.serverStatus(id)["lcm_status"] == "FAILED" {
				failed = append(failed, name)
			}
		}
		slices.Sort(failed)
		return failed
	}
	a, b, c := failing(5), failing(5), failing(6)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different failures: %v and %v", a, b)
	}
	if len(a) == 0 || len(a) == 20 || slices.Equal(a, c) {
		t.Errorf("fail_rate 0.5 failed %v (seed 5) and %v (seed 6)", a, c)
	}
}

func TestBaremetalTasks(t *testing.T) {
	h := newHarness(t, sim.Options{})
	tok := h.createBaremetalToken("rack-1", 10)["id"].(string)
	a := h.registerAt(tok, "app-1", older)
	b := h.registerAt(tok, "app-2", older)
	c := h.registerAt(tok, "app-3", older)
	h.advance(2 * step)

	// An upgrade: ACCEPTED, RUNNING (health DEGRADED), COMPLETED; the
	// servers move to the latest agent.
	h.setFaults(map[string]any{"fail_hosts": "^app-3$"})
	id := h.batch("BATCH_UPGRADE", a, b, c, strings.ToUpper(a))
	for i, st := range []string{"ACCEPTED", "RUNNING", "COMPLETED"} {
		task := h.task(id)
		want(t, "upgrade task phase "+strconv.Itoa(i), task, map[string]any{"task_status": st, "task_type": "UPGRADE", "id": id})
		per := serverTasks(t, task)
		if len(per) != 3 {
			t.Fatalf("per-server results %v (repeated ids count once)", per)
		}
		wantA, wantC := st, st
		if st == "COMPLETED" {
			wantA, wantC = "SUCCESS", "FAILED"
		}
		if per[a][0] != wantA || per[c][0] != wantC {
			t.Errorf("phase %d: per-server %v", i, per)
		}
		if i == 1 {
			want(t, "app-1 upgrading", h.serverStatus(a), map[string]any{"lcm_operation": "UPGRADE", "lcm_status": "RUNNING",
				"last_operation_info": "UPGRADE_RUNNING", "overall_agent_health": "DEGRADED", "agent_version": older})
		}
		h.advance(step)
	}
	per := serverTasks(t, h.task(id))
	if !strings.Contains(per[c][1], "app-3") {
		t.Errorf("app-3's failure message %q", per[c][1])
	}
	want(t, "app-1 upgraded", h.serverStatus(a), map[string]any{"lcm_status": "SUCCESS", "last_operation_info": "UPGRADE_SUCCESS", "agent_version": latest, "overall_agent_health": "OK"})
	want(t, "app-3 not upgraded", h.serverStatus(c), map[string]any{"lcm_status": "FAILED", "last_operation_info": "UPGRADE_FAILED", "agent_version": older, "overall_agent_health": "OK"})

	// A server busy with its install fails in the task at once.
	d := h.registerHost(tok, "app-4")["server_id"].(string)
	h.setFaults(map[string]any{})
	per = serverTasks(t, h.task(h.batch("BATCH_UPGRADE", a, d)))
	if per[a][0] != "ACCEPTED" || per[d][0] != "FAILED" || !strings.Contains(per[d][1], "INSTALL") {
		t.Errorf("upgrade during an install: %v", per)
	}
	h.advance(2 * step)

	// Forced outcomes.
	for _, tc := range []struct{ outcome, task, server string }{
		{"TIMEDOUT", "TIMEDOUT", "FAILED"},
		{"aborted", "ABORTED", "ABORTED"},
		{"FAILED", "COMPLETED", "FAILED"},
	} {
		h.setFaults(map[string]any{"task_outcome": tc.outcome})
		id := h.batch("BATCH_UPGRADE", a, b)
		h.advance(2 * step)
		task := h.task(id)
		per := serverTasks(t, task)
		if task["task_status"] != tc.task || per[a][0] != tc.server || per[b][0] != tc.server || per[a][1] == "" {
			t.Errorf("task_outcome %s: task %v, servers %v", tc.outcome, task["task_status"], per)
		}
		if st := h.serverStatus(a); st["lcm_status"] != tc.server {
			t.Errorf("task_outcome %s: server lcm_status %v", tc.outcome, st["lcm_status"])
		}
	}
	h.setFaults(map[string]any{})

	// Refused requests start nothing.
	missing := "0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c"
	h.expectError(http.StatusNotFound, "baremetal-security", "POST", "/baremetal/servers?action=BATCH_DELETE", map[string]any{"ids": []string{a, missing}}, admin, missing)
	want(t, "app-1 after a refused batch", h.serverStatus(a), map[string]any{"state": "READY"})
	h.expectError(http.StatusBadRequest, "baremetal-security", "POST", "/baremetal/servers?action=REBOOT", map[string]any{"ids": []string{"x"}}, admin,
		`action "REBOOT"`, `ids item "x" is not a UUID`)
	h.expectError(http.StatusBadRequest, "baremetal-security", "POST", "/baremetal/servers?action=BATCH_UPGRADE", `{"ids": "one"}`, admin, "does not match the schema")
	h.expectError(http.StatusForbidden, "baremetal-security", "POST", "/baremetal/servers?action=BATCH_DELETE", map[string]any{"ids": []string{a}}, engineer, "PerformBaremetalServersAction", "enterprise_admin")
	h.expectError(http.StatusNotFound, "baremetal-security", "GET", "/baremetal/tasks/"+missing, nil, admin, "task")
}

func TestBaremetalUninstall(t *testing.T) {
	h := newHarness(t, sim.Options{})
	tok := h.createBaremetalToken("rack-1", 10)["id"].(string)
	a := h.registerHost(tok, "web-1")["server_id"].(string)
	b := h.registerHost(tok, "web-2")["server_id"].(string)
	c := h.registerHost(tok, "web-3")["server_id"].(string)
	h.advance(2 * step)

	// The engineer may uninstall one server (but not batch: TestBaremetalTasks).
	del := h.expect(http.StatusAccepted, "DELETE", "/baremetal/servers/"+a, nil, engineer).json(t)
	taskID := del["id"].(string)
	if del["status_url"] != "/baremetal/tasks/"+taskID {
		t.Errorf("202 answer %v", del)
	}
	want(t, "uninstalling", h.serverStatus(a), map[string]any{"state": "TERMINATING", "lcm_operation": "UNINSTALL", "lcm_status": "ACCEPTED", "last_operation_info": "OFFBOARD_RUNNING"})
	// A second DELETE while it runs answers with the same task.
	if again := h.expect(http.StatusAccepted, "DELETE", "/baremetal/servers/"+a, nil, admin).json(t); again["id"] != taskID {
		t.Errorf("repeated delete: task %v, want %s", again["id"], taskID)
	}
	h.advance(2 * step)
	want(t, "uninstalled", h.serverStatus(a), map[string]any{"state": "TERMINATED", "lcm_status": "SUCCESS", "last_operation_info": "OFFBOARD_SUCCESS",
		"connectivity_status": "DOWN", "overall_agent_health": "DISCONNECTED"})
	want(t, "uninstall task", h.task(taskID), map[string]any{"task_type": "UNINSTALL", "task_status": "COMPLETED"})
	if again := h.expect(http.StatusAccepted, "DELETE", "/baremetal/servers/"+a, nil, admin).json(t); again["id"] != taskID {
		t.Errorf("delete of a TERMINATED server: task %v, want %s", again["id"], taskID)
	}
	// A batch delete that includes it follows that uninstall: SUCCESS.
	per := serverTasks(t, h.task(h.batch("BATCH_DELETE", a)))
	if per[a][0] != "SUCCESS" {
		t.Errorf("batch delete of a TERMINATED server: %v", per)
	}
	// It stays listed, TERMINATED, and the host may register anew.
	if s := h.server(a); s["state"] != "TERMINATED" {
		t.Errorf("listed server %v", s)
	}
	if re := h.registerHost(tok, "web-1"); re["created"] != true || re["server_id"] == a {
		t.Errorf("registering after the uninstall: %v", re)
	}

	// A failing uninstall leaves the server READY with OFFBOARD_FAILED; force
	// ignores host faults and escalates a running uninstall.
	h.setFaults(map[string]any{"fail_hosts": "^web-[23]$"})
	h.expect(http.StatusAccepted, "DELETE", "/baremetal/servers/"+b, nil, admin)
	h.advance(2 * step)
	st := h.serverStatus(b)
	want(t, "failed uninstall", st, map[string]any{"state": "READY", "lcm_status": "FAILED", "last_operation_info": "OFFBOARD_FAILED", "overall_agent_health": "OK"})
	if !strings.Contains(st["lcm_error"].(string), "web-2") {
		t.Errorf("lcm_error %v", st["lcm_error"])
	}
	first := h.expect(http.StatusAccepted, "DELETE", "/baremetal/servers/"+c, nil, admin).json(t)["id"]
	forced := h.expect(http.StatusAccepted, "DELETE", "/baremetal/servers/"+c+"?force=true", nil, admin).json(t)["id"]
	if forced == first {
		t.Error("force=true on a running uninstall did not start a forced one")
	}
	forcedB := h.expect(http.StatusAccepted, "DELETE", "/baremetal/servers/"+b+"?force=True", nil, admin).json(t)["id"].(string)
	h.advance(2 * step)
	want(t, "forced web-3", h.serverStatus(c), map[string]any{"state": "TERMINATED", "lcm_operation": "UNINSTALL_FORCE", "lcm_status": "SUCCESS"})
	want(t, "forced web-2", h.task(forcedB), map[string]any{"task_type": "UNINSTALL_FORCE", "task_status": "COMPLETED"})
	h.expectError(http.StatusBadRequest, "baremetal-security", "DELETE", "/baremetal/servers/"+b+"?force=perhaps", nil, admin, "force")
	h.expectError(http.StatusForbidden, "baremetal-security", "DELETE", "/baremetal/servers/"+b, nil, auditor, "UninstallBaremetalServer")
}

func TestBaremetalLocalUninstall(t *testing.T) {
	h := newHarness(t, sim.Options{})
	tok := h.createBaremetalToken("rack-1", 2)["id"].(string)
	id := h.registerHost(tok, "web-1")["server_id"].(string)
	h.advance(2 * step)
	h.expect(http.StatusOK, "POST", "/_sandbox/ssp/local-uninstall", map[string]any{"server_id": id}, "")
	want(t, "after a local uninstall", h.serverStatus(id), map[string]any{"is_agent_local_uninstall": true, "connectivity_status": "DOWN", "overall_agent_health": "DISCONNECTED", "state": "READY"})
	h.expect(http.StatusNotFound, "POST", "/_sandbox/ssp/local-uninstall", map[string]any{"server_id": "0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c"}, "")
	h.expect(http.StatusBadRequest, "POST", "/_sandbox/ssp/local-uninstall", `{}`, "")
	// Installing again reinstalls the same server.
	if re := h.registerHost(tok, "web-1"); re["server_id"] != id || re["lcm_status"] != "ACCEPTED" {
		t.Errorf("reinstall: %v", re)
	}
	h.advance(2 * step)
	want(t, "reinstalled", h.serverStatus(id), map[string]any{"is_agent_local_uninstall": false, "overall_agent_health": "OK"})
}

func TestBaremetalListAndDetails(t *testing.T) {
	h := newHarness(t, sim.Options{LCMFaults: sim.LCMFaults{FailHosts: "^db-2$"}})
	tokBody := map[string]any{"display_name": "rack-1", "passphrase": goodPassphrase, "allowed_instance_count": 10, "site_ids": []string{"site-ams"}}
	tokA := h.expect(http.StatusCreated, "POST", "/baremetal/registration-tokens", tokBody, admin).json(t)["id"].(string)
	tokB := h.createBaremetalToken("rack-2", 10)["id"].(string)
	ids := map[string]string{}
	for _, n := range []string{"web-1", "web-2", "db-1"} {
		ids[n] = h.registerHost(tokA, n)["server_id"].(string)
	}
	ids["db-2"] = h.registerAt(tokB, "db-2", latest)
	ids["app-1"] = h.registerAt(tokB, "app-1", older)
	body := map[string]any{"token_id": tokB, "passphrase": goodPassphrase, "hostname": "win-1", "os_name": "Windows Server", "os_version": "2022", "cpu_core_count": 32}
	ids["win-1"] = h.expect(http.StatusOK, "POST", "/_sandbox/ssp/register", body, "").json(t)["server_id"].(string)
	h.advance(2 * step)
	h.batch("BATCH_UPGRADE", ids["app-1"]) // app-1: UPGRADE_RUNNING, DEGRADED

	// The list: creation order, paging, sorting, display_name.
	l := h.list("/baremetal/servers?page_size=4", auditor)
	if *l.TotalResultCount != 6 || l.TotalPages != 2 || len(l.Results) != 4 {
		t.Errorf("first page: total %v pages %d results %d", *l.TotalResultCount, l.TotalPages, len(l.Results))
	}
	if got := field[string](t, l, "display_name"); !slices.Equal(got, []string{"web-1", "web-2", "db-1", "db-2"}) {
		t.Errorf("creation order %v", got)
	}
	l = h.list("/baremetal/servers?page_size=4&offset=4", auditor)
	if l.TotalResultCount != nil || len(l.Results) != 2 {
		t.Errorf("second page: %+v", l)
	}
	l = h.list("/baremetal/servers?sort_by=display_name&sort_ascending=true", admin)
	if got := field[string](t, l, "display_name"); !slices.Equal(got, []string{"app-1", "db-1", "db-2", "web-1", "web-2", "win-1"}) {
		t.Errorf("sorted %v", got)
	}
	l = h.list("/baremetal/servers?sort_by=cpu_core_count", admin)
	if got := field[string](t, l, "display_name"); got[0] != "win-1" {
		t.Errorf("sorted by cores, descending: %v", got)
	}
	l = h.list("/baremetal/servers?display_name=db-1&display_name=win-1", admin)
	if got := field[string](t, l, "display_name"); !slices.Equal(got, []string{"db-1", "win-1"}) {
		t.Errorf("display_name filter %v", got)
	}
	h.expectError(http.StatusBadRequest, "baremetal-security", "GET", "/baremetal/servers?sort_by=lcm_status", nil, admin, "sort_by", "display_name")

	details := func(q map[string]any) []string {
		t.Helper()
		r := h.expect(http.StatusOK, "POST", "/baremetal/servers-status-detail", q, auditor)
		var l listBody
		if err := jsonUnmarshal(r.body, &l); err != nil {
			t.Fatal(err)
		}
		return field[string](t, l, "display_name")
	}
	for _, tc := range []struct {
		q    map[string]any
		want []string
	}{
		{map[string]any{}, []string{"web-1", "web-2", "db-1", "db-2", "app-1", "win-1"}},
		{map[string]any{"site_ids": []string{"site-ams", "site-x"}}, []string{"web-1", "web-2", "db-1"}},
		{map[string]any{"display_name": []string{"web-2", "db-2"}}, []string{"web-2", "db-2"}},
		{map[string]any{"os_details": []string{"windows server 2022"}}, []string{"win-1"}},
		{map[string]any{"agent_version": []string{older}}, []string{"app-1"}},
		{map[string]any{"agent_health": []string{"DISCONNECTED"}}, []string{"db-2"}},
		{map[string]any{"agent_health": []string{"DEGRADED", "DISCONNECTED"}}, []string{"db-2", "app-1"}},
		{map[string]any{"last_operation_info": []string{"UPGRADE_RUNNING"}}, []string{"app-1"}},
		{map[string]any{"agent_health": []string{"OK"}, "display_name": []string{"web-1", "app-1"}}, []string{"web-1"}},
		{map[string]any{"sort_by": "lcm_status", "sort_ascending": true, "page_size": 2, "offset": 0}, []string{"app-1", "db-2"}},
		{map[string]any{"sort_by": "display_name", "page_size": 2, "offset": 2}, []string{"web-1", "db-2"}},
	} {
		if got := details(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("details %v: %v, want %v", tc.q, got, tc.want)
		}
	}
	// Every problem at once; unknown fields refused.
	h.expectError(http.StatusBadRequest, "baremetal-security", "POST", "/baremetal/servers-status-detail",
		map[string]any{"agent_health": []string{"SLEEPY"}, "last_operation_info": []string{"REBOOTED"}, "offset": -2}, admin,
		`agent_health "SLEEPY"`, `last_operation_info "REBOOTED"`, "offset -2")
	h.expectError(http.StatusBadRequest, "baremetal-security", "POST", "/baremetal/servers-status-detail", map[string]any{"agent_healt": []string{"OK"}}, admin, "agent_healt")
	h.expectError(http.StatusBadRequest, "baremetal-security", "POST", "/baremetal/servers-status-detail", nil, admin, "required")

	// The summary counts what is not TERMINATED.
	h.expect(http.StatusAccepted, "DELETE", "/baremetal/servers/"+ids["web-2"], nil, admin)
	h.advance(2 * step)
	sum := h.expect(http.StatusOK, "GET", "/baremetal/servers-summary", nil, auditor).json(t)
	wantSum := `{"agent_health_status":{"num_degraded":0,"num_disconnected":1,"num_ok":4},` +
		`"operational_status":{"failed":1,"in_progress":0,"num_offboard_failed":0,"num_upgrade_failed":0,"success":4},` +
		`"total_server_count":5,"version_stats":{"latest_version":"` + latest + `","latest_version_count":4,"upgrade_in_progress_count":0,"upgrade_needed_count":0}}`
	if got := jsonString(t, sum); got != wantSum {
		t.Errorf("summary\n got %s\nwant %s", got, wantSum)
	}
}

func TestBaremetalDownloads(t *testing.T) {
	h := newHarness(t, sim.Options{})
	r := h.expect(http.StatusOK, "GET", "/baremetal/download-linux-installer", nil, admin)
	if r.header.Get("Content-Type") != "text/plain" || r.header.Get("Content-Length") != strconv.Itoa(len(r.body)) ||
		!strings.Contains(r.header.Get("Content-Disposition"), "vdefend-bms-installer-"+latest+".tar.gz") {
		t.Errorf("headers %v", r.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	files := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		files[filepath.Base(hdr.Name)] = string(data)
		if filepath.Base(hdr.Name) == "vdefend-cli" && hdr.Mode&0o111 == 0 {
			t.Error("vdefend-cli in the bundle is not executable")
		}
	}
	if files["VERSION"] != latest+"\n" || !strings.Contains(files["vdefend-cli"], `exec tokenctl sandbox vdefend-cli "$@"`) || len(files["payload.bin"]) != 256<<10 {
		t.Errorf("bundle files: VERSION %q, vdefend-cli %q, payload %d bytes", files["VERSION"], files["vdefend-cli"], len(files["payload.bin"]))
	}
	// The same bytes every time, another version other bytes.
	if again := h.expect(http.StatusOK, "GET", "/baremetal/download-linux-installer?bundle_version="+latest, nil, engineer); !bytes.Equal(again.body, r.body) {
		t.Error("the latest bundle differs between downloads")
	}
	if old := h.expect(http.StatusOK, "GET", "/baremetal/download-linux-installer?bundle_version="+older, nil, admin); bytes.Equal(old.body, r.body) {
		t.Error("two versions, one bundle")
	}
	w := h.expect(http.StatusOK, "GET", "/baremetal/download-windows-agent-bundle?bundle_version="+older, nil, admin)
	if !bytes.HasPrefix(w.body, []byte{0xd0, 0xcf, 0x11, 0xe0}) || !strings.Contains(w.header.Get("Content-Disposition"), ".msi") {
		t.Errorf("windows bundle: % x..., %v", w.body[:8], w.header)
	}
	h.expectError(http.StatusNotFound, "baremetal-security", "GET", "/baremetal/download-windows-agent-bundle?bundle_version=4.0", nil, admin, "4.0", latest)
	h.expectError(http.StatusBadRequest, "baremetal-security", "GET", "/baremetal/download-linux-installer?bundle_version=newest", nil, admin, "bundle_version")
	h.expectError(http.StatusForbidden, "baremetal-security", "GET", "/baremetal/download-linux-installer", nil, auditor, "GetBaremetalServerInstallerBundle")
}

func TestBaremetalStateSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	h := newHarnessState(t, sim.Options{}, path)
	tok := h.createBaremetalToken("rack-1", 3)["id"].(string)
	a := h.registerHost(tok, "web-1")["server_id"].(string)
	b := h.registerAt(tok, "web-2", older)
	h.advance(2 * step)
	upgrade := h.batch("BATCH_UPGRADE", b)
	h.advance(step) // RUNNING
	before := map[string]string{
		"a": jsonString(t, h.serverStatus(a)), "b": jsonString(t, h.serverStatus(b)),
		"task": jsonString(t, h.task(upgrade)), "list": string(h.expect(http.StatusOK, "GET", "/baremetal/servers", nil, admin).body),
	}
	h.close()

	// The clock's advance is saved with the state, so the restarted
	// sandbox shows the same instant, and the upgrade goes on from there.
	h2 := newHarnessState(t, sim.Options{}, path)
	after := map[string]string{
		"a": jsonString(t, h2.serverStatus(a)), "b": jsonString(t, h2.serverStatus(b)),
		"task": jsonString(t, h2.task(upgrade)), "list": string(h2.expect(http.StatusOK, "GET", "/baremetal/servers", nil, admin).body),
	}
	for k := range before {
		if before[k] != after[k] {
			t.Errorf("%s changed across the restart:\n%s\n%s", k, before[k], after[k])
		}
	}
	h2.advance(step)
	want(t, "upgraded after the restart", h2.task(upgrade), map[string]any{"task_status": "COMPLETED"})
	want(t, "web-2", h2.serverStatus(b), map[string]any{"agent_version": latest})
	if re := h2.registerHost(tok, "web-1"); re["created"] != false || re["server_id"] != a {
		t.Errorf("web-1 after the restart: %v", re)
	}
}

func TestSensorRegistrationLifecycle(t *testing.T) {
	h := newHarness(t, sim.Options{SeedSensors: 3, LCMFaults: sim.LCMFaults{FailHosts: "-bad$"}})
	tok := h.createSensorToken("ndr-pool", 3)["id"].(string)
	reg := h.registerHost(tok, "ndr-7")
	want(t, "registration", reg, map[string]any{"device_type": "SENSOR", "created": true, "registration_status": "IN_PROGRESS", "display_name": "ndr-7", "usage_count": 1.0})
	id := reg["sensor_id"].(string)
	bad := h.registerHost(tok, "ndr-bad")["sensor_id"].(string)

	s := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+id, nil, admin).json(t)
	if s["token_id"] != tok || s["display_name"] != "ndr-7" {
		t.Errorf("sensor %v", s)
	}
	status := func(id string) map[string]any {
		return h.expect(http.StatusOK, "GET", "/sensors/appliances/"+id+"/status", nil, admin).json(t)
	}
	want(t, "in progress", status(id), map[string]any{"registration_status": "IN_PROGRESS", "health": "NOT_AVAILABLE"})
	h.advance(step)
	want(t, "still in progress", status(id), map[string]any{"registration_status": "IN_PROGRESS"})
	h.advance(step)
	want(t, "registered", status(id), map[string]any{"registration_status": "REGISTERED", "health": "OK"})
	want(t, "failed", status(bad), map[string]any{"registration_status": "FAILED", "health": "DISCONNECTED"})

	// The lists and their filters see the same.
	l := h.list("/sensors/appliances/details?registration_status=registered&health=ok", admin)
	if got := field[string](t, l, "sensor_info", "token_id"); slices.Index(got, tok) < 0 {
		t.Errorf("details: the registered sensor is missing (%v)", got)
	}
	l = h.list("/sensors/appliances/details?registration_status=failed&display_name=ndr-bad", admin)
	if len(l.Results) != 1 {
		t.Errorf("details registration_status=failed: %d results", len(l.Results))
	}
	// The same host again is the same sensor; a failed one retries.
	want(t, "ndr-7 again", h.registerHost(tok, "ndr-7"), map[string]any{"sensor_id": id, "created": false, "usage_count": 2.0})
	h.setFaults(map[string]any{})
	want(t, "ndr-bad again", h.registerHost(tok, "ndr-bad"), map[string]any{"sensor_id": bad, "created": false, "registration_status": "IN_PROGRESS"})
	h.advance(2 * step)
	want(t, "ndr-bad retried", status(bad), map[string]any{"registration_status": "REGISTERED"})
}

func TestLCMFaultsControlRoute(t *testing.T) {
	h := newHarness(t, sim.Options{LCMStep: 250 * time.Millisecond, LCMFaults: sim.LCMFaults{FailRate: 0.25}})
	got := h.expect(http.StatusOK, "GET", "/_sandbox/ssp/faults", nil, "").json(t)
	want(t, "initial faults", got, map[string]any{"fail_rate": 0.25, "fail_hosts": "", "task_outcome": "", "lcm_step": "250ms"})
	set := h.setFaults(map[string]any{"fail_hosts": "^a", "task_outcome": "timedout"})
	want(t, "set faults", set, map[string]any{"fail_rate": 0.0, "fail_hosts": "^a", "task_outcome": "TIMEDOUT"})
	r := h.expect(http.StatusBadRequest, "POST", "/_sandbox/ssp/faults", map[string]any{"fail_rate": 2, "fail_hosts": "(", "task_outcome": "LATE"}, "")
	msg := r.json(t)["error"].(string)
	for _, f := range []string{"fail_rate", "fail_hosts", "task_outcome"} {
		if !strings.Contains(msg, f) {
			t.Errorf("error %q does not name %s", msg, f)
		}
	}
	h.expect(http.StatusBadRequest, "POST", "/_sandbox/ssp/faults", map[string]any{"lcm_step": "1s"}, "")
}
