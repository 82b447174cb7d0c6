package ssp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/specs"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// fakeServers answers the ten baremetal-server operations the way the spec
// shapes them, from a fixed fleet, so the client's requests and its reading
// of responses can be checked against the spec without the sandbox.
type fakeServers struct {
	mu       sync.Mutex
	servers  []map[string]any
	bundle   []byte
	requests []string
	// breakAfter cuts the installer body after this many bytes (0: never).
	breakAfter int
	// refuseBatch answers PerformBaremetalServersAction with 403.
	refuseBatch bool
}

const (
	srvA  = "0b7e5a53-4d0f-4c8e-9d3a-6f1f2a7c9e11"
	srvB  = "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
	srvC  = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
	tok   = "613b203e-d183-4311-b0e2-bfd90b518f20"
	task1 = "5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
)

func newFakeServers() *fakeServers {
	fs := &fakeServers{bundle: bytes.Repeat([]byte("vdefend-installer\n"), 20000)}
	for i, id := range []string{srvA, srvB, srvC} {
		fs.servers = append(fs.servers, map[string]any{
			"id": id, "display_name": fmt.Sprintf("web-%02d", i+1), "_create_time": 1700000000000, "_revision": 1,
			"os_name": "Ubuntu", "os_version": "22.04", "cpu_core_count": 8, "agent_version": "5.2.0",
			"state": "READY", "registration_token_id": tok,
		})
	}
	return fs
}

func (fs *fakeServers) status(s map[string]any) map[string]any {
	return map[string]any{
		"id": s["id"], "display_name": s["display_name"], "lcm_status": "SUCCESS", "lcm_operation": "INSTALL",
		"os_details": "Ubuntu 22.04", "agent_version": s["agent_version"], "state": s["state"], "connectivity_status": "UP",
		"agent_health": map[string]any{
			"connectivity":         map[string]any{"controller_connectivity_status": "UP", "orchestrator_connectivity_status": "UP", "metrics_service_connectivity_status": "UP"},
			"agents_status":        map[string]any{"operational_status": "UP"},
			"overall_agent_health": "OK",
		},
		"last_operation_info": "NONE",
	}
}

func page(items []map[string]any, offset, size int) map[string]any {
	if size <= 0 {
		size = 1000
	}
	end := min(offset+size, len(items))
	if offset > len(items) {
		offset = end
	}
	out := map[string]any{"offset": -1, "number_of_results": end - offset, "results": items[offset:end]}
	if offset == 0 {
		out["total_result_count"] = len(items)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (fs *fakeServers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	fs.requests = append(fs.requests, r.Method+" "+r.URL.Path)
	fs.mu.Unlock()
	q := r.URL.Query()
	path := r.URL.Path
	find := func(id string) map[string]any {
		for _, s := range fs.servers {
			if s["id"] == id {
				return s
			}
		}
		return nil
	}
	notFound := func() {
		writeJSON(w, 404, map[string]any{"error_code": 404, "module_name": "baremetal-security", "error_message": "no such server"})
	}
	switch {
	case r.Method == "GET" && path == "/baremetal/servers":
		off, _ := strconv.Atoi(q.Get("offset"))
		size, _ := strconv.Atoi(q.Get("page_size"))
		items := fs.servers
		if name := q.Get("display_name"); name != "" {
			items = nil
			for _, s := range fs.servers {
				if s["display_name"] == name {
					items = append(items, s)
				}
			}
		}
		writeJSON(w, 200, page(items, off, size))
	case r.Method == "POST" && path == "/baremetal/servers-status-detail":
		var req ssp.ServerDetailsRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, 400, map[string]any{"error_code": 400, "error_message": err.Error()})
			return
		}
		var items []map[string]any
		for _, s := range fs.servers {
			if len(req.DisplayName) > 0 && !contains(req.DisplayName, s["display_name"].(string)) {
				continue
			}
			items = append(items, fs.status(s))
		}
		writeJSON(w, 200, page(items, req.Offset, req.PageSize))
	case r.Method == "POST" && path == "/baremetal/servers":
		if fs.refuseBatch {
			writeJSON(w, 403, map[string]any{"error_code": 403, "module_name": "baremetal-security", "error_message": "only enterprise_admin may batch"})
			return
		}
		var body struct{ IDs []string }
		json.NewDecoder(r.Body).Decode(&body)
		writeJSON(w, 202, map[string]any{"results": []any{map[string]any{"id": task1, "status_url": "/baremetal/tasks/" + task1}}})
	case r.Method == "GET" && path == "/baremetal/servers-summary":
		writeJSON(w, 200, map[string]any{"total_server_count": len(fs.servers),
			"agent_health_status": map[string]any{"num_ok": 3, "num_disconnected": 0, "num_degraded": 0},
			"operational_status":  map[string]any{"success": 3, "failed": 0, "in_progress": 0, "num_upgrade_failed": 0, "num_offboard_failed": 0},
			"version_stats":       map[string]any{"latest_version": "5.2.0", "latest_version_count": 3, "upgrade_needed_count": 0, "upgrade_in_progress_count": 0}})
	case r.Method == "GET" && strings.HasPrefix(path, "/baremetal/tasks/"):
		id := strings.TrimPrefix(path, "/baremetal/tasks/")
		writeJSON(w, 200, map[string]any{"id": id, "task_type": "UNINSTALL", "task_status": "COMPLETED", "_create_time": 1700000000000,
			"baremetalserver_task_info": []any{map[string]any{"id": srvA, "display_name": "web-01", "server_task_status": "SUCCESS"}}})
	case strings.HasPrefix(path, "/baremetal/download-"):
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(fs.bundle)))
		w.WriteHeader(200)
		body := fs.bundle
		if fs.breakAfter > 0 {
			body = body[:fs.breakAfter]
		}
		w.Write(body)
		if fs.breakAfter > 0 {
			panic(http.ErrAbortHandler) // the connection drops mid-body
		}
	case strings.HasPrefix(path, "/baremetal/servers/"):
		rest := strings.TrimPrefix(path, "/baremetal/servers/")
		id, sub, _ := strings.Cut(rest, "/")
		s := find(id)
		switch {
		case s == nil:
			notFound()
		case r.Method == "GET" && sub == "":
			writeJSON(w, 200, s)
		case r.Method == "GET" && sub == "status":
			writeJSON(w, 200, fs.status(s))
		case r.Method == "DELETE" && sub == "":
			writeJSON(w, 202, map[string]any{"id": task1, "status_url": "/baremetal/tasks/" + task1})
		default:
			notFound()
		}
	default:
		notFound()
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// newServersClient runs the client against fs through a recorder.
func newServersClient(t *testing.T, fs *fakeServers) (*ssp.Client, *specs.Recorder) {
	t.Helper()
	hs := httptest.NewServer(fs)
	t.Cleanup(hs.Close)
	rec := &specs.Recorder{}
	c, err := client.New(client.Options{BaseURL: hs.URL, Transport: rec, RetryBaseWait: 1}, &client.BasicAuth{Username: "admin", Password: "tokenctl-sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	return ssp.New(c), rec
}

// validateServers checks every recorded exchange against
// ssp-baremetal-servers.yaml. Its five schemas with additionalProperties
// false beside allOf reject every property under strict JSON Schema; they
// are relaxed (specs/README.md). Installer downloads are binary text/plain
// and checked for their request only. Paths under skip belong to another
// spec.
func validateServers(t *testing.T, rec *specs.Recorder, skip ...string) map[string]int {
	t.Helper()
	doc := specs.Load(t, "ssp-baremetal-servers.yaml")
	specs.RelaxAdditionalProperties(t, doc, "BaremetalServer", "BaremetalServerList", "BaremetalServerStatus", "BaremetalTaskInfo", "BaremetalServerTaskInfo")
	v := specs.NewValidator(t, doc)
	seen := map[string]int{}
next:
	for _, x := range rec.Exchanges() {
		for _, prefix := range skip {
			if strings.HasPrefix(x.Request.URL.Path, prefix) {
				continue next // another spec's operation
			}
		}
		op, err := v.Operation(x.Request)
		if err != nil {
			t.Errorf("client called a path the spec lacks: %v", err)
			continue
		}
		seen[op]++
		check := v.Validate
		if strings.HasPrefix(x.Request.URL.Path, "/baremetal/download-") || x.Status == 404 {
			// Binary bodies; the 404 no operation declares (the client
			// treats it as "already gone").
			check = v.ValidateRequest
		}
		if err := check(context.Background(), x); err != nil {
			t.Errorf("%s %s (%s): %v", x.Request.Method, x.Request.URL, op, err)
		}
	}
	return seen
}

func TestServersClientContract(t *testing.T) {
	fs := newFakeServers()
	sc, rec := newServersClient(t, fs)
	ctx := context.Background()

	var servers []map[string]any
	res, err := sc.ListBaremetalServers(ctx, ssp.ListQuery{}, client.Pager{PageSize: 2}, collect(&servers))
	if err != nil || len(servers) != 3 || res.Total != 3 {
		t.Fatalf("list: %d servers, total %d, %v", len(servers), res.Total, err)
	}
	servers = nil
	asc := true
	if _, err := sc.ListBaremetalServers(ctx, ssp.ListQuery{DisplayName: "web-02", SortBy: "display_name", Ascending: &asc}, client.Pager{}, collect(&servers)); err != nil || len(servers) != 1 {
		t.Fatalf("list --display-name: %d, %v", len(servers), err)
	}

	// Every documented filter at once (the request's shape), then paging
	// through the body: offset and page_size travel in the JSON.
	var details []map[string]any
	all := ssp.ServerDetailsRequest{SiteIDs: []string{"site-1"}, DisplayName: []string{"web-01", "web-03"}, OSDetails: []string{"Ubuntu 22.04"},
		AgentVersion: []string{"5.2.0"}, AgentHealth: []string{"OK", "DEGRADED"}, LastOperationInfo: []string{"NONE"}, SortBy: "display_name", SortAscending: &asc}
	if ps := all.Validate(); len(ps) != 0 {
		t.Fatalf("valid filters refused: %v", ps)
	}
	if _, err := sc.QueryBaremetalServerDetails(ctx, all, client.Pager{}, collect(&details)); err != nil || len(details) != 2 {
		t.Fatalf("details with filters: %d, %v", len(details), err)
	}
	details = nil
	if res, err := sc.QueryBaremetalServerDetails(ctx, ssp.ServerDetailsRequest{}, client.Pager{PageSize: 2}, collect(&details)); err != nil || len(details) != 3 || res.Total != 3 {
		t.Fatalf("details paged: %d, %v", len(details), err)
	}
	var bodies []string
	for _, x := range rec.Exchanges() {
		if x.Request.URL.Path == "/baremetal/servers-status-detail" {
			if x.Request.URL.RawQuery != "" {
				t.Errorf("the details query sent query parameters %q: its paging belongs in the body", x.Request.URL.RawQuery)
			}
			bodies = append(bodies, string(x.RequestBody))
		}
	}
	if len(bodies) != 3 || !strings.Contains(bodies[1], `"page_size":2`) || strings.Contains(bodies[1], `"offset"`) || !strings.Contains(bodies[2], `"offset":2,"page_size":2`) {
		t.Errorf("details bodies:\n%s", strings.Join(bodies, "\n"))
	}

	if _, err := sc.GetBaremetalServer(ctx, srvA); err != nil {
		t.Fatal(err)
	}
	raw, err := sc.GetBaremetalServerStatus(ctx, srvA)
	if err != nil {
		t.Fatal(err)
	}
	var st ssp.ServerStatus
	if err := json.Unmarshal(raw, &st); err != nil || st.OverallHealth() != "OK" || st.LCMStatus != "SUCCESS" {
		t.Fatalf("status: %+v %v", st, err)
	}
	if _, err := sc.GetBaremetalServerSummary(ctx); err != nil {
		t.Fatal(err)
	}
	raw, gone, err := sc.UninstallBaremetalServer(ctx, srvA, true)
	if err != nil || gone {
		t.Fatalf("uninstall: gone=%v %v", gone, err)
	}
	var a ssp.AsyncResponse
	if err := json.Unmarshal(raw, &a); err != nil || a.TaskID() != task1 {
		t.Fatalf("uninstall answer %s", raw)
	}
	if _, gone, err := sc.UninstallBaremetalServer(ctx, "11111111-2222-4333-8444-555555555555", false); err != nil || !gone {
		t.Fatalf("uninstall of a missing server: gone=%v %v", gone, err)
	}
	for _, action := range []string{ssp.ActionBatchDelete, ssp.ActionBatchUpgrade} {
		_, accepted, err := sc.BaremetalServersAction(ctx, action, []string{srvB, srvC})
		if err != nil || len(accepted) != 1 || accepted[0].TaskID() != task1 {
			t.Fatalf("%s: %v %v", action, accepted, err)
		}
	}
	traw, err := sc.GetBaremetalTask(ctx, task1)
	if err != nil {
		t.Fatal(err)
	}
	var task ssp.Task
	if err := json.Unmarshal(traw, &task); err != nil || task.TaskStatus != "COMPLETED" || len(task.Servers) != 1 {
		t.Fatalf("task %s", traw)
	}
	for _, windows := range []bool{false, true} {
		var buf bytes.Buffer
		if n, err := sc.DownloadBaremetalInstaller(ctx, "5.2.0", windows, &buf, nil); err != nil || n != int64(len(fs.bundle)) || !bytes.Equal(buf.Bytes(), fs.bundle) {
			t.Fatalf("download (windows=%v): %d bytes, %v", windows, n, err)
		}
	}

	seen := validateServers(t, rec)
	wantOps(t, seen, "GetBaremetalServerList", "QueryBaremetalServerDetails", "GetBaremetalServer", "GetBaremetalServerStatus",
		"GetBaremetalServerSummary", "UninstallBaremetalServer", "PerformBaremetalServersAction", "GetBaremetalTaskStatus",
		"GetBaremetalServerInstallerBundle", "GetBaremetalServerWindowsAgentBundle")
	for _, x := range rec.Exchanges() {
		switch {
		case x.Request.Method == "DELETE" && x.Request.URL.Path == "/baremetal/servers/"+srvA && x.Request.URL.Query().Get("force") != "true":
			t.Errorf("uninstall with force sent %s", x.Request.URL)
		case x.Request.Method == "DELETE" && x.Request.URL.Path != "/baremetal/servers/"+srvA && x.Request.URL.Query().Has("force"):
			t.Errorf("uninstall without force sent %s", x.Request.URL)
		}
	}
}

func TestDetailsRequestValidate(t *testing.T) {
	req := ssp.ServerDetailsRequest{AgentHealth: []string{"OK", "ok", "BROKEN"}, LastOperationInfo: []string{"UPGRADE_FAILED", "LOST"}, DisplayName: []string{" "}}
	ps := req.Validate()
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	want := []string{
		`display_name: an empty value was given`,
		`agent_health: "ok" is not one of OK, DISCONNECTED, DEGRADED`,
		`agent_health: "BROKEN" is not one of OK, DISCONNECTED, DEGRADED`,
		`last_operation_info: "LOST" is not one of UPGRADE_SUCCESS, UPGRADE_FAILED, UPGRADE_RUNNING, OFFBOARD_SUCCESS, OFFBOARD_FAILED, OFFBOARD_RUNNING, NONE`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// countingWriter sees the download arrive in pieces.
type countingWriter struct {
	n      int64
	writes int
	max    int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	w.writes++
	w.max = max(w.max, len(p))
	return len(p), nil
}

func TestDownloadStreams(t *testing.T) {
	fs := newFakeServers()
	fs.bundle = bytes.Repeat([]byte{0, 1, 2, 3, 0xff}, 1<<20) // 5 MiB, binary
	sc, _ := newServersClient(t, fs)
	var w countingWriter
	var calls int
	var lastTotal int64
	n, err := sc.DownloadBaremetalInstaller(context.Background(), "", false, &w, func(written, total int64) { calls++; lastTotal = total })
	if err != nil || n != int64(len(fs.bundle)) || w.n != n {
		t.Fatalf("%d bytes, %v", n, err)
	}
	// Streamed: many writes, none anywhere near the whole body.
	if w.writes < 10 || w.max > 1<<20 {
		t.Errorf("%d writes, largest %d bytes: the body was not streamed", w.writes, w.max)
	}
	if calls != w.writes || lastTotal != int64(len(fs.bundle)) {
		t.Errorf("progress: %d calls, total %d", calls, lastTotal)
	}
}

func TestDownloadBrokenBody(t *testing.T) {
	fs := newFakeServers()
	fs.breakAfter = 1000
	sc, _ := newServersClient(t, fs)
	_, err := sc.DownloadBaremetalInstaller(context.Background(), "", false, io.Discard, nil)
	var ne *client.NetworkError
	if !errors.As(err, &ne) || exit.CodeOf(err) != exit.Network {
		t.Fatalf("broken download: %v, want a network error (exit 7)", err)
	}
}

func TestDownloadErrorBody(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 403, map[string]any{"error_code": 403, "module_name": "baremetal-security", "error_message": "user auditor may not download"})
	}))
	defer hs.Close()
	c, _ := client.New(client.Options{BaseURL: hs.URL}, &client.BasicAuth{Username: "auditor", Password: "x"})
	var buf bytes.Buffer
	_, err := ssp.New(c).DownloadBaremetalInstaller(context.Background(), "", false, &buf, nil)
	if exit.CodeOf(err) != exit.Auth || !strings.Contains(err.Error(), "user auditor may not download") || buf.Len() != 0 {
		t.Fatalf("403 download: %v (wrote %d bytes)", err, buf.Len())
	}
}

func TestDetailsQueryIsARead(t *testing.T) {
	// A read is retried on 503 like a GET; a create-like POST would not be.
	var calls int
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			writeJSON(w, 503, map[string]any{"error_code": 503, "error_message": "busy"})
			return
		}
		writeJSON(w, 200, map[string]any{"results": []any{}})
	}))
	defer hs.Close()
	c, _ := client.New(client.Options{BaseURL: hs.URL, RetryBaseWait: 1}, &client.BasicAuth{Username: "admin", Password: "x"})
	if _, err := ssp.New(c).QueryBaremetalServerDetails(context.Background(), ssp.ServerDetailsRequest{}, client.Pager{}, func(json.RawMessage) error { return nil }); err != nil || calls != 2 {
		t.Fatalf("details after a 503: %d calls, %v", calls, err)
	}
}
