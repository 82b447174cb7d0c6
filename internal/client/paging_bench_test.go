package client

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

// sensorPage is one 1000-sensor ListSensors page from the SSP emulator.
func sensorPage(tb testing.TB) []byte {
	tb.Helper()
	env := sim.NewEnv(sim.Options{Seed: 1, SeedSensors: 100000})
	mux := http.NewServeMux()
	ssp.New(env).Register(mux)
	req := httptest.NewRequest("GET", "/sensors/appliances?offset=50000&page_size=1000", nil)
	req.SetBasicAuth(sim.AdminUser, sim.DefaultPassword)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != 200 {
		tb.Fatalf("page: %d", rec.Code)
	}
	return rec.Body.Bytes()
}

// BenchmarkEachItem walks the items of one 1000-sensor page as raw JSON,
// the per-page work of `sensor list --all`.
func BenchmarkEachItem(b *testing.B) {
	body := sensorPage(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		env, err := EachItem(body, "results", func(raw json.RawMessage) error { n++; return nil })
		if err != nil || n != 1000 || env.Total != -1 && env.Total != 100000 {
			b.Fatalf("%d items, %+v, %v", n, env, err)
		}
	}
}

// BenchmarkListOffset follows 10 pages of 1000 sensors over loopback HTTP.
func BenchmarkListOffset(b *testing.B) {
	env := sim.NewEnv(sim.Options{Seed: 1, SeedSensors: 10000})
	mux := http.NewServeMux()
	ssp.New(env).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := New(Options{BaseURL: srv.URL}, &BasicAuth{Username: sim.AdminUser, Password: sim.DefaultPassword})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.ListOffset(b.Context(), Call{Operation: "list sensors", Method: "GET", Path: "/sensors/appliances"}, "results",
			Pager{PageSize: 1000}, func(raw json.RawMessage) error { _, err := io.Discard.Write(raw); return err })
		if err != nil || res.Fetched != 10000 {
			b.Fatalf("%+v %v", res, err)
		}
	}
}
