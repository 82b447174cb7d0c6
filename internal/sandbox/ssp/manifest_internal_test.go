package ssp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// TestManifestFixedOnceForOldState: a token from a state file written
// before manifests were stored gets one on first read, from the URL of that
// moment, and keeps it when the sandbox later runs on another URL.
func TestManifestFixedOnceForOldState(t *testing.T) {
	env := sim.NewEnv(sim.Options{})
	e := New(env)
	old := `{"sensor_tokens":[],"baremetal_tokens":[{"id":"6a0c3f36-0000-4000-8000-000000000001","display_name":"host-01",
		"allowed_instance_count":1,"usage_count":0,"passphrase_sha256":"x","create_time":1,"create_user":"admin",
		"expiration":9999999999999,"expiry_time_since_creation_mins":30}],"sensors":[],"seeded_overlay":{}}`
	if err := e.LoadState(json.RawMessage(old)); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.Register(mux)
	read := func(baseURL string) string {
		env.SetBaseURL(baseURL)
		req := httptest.NewRequest("GET", "/baremetal/registration-tokens/6a0c3f36-0000-4000-8000-000000000001/status", nil)
		req.SetBasicAuth(sim.AdminUser, sim.DefaultPassword)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var st struct {
			Manifest string `json:"registration_manifest"`
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &st) != nil || st.Manifest == "" {
			t.Fatalf("status: %d %s", rec.Code, rec.Body)
		}
		return st.Manifest
	}
	first := read("http://127.0.0.1:1111")
	if want := manifest("http://127.0.0.1:1111", "6a0c3f36-0000-4000-8000-000000000001", "BAREMETAL", 9999999999999); first != want {
		t.Fatalf("manifest %s, want %s", first, want)
	}
	if again := read("http://127.0.0.1:2222"); again != first {
		t.Fatalf("the manifest changed with the URL: %s, then %s", first, again)
	}
	saved, err := e.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	var st state
	if err := json.Unmarshal(saved, &st); err != nil || st.BaremetalTokens[0].Manifest != first {
		t.Fatalf("saved state %s", saved)
	}
}
