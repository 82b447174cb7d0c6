package ssp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// detail is the part of SensorDetail the tests look at.
type detail struct {
	SensorInfo struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		TokenID     string `json:"token_id"`
		Revision    int    `json:"_revision"`
	} `json:"sensor_info"`
	ApplianceInfo struct {
		CPUSockets      int    `json:"cpu_sockets"`
		CPUCores        int    `json:"cpu_cores"`
		Memory          int    `json:"memory"`
		SoftwareVersion string `json:"software_version"`
	} `json:"appliance_info"`
	Networking struct {
		HostName string `json:"host_name"`
		NICs     []struct {
			MAC    string `json:"mac_address"`
			IPv4   string `json:"ipv4_address"`
			IsMgmt bool   `json:"is_mgmt"`
		} `json:"nics"`
		DNS          []string `json:"dns"`
		NTP          []string `json:"ntp"`
		HomeNetworks []string `json:"home_networks"`
	} `json:"appliance_networking_info"`
	Bundle struct {
		BundleID string `json:"bundle_id"`
		Version  string `json:"ids_signature_bundle_version"`
		Count    int    `json:"number_of_signatures"`
	} `json:"appliance_ids_signature_info"`
	Features struct {
		IDS       bool `json:"ids_enabled"`
		IDSConfig struct {
			PCAP bool `json:"pcap_enabled"`
		} `json:"ids_config"`
		Flows     bool            `json:"flows_enabled"`
		MPS       bool            `json:"mps_enabled"`
		MPSConfig map[string]bool `json:"mps_config"`
	} `json:"sensor_feature_config"`
	Status struct {
		Registration string `json:"registration_status"`
		Health       string `json:"health"`
		Rapid        string `json:"rapid_health"`
		Uptime       int64  `json:"uptime"`
	} `json:"sensor_status"`
}

func (h *harness) details(q string) ([]detail, listBody) {
	h.t.Helper()
	l := h.list("/sensors/appliances/details?"+q, admin)
	out := make([]detail, len(l.Results))
	for i, raw := range l.Results {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			h.t.Fatal(err)
		}
	}
	return out, l
}

func TestSeededSensors(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 42, SeedSensors: 1000})
	all, l := h.details("page_size=1000")
	if len(all) != 1000 || *l.TotalResultCount != 1000 || l.TotalPages != 1 {
		t.Fatalf("%d sensors, envelope %+v", len(all), l)
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	counts := map[string]int{}
	for i, d := range all {
		s := d.SensorInfo
		if !uuidV4.MatchString(s.ID) || !uuidV4.MatchString(s.TokenID) {
			t.Fatalf("sensor %d: id %s token %s are not v4 UUIDs", i, s.ID, s.TokenID)
		}
		if ids[s.ID] || names[s.DisplayName] {
			t.Fatalf("sensor %d repeats id %s or name %s", i, s.ID, s.DisplayName)
		}
		ids[s.ID], names[s.DisplayName] = true, true
		if want := fmt.Sprintf("-ndr-%05d", i+1); !strings.HasSuffix(s.DisplayName, want) {
			t.Errorf("sensor %d name %s", i, s.DisplayName)
		}
		a := d.ApplianceInfo
		if a.CPUSockets < 2 || a.CPUSockets > 64 || a.Memory < 8 || a.Memory > 2048 || a.CPUCores < 0 || a.CPUCores > 256 {
			t.Errorf("sensor %d appliance out of the spec's ranges: %+v", i, a)
		}
		n := d.Networking
		if n.HostName != "ndr-sensor-"+s.ID[:8] || len(n.NICs) != 2 || !n.NICs[1].IsMgmt || n.NICs[1].IPv4 == "" || len(n.DNS) == 0 || len(n.NTP) == 0 || len(n.HomeNetworks) == 0 {
			t.Errorf("sensor %d networking %+v", i, n)
		}
		if d.Bundle.BundleID == "" || d.Bundle.Count == 0 {
			t.Errorf("sensor %d bundle %+v", i, d.Bundle)
		}
		if d.Features.IDSConfig.PCAP && !d.Features.IDS {
			t.Errorf("sensor %d has PCAP without IDS", i)
		}
		if !d.Features.MPS && d.Status.Rapid != "DISABLED" && d.Status.Rapid != "NOT_AVAILABLE" {
			t.Errorf("sensor %d: MPS off but rapid_health %s", i, d.Status.Rapid)
		}
		counts["reg:"+d.Status.Registration]++
		counts["health:"+d.Status.Health]++
		counts["version:"+a.SoftwareVersion[:3]]++
	}
	// The mixes: mostly REGISTERED and OK, with some of everything.
	if counts["reg:REGISTERED"] < 850 || counts["reg:IN_PROGRESS"] == 0 || counts["reg:FAILED"] == 0 {
		t.Errorf("registration mix %v", counts)
	}
	if counts["health:OK"] < 700 || counts["health:DEGRADED"] == 0 || counts["health:DISCONNECTED"] == 0 || counts["health:DOWN"] == 0 {
		t.Errorf("health mix %v", counts)
	}
	if counts["version:5.1"] == 0 || counts["version:5.2"] <= counts["version:5.1"] {
		t.Errorf("version mix %v", counts)
	}

	// Every seeded sensor is reachable by id, with the listed data.
	for _, d := range all[:20] {
		got := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+d.SensorInfo.ID, nil, auditor).json(t)
		if got["display_name"] != d.SensorInfo.DisplayName || got["token_id"] != d.SensorInfo.TokenID {
			t.Errorf("GET %s: %v", d.SensorInfo.ID, got)
		}
		// UUIDs compare case-insensitively.
		h.expect(http.StatusOK, "GET", "/sensors/appliances/"+strings.ToUpper(d.SensorInfo.ID)+"/status", nil, admin)
	}
	h.expectError(http.StatusNotFound, "sensor", "GET", "/sensors/appliances/"+"0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c", nil, admin, "not found")
}

func TestSeededDeterminism(t *testing.T) {
	page := func(seed int64) string {
		h := newHarness(t, sim.Options{Seed: seed, SeedSensors: 500})
		return string(h.expect(http.StatusOK, "GET", "/sensors/appliances/details?offset=100&page_size=50", nil, admin).body)
	}
	a, b, c := page(5), page(5), page(6)
	if a != b {
		t.Fatal("the same seed gave different sensors")
	}
	if a == c {
		t.Fatal("different seeds gave the same sensors")
	}
	// The clock moves uptime, nothing else.
	h := newHarness(t, sim.Options{Seed: 5, SeedSensors: 500})
	h.advance(time.Hour)
	later := string(h.expect(http.StatusOK, "GET", "/sensors/appliances?offset=100&page_size=50", nil, admin).body)
	first := newHarness(t, sim.Options{Seed: 5, SeedSensors: 500})
	if now := string(first.expect(http.StatusOK, "GET", "/sensors/appliances?offset=100&page_size=50", nil, admin).body); now != later {
		t.Fatal("sensors changed with the clock")
	}
}

func TestSensorPagination(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 3, SeedSensors: 1000})
	var ids []string
	for off := 0; ; off += 300 {
		l := h.list(fmt.Sprintf("/sensors/appliances?page_size=300&offset=%d", off), admin)
		if l.TotalPages != 4 {
			t.Fatalf("offset %d: total_pages %d", off, l.TotalPages)
		}
		if (off == 0) != (l.TotalResultCount != nil) {
			t.Fatalf("offset %d: total_result_count %v (first page only)", off, l.TotalResultCount)
		}
		ids = append(ids, field[string](t, l, "id")...)
		if l.NumberOfResults < 300 {
			break
		}
	}
	if len(ids) != 1000 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 1000 {
		t.Fatalf("paging gave %d ids", len(ids))
	}
	// page_size defaults to 1000; 0 means the default too.
	for _, q := range []string{"", "?page_size=0"} {
		if l := h.list("/sensors/appliances"+q, admin); l.NumberOfResults != 1000 {
			t.Errorf("%q: %d results", q, l.NumberOfResults)
		}
	}
	// Deleting shifts later positions without a gap.
	h.expect(http.StatusOK, "DELETE", "/sensors/appliances/"+ids[0], nil, admin)
	h.expect(http.StatusOK, "DELETE", "/sensors/appliances/"+ids[2], nil, admin)
	l := h.list("/sensors/appliances?page_size=3", admin)
	if got := field[string](t, l, "id"); !slices.Equal(got, []string{ids[1], ids[3], ids[4]}) || *l.TotalResultCount != 998 {
		t.Errorf("after deletes %v (total %d)", got, *l.TotalResultCount)
	}
	if got := field[string](t, h.list("/sensors/appliances?page_size=2&offset=996", admin), "id"); !slices.Equal(got, ids[998:]) {
		t.Errorf("last page after deletes %v", got)
	}
	for q, frag := range map[string]string{"sort_by=health": "sort_by", "offset=-3": "offset", "page_size=big": "page_size"} {
		h.expectError(http.StatusBadRequest, "sensor", "GET", "/sensors/appliances?"+q, nil, admin, frag)
	}
	if got := field[string](t, h.list("/sensors/appliances?sort_by=display_name&sort_ascending=true&page_size=3", admin), "display_name"); !slices.IsSorted(got) {
		t.Errorf("by name %v", got)
	}
}

func TestSensorDetailFilters(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 11, SeedSensors: 1000})
	all, _ := h.details("page_size=1000")
	count := func(pred func(d detail) bool) int {
		n := 0
		for _, d := range all {
			if pred(d) {
				n++
			}
		}
		return n
	}
	check := func(q string, pred func(d detail) bool) {
		t.Helper()
		got, l := h.details(q + "&page_size=1000")
		for _, d := range got {
			if !pred(d) {
				t.Errorf("%s returned %+v", q, d.SensorInfo)
			}
		}
		if want := count(pred); len(got) != want || *l.TotalResultCount != want {
			t.Errorf("%s: %d results (total %d), want %d", q, len(got), *l.TotalResultCount, want)
		}
		if len(got) == 0 {
			t.Errorf("%s matched nothing: a weak test", q)
		}
	}
	check("registration_status=registered", func(d detail) bool { return d.Status.Registration == "REGISTERED" })
	check("registration_status=IN_PROGRESS", func(d detail) bool { return d.Status.Registration == "IN_PROGRESS" })
	check("health=ok", func(d detail) bool { return d.Status.Health == "OK" })
	check("health=Degraded", func(d detail) bool { return d.Status.Health == "DEGRADED" })
	check("health=disconnected", func(d detail) bool { return d.Status.Health == "DISCONNECTED" })
	check("flows_enabled=false", func(d detail) bool { return !d.Features.Flows })
	check("mps_enabled=true", func(d detail) bool { return d.Features.MPS })
	check("ids_enabled=false", func(d detail) bool { return !d.Features.IDS })
	check("pcap_enabled=true", func(d detail) bool { return d.Features.IDSConfig.PCAP })
	check("health=ok&flows_enabled=true&ids_enabled=true", func(d detail) bool {
		return d.Status.Health == "OK" && d.Features.Flows && d.Features.IDS
	})
	check("display_name="+all[7].SensorInfo.DisplayName, func(d detail) bool { return d.SensorInfo.DisplayName == all[7].SensorInfo.DisplayName })
	picked := map[string]bool{all[3].SensorInfo.ID: true, all[500].SensorInfo.ID: true, all[999].SensorInfo.ID: true}
	check("sensor_ids="+all[999].SensorInfo.ID+"&sensor_ids="+all[3].SensorInfo.ID+"&sensor_ids="+strings.ToUpper(all[500].SensorInfo.ID)+"&sensor_ids=nope",
		func(d detail) bool { return picked[d.SensorInfo.ID] })

	version := func(d detail) []int {
		var v []int
		for _, p := range strings.Split(d.ApplianceInfo.SoftwareVersion, ".") {
			n, _ := strconv.Atoi(p)
			v = append(v, n)
		}
		return v
	}
	check("software_versions=5.*", func(d detail) bool { return version(d)[0] == 5 })
	check("software_versions=5.2.*", func(d detail) bool { return version(d)[1] == 2 })
	check("software_versions=5.1.1.*", func(d detail) bool { return version(d)[1] == 1 && version(d)[2] == 1 })
	check("software_versions=%3C5.2", func(d detail) bool { return version(d)[1] < 2 })
	// >5.2 compares against 5.2.0.0.0.0, so every 5.2 build matches.
	check("software_versions=%3E5.2", func(d detail) bool { return version(d)[1] == 2 })
	check("software_versions=%3E5.2.0.0.0.25398843", func(d detail) bool { return d.ApplianceInfo.SoftwareVersion == "5.2.1.0.0.25821907" })
	check("software_versions=5.2.0.0.0.25398843", func(d detail) bool { return d.ApplianceInfo.SoftwareVersion == "5.2.0.0.0.25398843" })
	check("software_versions=5.1.0.*&software_versions=5.2.1.*", func(d detail) bool {
		v := version(d)
		return (v[1] == 1 && v[2] == 0) || (v[1] == 2 && v[2] == 1)
	})
	if got, _ := h.details("software_versions=5.2"); len(got) != 0 {
		t.Errorf("'5.2' is 5.2.0.0.0.0 exactly, matched %d", len(got))
	}
	if got, _ := h.details("software_versions=%3C5.1"); len(got) != 0 {
		t.Errorf("'<5.1' matched %d", len(got))
	}

	for _, bad := range []string{"5", "*", "5.*.1", "%3E5.*", "5.2.a", "1.2.3.4.5.6.7", "", "5..2", "abc"} {
		h.expectError(http.StatusBadRequest, "sensor", "GET", "/sensors/appliances/details?software_versions="+bad, nil, admin, "software_versions")
	}
	for q, frag := range map[string]string{
		"registration_status=done": "registration_status", "health=sleepy": "health", "flows_enabled=yes": "flows_enabled",
		"mps_enabled=1": "mps_enabled", "ids_enabled=on": "ids_enabled", "pcap_enabled=no": "pcap_enabled", "sort_by=memory": "sort_by",
	} {
		h.expectError(http.StatusBadRequest, "sensor", "GET", "/sensors/appliances/details?"+q, nil, admin, frag)
	}

	// Sorting by the documented fields, with paging over the sorted order.
	for _, by := range []string{"display_name", "registration_status", "health"} {
		got, _ := h.details("sort_by=" + by + "&sort_ascending=true&page_size=1000")
		keys := make([]string, len(got))
		for i, d := range got {
			keys[i] = map[string]string{"display_name": d.SensorInfo.DisplayName, "registration_status": d.Status.Registration, "health": d.Status.Health}[by]
		}
		if !slices.IsSorted(keys) {
			t.Errorf("sort_by=%s ascending is not sorted", by)
		}
	}
	desc, l := h.details("sort_by=flows_enabled&page_size=10&offset=0")
	if !desc[0].Features.Flows || l.SortBy != "flows_enabled" || *l.SortAscending {
		t.Errorf("sort_by=flows_enabled descending starts with %+v (%+v)", desc[0].Features, l)
	}
	tail, _ := h.details("sort_by=flows_enabled&sort_ascending=false&page_size=10&offset=990")
	if tail[len(tail)-1].Features.Flows {
		t.Error("the last of flows_enabled descending has flows enabled")
	}
	for _, by := range []string{"mps_enabled", "ids_enabled", "pcap_enabled"} {
		h.list("/sensors/appliances/details?sort_by="+by, admin)
	}
}

func TestSensorUpdate(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 1, SeedSensors: 10})
	tokID := h.createSensorToken("sensor", 1)["id"].(string)
	registered := h.register(tokID)["sensor_id"].(string)
	seeded := field[string](t, h.list("/sensors/appliances?page_size=1", admin), "id")[0]

	for _, id := range []string{seeded, registered} {
		s := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+id, nil, admin).json(t)
		if s["_revision"] != 1.0 {
			t.Fatalf("fresh sensor revision %v", s["_revision"])
		}
		path := "/sensors/appliances/" + id
		h.expectError(http.StatusPreconditionRequired, "sensor", "PUT", path, map[string]any{"id": id, "display_name": "x"}, admin, "_revision")
		h.expectError(http.StatusPreconditionFailed, "sensor", "PUT", path, map[string]any{"id": id, "display_name": "x", "_revision": 7}, admin, "stale")
		h.expectError(http.StatusBadRequest, "sensor", "PUT", path, map[string]any{"id": id, "_revision": 1}, admin, "display_name is required")
		h.expectError(http.StatusBadRequest, "sensor", "PUT", path, map[string]any{"display_name": "x", "_revision": 1}, admin, "id is required")
		h.expectError(http.StatusBadRequest, "sensor", "PUT", path, map[string]any{"id": "0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c", "display_name": "x", "_revision": 1}, admin, "id must be")
		h.expectError(http.StatusBadRequest, "sensor", "PUT", path, map[string]any{"id": id, "display_name": strings.Repeat("x", 256), "_revision": 1}, admin, "255")
		h.expectError(http.StatusBadRequest, "sensor", "PUT", path, map[string]any{"id": id, "display_name": "x", "description": strings.Repeat("x", 1025), "_revision": 1}, admin, "1024")
		h.expectError(http.StatusBadRequest, "sensor", "PUT", path, `{"id":`, admin)
		h.expectError(http.StatusForbidden, "sensor", "PUT", path, map[string]any{"id": id, "display_name": "x", "_revision": 1}, auditor)

		h.advance(time.Minute)
		body := map[string]any{"id": id, "display_name": "edge-" + id[:4], "description": "moved", "_revision": 1,
			"token_id": "0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c", "key_size": 1, "_create_user": "mallory"}
		got := h.expect(http.StatusOK, "PUT", path, body, admin).json(t)
		if got["_revision"] != 2.0 || got["display_name"] != "edge-"+id[:4] || got["description"] != "moved" || got["_last_modified_user"] != "admin" {
			t.Errorf("update answer %v", got)
		}
		if got["token_id"] != s["token_id"] || got["key_size"] != s["key_size"] || got["_create_user"] != s["_create_user"] || got["_create_time"] != s["_create_time"] {
			t.Errorf("fields other than display_name and description changed: %v", got)
		}
		if lm := got["_last_modified_time"].(float64); int64(lm) <= int64(s["_last_modified_time"].(float64)) {
			t.Errorf("_last_modified_time did not move: %v", lm)
		}
		again := h.expect(http.StatusOK, "GET", path, nil, admin).json(t)
		if again["display_name"] != got["display_name"] || again["_revision"] != 2.0 {
			t.Errorf("GET after update %v", again)
		}
		h.expectError(http.StatusPreconditionFailed, "sensor", "PUT", path, body, admin)
		// Leaving description out clears it (PUT replaces).
		cleared := h.expect(http.StatusOK, "PUT", path, map[string]any{"id": id, "display_name": "edge", "_revision": 2}, admin).json(t)
		if _, has := cleared["description"]; has || cleared["_revision"] != 3.0 {
			t.Errorf("after a PUT without description: %v", cleared)
		}
	}
	// The rename shows in the lists and their filter.
	if got := field[string](t, h.list("/sensors/appliances?display_name=edge", admin), "id"); len(got) != 2 {
		t.Errorf("display_name=edge finds %v", got)
	}
	h.expectError(http.StatusNotFound, "sensor", "PUT", "/sensors/appliances/0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c",
		map[string]any{"id": "0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c", "display_name": "x", "_revision": 1}, admin)
}

func TestSensorDelete(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 1, SeedSensors: 10})
	registered := h.register(h.createSensorToken("sensor", 1)["id"].(string))["sensor_id"].(string)
	seeded := field[string](t, h.list("/sensors/appliances?page_size=1&offset=4", admin), "id")[0]
	for _, id := range []string{seeded, registered} {
		h.expectError(http.StatusForbidden, "sensor", "DELETE", "/sensors/appliances/"+id, nil, auditor)
		for range 2 {
			if r := h.expect(http.StatusOK, "DELETE", "/sensors/appliances/"+id, nil, admin); len(r.body) != 0 {
				t.Errorf("delete body %s", r.body)
			}
		}
		for _, sub := range []string{"", "/status", "/ids-signature-bundle", "/feature-config"} {
			h.expect(http.StatusNotFound, "GET", "/sensors/appliances/"+id+sub, nil, admin)
		}
	}
	l := h.list("/sensors/appliances", admin)
	if *l.TotalResultCount != 9 || slices.Contains(field[string](t, l, "id"), seeded) {
		t.Errorf("after deletes: %d sensors", *l.TotalResultCount)
	}
	if got, _ := h.details("sensor_ids=" + seeded); len(got) != 0 {
		t.Error("a deleted sensor is still found by sensor_ids")
	}
	sum := h.expect(http.StatusOK, "GET", "/sensors/version-summary", nil, admin).json(t)
	total := 0.0
	for _, r := range sum["results"].([]any) {
		total += r.(map[string]any)["count"].(float64)
	}
	if total != 9 {
		t.Errorf("version summary counts %v sensors, want 9", total)
	}
	h.expect(http.StatusOK, "DELETE", "/sensors/appliances/never-existed", nil, admin)
}

func TestSensorStatusBundleFeatures(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 8, SeedSensors: 200})
	all, _ := h.details("page_size=200")
	d := all[0]
	id := d.SensorInfo.ID
	st := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+id+"/status", nil, auditor).json(t)
	if st["registration_status"] != d.Status.Registration || st["health"] != d.Status.Health {
		t.Errorf("status %v vs details %+v", st, d.Status)
	}
	h.advance(time.Minute)
	if later := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+id+"/status", nil, auditor).json(t); later["uptime"].(float64)-st["uptime"].(float64) != 60000 {
		t.Errorf("uptime moved from %v to %v in a minute", st["uptime"], later["uptime"])
	}
	b := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+id+"/ids-signature-bundle", nil, auditor).json(t)
	if b["bundle_id"] != d.Bundle.BundleID || b["ids_signature_bundle_version"] != d.Bundle.Version {
		t.Errorf("bundle %v vs %+v", b, d.Bundle)
	}
	f := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+id+"/feature-config", nil, auditor).json(t)
	if f["flows_enabled"] != d.Features.Flows || f["ids_enabled"] != d.Features.IDS || f["mps_enabled"] != d.Features.MPS {
		t.Errorf("feature-config %v vs %+v", f, d.Features)
	}
}

func TestFeatureConfig(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 4, SeedSensors: 100})
	registered := h.register(h.createSensorToken("sensor", 1)["id"].(string))["sensor_id"].(string)
	ids := field[string](t, h.list("/sensors/appliances?page_size=30", admin), "id")
	deleted := ids[29]
	h.expect(http.StatusOK, "DELETE", "/sensors/appliances/"+deleted, nil, admin)
	unknown := "0e6c2ad1-94b7-4c38-9a51-6f0f5a1d2e3c"
	targets := []string{ids[0], ids[1], registered, unknown, deleted, strings.ToUpper(ids[2])}

	features := func(id string) map[string]any {
		return h.expect(http.StatusOK, "GET", "/sensors/appliances/"+id+"/feature-config", nil, admin).json(t)
	}
	type result struct {
		Enabled    bool     `json:"enabled"`
		PCAP       *bool    `json:"pcap_enabled"`
		Successful []string `json:"successful_sensor_ids"`
		Failed     []string `json:"failed_sensor_ids"`
	}
	post := func(path string, ids []string) result {
		t.Helper()
		var r result
		if err := json.Unmarshal(h.expect(http.StatusOK, "POST", path, map[string]any{"sensor_ids": ids}, admin).body, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := post("/sensors/feature-config/ids-events?action=enable_with_pcap", targets)
	if !r.Enabled || r.PCAP == nil || !*r.PCAP || !slices.Equal(r.Successful, []string{ids[0], ids[1], registered, strings.ToUpper(ids[2])}) || !slices.Equal(r.Failed, []string{unknown, deleted}) {
		t.Errorf("ids enable_with_pcap: %+v", r)
	}
	for _, id := range []string{ids[0], ids[2], registered} {
		if f := features(id); f["ids_enabled"] != true || f["ids_config"].(map[string]any)["pcap_enabled"] != true {
			t.Errorf("%s after enable_with_pcap: %v", id, f)
		}
	}
	r = post("/sensors/feature-config/ids-events?action=enable_without_pcap", []string{ids[0]})
	if !r.Enabled || *r.PCAP || features(ids[0])["ids_config"].(map[string]any)["pcap_enabled"] != false {
		t.Errorf("enable_without_pcap: %+v", r)
	}
	r = post("/sensors/feature-config/ids-events?action=disable", []string{ids[0], ids[0]})
	if r.Enabled || *r.PCAP || len(r.Successful) != 1 || r.Failed != nil || features(ids[0])["ids_enabled"] != false {
		t.Errorf("ids disable: %+v", r)
	}
	r = post("/sensors/feature-config/flow-events?action=disable", []string{ids[1], registered})
	if r.Enabled || r.PCAP != nil || features(ids[1])["flows_enabled"] != false || features(registered)["flows_enabled"] != false {
		t.Errorf("flows disable: %+v", r)
	}
	post("/sensors/feature-config/flow-events?action=enable", []string{ids[1]})
	if features(ids[1])["flows_enabled"] != true {
		t.Error("flows enable did not stick")
	}
	post("/sensors/feature-config/malware-prevention-events?action=enable", []string{ids[3], registered})
	if features(ids[3])["mps_enabled"] != true {
		t.Error("mps enable did not stick")
	}
	if st := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+registered+"/status", nil, admin).json(t); st["rapid_health"] != "OK" {
		t.Errorf("MPS on, rapid_health %v", st["rapid_health"])
	}
	post("/sensors/feature-config/malware-prevention-events?action=disable", []string{registered})
	if st := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+registered+"/status", nil, admin).json(t); st["rapid_health"] != "DISABLED" {
		t.Errorf("MPS off, rapid_health %v", st["rapid_health"])
	}
	r = post("/sensors/feature-config/malware-prevention-events?action=enable", []string{unknown})
	if r.Successful != nil || !slices.Equal(r.Failed, []string{unknown}) {
		t.Errorf("all unknown: %+v", r)
	}
	// The filters see the change.
	got, _ := h.details("ids_enabled=false&sensor_ids=" + ids[0])
	if len(got) != 1 {
		t.Error("ids_enabled=false does not find the sensor just disabled")
	}

	twentyFive := ids[:25]
	if r := post("/sensors/feature-config/flow-events?action=enable", twentyFive); len(r.Successful) != 25 {
		t.Errorf("25 ids: %+v", r)
	}
	tooMany := append(slices.Clone(ids[:25]), ids[25])
	for _, p := range []string{"/sensors/feature-config/ids-events?action=disable", "/sensors/feature-config/flow-events?action=disable", "/sensors/feature-config/malware-prevention-events?action=disable"} {
		base := p[:strings.Index(p, "?")]
		h.expectError(http.StatusBadRequest, "sensor", "POST", p, map[string]any{"sensor_ids": tooMany}, admin, "1 to 25", "26")
		h.expectError(http.StatusBadRequest, "sensor", "POST", p, map[string]any{"sensor_ids": []string{}}, admin, "1 to 25")
		h.expectError(http.StatusBadRequest, "sensor", "POST", p, map[string]any{}, admin, "1 to 25")
		h.expectError(http.StatusBadRequest, "sensor", "POST", p, map[string]any{"sensor_ids": []string{"8c147e21-7410-0f77-a3a6-e7aa6034992f"}}, admin, "not a UUID")
		h.expectError(http.StatusBadRequest, "sensor", "POST", p, map[string]any{"sensor_ids": []string{ids[0]}, "extra": 1}, admin, "extra")
		h.expectError(http.StatusBadRequest, "sensor", "POST", p, `{"sensor_ids": [`, admin)
		h.expectError(http.StatusBadRequest, "sensor", "POST", base, map[string]any{"sensor_ids": []string{ids[0]}}, admin, "action")
		h.expectError(http.StatusBadRequest, "sensor", "POST", base+"?action=on", map[string]any{"sensor_ids": []string{ids[0]}}, admin, "action")
		h.expectError(http.StatusForbidden, "sensor", "POST", p, map[string]any{"sensor_ids": []string{ids[0]}}, auditor)
	}
	// ids-events takes its own actions only, and the others theirs.
	h.expectError(http.StatusBadRequest, "sensor", "POST", "/sensors/feature-config/ids-events?action=enable", map[string]any{"sensor_ids": []string{ids[0]}}, admin)
	h.expectError(http.StatusBadRequest, "sensor", "POST", "/sensors/feature-config/flow-events?action=enable_with_pcap", map[string]any{"sensor_ids": []string{ids[0]}}, admin)
}

func TestMPSGlobalConfig(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 2, SeedSensors: 3})
	names := []string{"document_file_type", "executable_file_type", "media_file_type", "archive_file_type", "data_file_type", "script_file_type", "other_file_type"}
	got := h.expect(http.StatusOK, "GET", "/sensors/mps-global-config", nil, auditor).json(t)
	for _, n := range names {
		if got[n] != true {
			t.Errorf("default %s = %v", n, got[n])
		}
	}
	cfg := map[string]any{}
	for i, n := range names {
		cfg[n] = i%2 == 0
	}
	if put := h.expect(http.StatusOK, "PUT", "/sensors/mps-global-config", cfg, admin).json(t); fmt.Sprint(put) != fmt.Sprint(cfg) {
		t.Errorf("PUT answer %v", put)
	}
	if again := h.expect(http.StatusOK, "GET", "/sensors/mps-global-config", nil, admin).json(t); fmt.Sprint(again) != fmt.Sprint(cfg) {
		t.Errorf("GET after PUT %v", again)
	}
	id := field[string](t, h.list("/sensors/appliances", admin), "id")[0]
	if mc := h.expect(http.StatusOK, "GET", "/sensors/appliances/"+id+"/feature-config", nil, admin).json(t)["mps_config"]; fmt.Sprint(mc) != fmt.Sprint(cfg) {
		t.Errorf("a sensor's mps_config %v does not follow the global %v", mc, cfg)
	}
	partial := map[string]any{"document_file_type": true, "media_file_type": false}
	h.expectError(http.StatusBadRequest, "sensor", "PUT", "/sensors/mps-global-config", partial, admin, "executable_file_type is required", "other_file_type is required")
	wrong := maps(cfg, "data_file_type", "yes")
	h.expectError(http.StatusBadRequest, "sensor", "PUT", "/sensors/mps-global-config", wrong, admin, "data_file_type must be true or false")
	extra := maps(cfg, "video_file_type", true)
	h.expectError(http.StatusBadRequest, "sensor", "PUT", "/sensors/mps-global-config", extra, admin, "video_file_type")
	h.expectError(http.StatusBadRequest, "sensor", "PUT", "/sensors/mps-global-config", "nope", admin)
	h.expectError(http.StatusForbidden, "sensor", "PUT", "/sensors/mps-global-config", cfg, auditor)
}

func maps(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for a, b := range m {
		if a != k {
			out[a] = b
		}
	}
	return out
}

func TestVersionSummary(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 21, SeedSensors: 2000})
	h.register(h.createSensorToken("sensor", 1)["id"].(string))
	all, _ := h.details("page_size=3000")
	want := map[string]int{}
	for _, d := range all {
		want[d.ApplianceInfo.SoftwareVersion]++
	}
	var sum struct {
		NumberOfResults int `json:"number_of_results"`
		TotalPages      int `json:"total_pages"`
		Results         []struct {
			Version string `json:"software_version"`
			Count   int    `json:"count"`
		} `json:"results"`
	}
	if err := json.Unmarshal(h.expect(http.StatusOK, "GET", "/sensors/version-summary", nil, auditor).body, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.NumberOfResults != len(want) || sum.TotalPages != 1 || len(sum.Results) != len(want) {
		t.Fatalf("summary %+v, want %v", sum, want)
	}
	var versions []string
	for _, r := range sum.Results {
		if want[r.Version] != r.Count {
			t.Errorf("%s: %d, want %d", r.Version, r.Count, want[r.Version])
		}
		versions = append(versions, r.Version)
	}
	if !slices.IsSorted(versions) {
		t.Errorf("versions not in order: %v", versions)
	}
}

// TestHundredThousandSeeded lists deep pages of a large fleet: the emulator
// generates only what a page needs (the benchmark measures the cost).
func TestHundredThousandSeeded(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 1, SeedSensors: 100000})
	l := h.list("/sensors/appliances?offset=99000&page_size=1000", admin)
	if l.NumberOfResults != 1000 || l.TotalPages != 100 {
		t.Fatalf("last page %+v", l)
	}
	ids := field[string](t, l, "id")
	names := field[string](t, l, "display_name")
	if !strings.HasSuffix(names[999], "-ndr-100000") {
		t.Errorf("last name %s", names[999])
	}
	h.expect(http.StatusOK, "GET", "/sensors/appliances/"+ids[999]+"/status", nil, admin)
	got, dl := h.details("health=down&software_versions=5.1.*&page_size=5")
	if len(got) != 5 || *dl.TotalResultCount < 100 {
		t.Errorf("filtered over 100k: %d results of %d", len(got), *dl.TotalResultCount)
	}
	desc := field[string](t, h.list("/sensors/appliances/details?sort_by=display_name&page_size=3", admin), "sensor_info", "display_name")
	asc := field[string](t, h.list("/sensors/appliances/details?sort_by=display_name&sort_ascending=true&page_size=3", admin), "sensor_info", "display_name")
	if !slices.IsSorted(asc) || !slices.IsSortedFunc(desc, func(a, b string) int { return strings.Compare(b, a) }) || desc[0] <= asc[0] {
		t.Errorf("sorted over 100k: ascending %v, descending %v", asc, desc)
	}
}

// TestConcurrentUse lists while another goroutine changes the same
// sensors; run with -race it checks that lists read a snapshot, not live
// state.
func TestConcurrentUse(t *testing.T) {
	h := newHarness(t, sim.Options{Seed: 9, SeedSensors: 300})
	ids := field[string](t, h.list("/sensors/appliances?page_size=20", admin), "id")
	body, _ := json.Marshal(map[string]any{"sensor_ids": ids})
	errs := make(chan error, 1)
	go func() {
		// No t.Fatal off the test goroutine: errors come back on errs.
		var err error
		for i := 0; i < 20 && err == nil; i++ {
			action := []string{"enable", "disable"}[i%2]
			req, _ := http.NewRequest("POST", h.ts.URL+"/sensors/feature-config/flow-events?action="+action, strings.NewReader(string(body)))
			req.SetBasicAuth(admin, sim.DefaultPassword)
			var res *http.Response
			if res, err = h.ts.Client().Do(req); err == nil {
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					err = fmt.Errorf("feature update: %d", res.StatusCode)
				}
			}
		}
		errs <- err
	}()
	for range 10 {
		h.list("/sensors/appliances/details?page_size=50&flows_enabled=true", admin)
		h.list("/sensors/appliances?sort_by=display_name&page_size=5", admin)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}
