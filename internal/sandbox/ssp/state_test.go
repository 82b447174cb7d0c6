package ssp_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// saveState closes the sandbox (the final save) and returns its ssp section.
func saveState(t *testing.T, h *harness) json.RawMessage {
	t.Helper()
	h.close()
	return readSSPState(t, h)
}

func readSSPState(t *testing.T, h *harness) json.RawMessage {
	t.Helper()
	path := h.statePath(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vendors map[string]json.RawMessage `json:"vendors"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f.Vendors["ssp"]
}

func TestStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sandbox.json")
	opts := sim.Options{Seed: 99, SeedSensors: 100000}
	h := newHarnessState(t, opts, path)

	tok := h.createSensorToken("sensor", 3)
	tokID := tok["id"].(string)
	sensorID := h.register(tokID)["sensor_id"].(string)
	bmID := h.createBaremetalToken("rack-1", 2)["id"].(string)
	h.register(bmID)

	seededList := h.list("/sensors/appliances?page_size=3&offset=50000", admin)
	seededIDs := field[string](t, seededList, "id")
	renamed, deleted, featured := seededIDs[0], seededIDs[1], seededIDs[2]
	s := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+renamed, nil, admin).json(t)
	h.expect(http.StatusOK, "PUT", "/sensors/appliances/"+renamed, map[string]any{"id": renamed, "display_name": "renamed", "_revision": s["_revision"]}, admin)
	h.expect(http.StatusOK, "DELETE", "/sensors/appliances/"+deleted, nil, admin)
	h.expect(http.StatusOK, "POST", "/sensors/feature-config/flow-events?action=disable", map[string]any{"sensor_ids": []string{featured, sensorID}}, admin)
	h.expect(http.StatusOK, "POST", "/sensors/feature-config/ids-events?action=enable_with_pcap", map[string]any{"sensor_ids": []string{featured}}, admin)
	mps := map[string]any{"document_file_type": false, "executable_file_type": true, "media_file_type": false, "archive_file_type": true,
		"data_file_type": false, "script_file_type": true, "other_file_type": false}
	h.expect(http.StatusOK, "PUT", "/sensors/mps-global-config", mps, admin)

	// Everything a client can see, before the restart.
	paths := []string{
		"/sensors/registration-tokens", "/sensors/registration-tokens/" + tokID,
		"/baremetal/registration-tokens", "/baremetal/registration-tokens/statuses", "/baremetal/registration-tokens/" + bmID + "/status",
		"/sensors/appliances?page_size=5&offset=49998", "/sensors/appliances/details?sensor_ids=" + renamed + "&sensor_ids=" + featured + "&sensor_ids=" + sensorID,
		"/sensors/appliances/" + renamed, "/sensors/appliances/" + sensorID, "/sensors/appliances/" + featured + "/feature-config",
		"/sensors/mps-global-config", "/sensors/version-summary",
		"/sensors/appliances/details?flows_enabled=false&display_name=renamed",
	}
	// The manifests name the URL the token was created at; they are stored
	// with the token, so the restart on another port leaves them unchanged.
	get := func(h *harness, p string) string {
		return string(h.expect(http.StatusOK, "GET", p, nil, admin).body)
	}
	before := map[string]string{}
	for _, p := range paths {
		before[p] = get(h, p)
	}
	h.expect(http.StatusNotFound, "GET", "/sensors/appliances/"+deleted, nil, admin)

	raw := saveState(t, h)
	// 100,000 seeded sensors, yet the state holds only the three changed.
	if len(raw) > 16<<10 {
		t.Errorf("ssp state is %d bytes; seeded sensors must not be stored", len(raw))
	}
	var st struct {
		SensorTokens    []json.RawMessage          `json:"sensor_tokens"`
		BaremetalTokens []json.RawMessage          `json:"baremetal_tokens"`
		Sensors         []json.RawMessage          `json:"sensors"`
		Overlay         map[string]json.RawMessage `json:"seeded_overlay"`
		MPS             map[string]bool            `json:"mps_global_config"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.SensorTokens) != 1 || len(st.BaremetalTokens) != 1 || len(st.Sensors) != 1 || len(st.Overlay) != 3 || st.MPS["document_file_type"] {
		t.Fatalf("state %s", raw)
	}

	h2 := newHarnessState(t, opts, path)
	for _, p := range paths {
		if got := get(h2, p); got != before[p] {
			t.Errorf("GET %s after restart:\n%s\nbefore:\n%s", p, got, before[p])
		}
	}
	h2.expect(http.StatusNotFound, "GET", "/sensors/appliances/"+deleted, nil, admin)
	// Registration counts survived: the token still has 1 of 3 left to use.
	h2.register(tokID)
	if got := h2.expect(http.StatusOK, "GET", "/sensors/registration-tokens/"+tokID, nil, admin).json(t); got["usage_count"] != 2.0 {
		t.Errorf("usage after restart %v", got["usage_count"])
	}
}

// statePath finds the state file the harness was made with.
func (h *harness) statePath(t *testing.T) string {
	t.Helper()
	if h.path == "" {
		t.Fatal("the harness has no state file")
	}
	return h.path
}
