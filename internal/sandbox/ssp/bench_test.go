package ssp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

// discard is a ResponseWriter that counts and drops the body, so the
// benchmark measures the emulator, not a buffer.
type discard struct {
	header http.Header
	n      int
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkListSeededPage lists one 1000-item page from the middle of
// 100,000 seeded sensors: only the page's sensors are generated.
func BenchmarkListSeededPage(b *testing.B) {
	for _, path := range []string{"/sensors/appliances", "/sensors/appliances/details"} {
		b.Run(path, func(b *testing.B) {
			env := sim.NewEnv(sim.Options{Seed: 1, SeedSensors: 100000})
			mux := http.NewServeMux()
			ssp.New(env).Register(mux)
			req := httptest.NewRequest("GET", path+"?offset=50000&page_size=1000", nil)
			req.SetBasicAuth(sim.AdminUser, sim.DefaultPassword)
			b.ReportAllocs()
			var bytes int
			for b.Loop() {
				w := &discard{header: http.Header{}}
				mux.ServeHTTP(w, req)
				bytes = w.n
			}
			b.SetBytes(int64(bytes))
		})
	}
}
