package ssp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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

// BenchmarkBaremetalWaitRound is the emulator's side of one `token wait`
// round over 200 registering hosts: the servers list (one page) and one
// servers-status-detail query.
func BenchmarkBaremetalWaitRound(b *testing.B) {
	env := sim.NewEnv(sim.Options{Seed: 1})
	mux := http.NewServeMux()
	ssp.New(env).Register(mux)
	do := func(method, path, body, user string) *discard {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if user != "" {
			req.SetBasicAuth(user, sim.DefaultPassword)
		}
		w := &discard{header: http.Header{}}
		mux.ServeHTTP(w, req)
		return w
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/baremetal/registration-tokens", strings.NewReader(`{"display_name":"pool","passphrase":"`+goodPassphrase+`","allowed_instance_count":200}`))
	req.SetBasicAuth(sim.AdminUser, sim.DefaultPassword)
	mux.ServeHTTP(rec, req)
	var tok struct{ ID string }
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.ID == "" {
		b.Fatalf("token: %s", rec.Body)
	}
	for i := range 200 {
		do("POST", "/_sandbox/ssp/register", fmt.Sprintf(`{"token_id":%q,"passphrase":%q,"hostname":"host-%03d"}`, tok.ID, goodPassphrase, i), "")
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		n = do("GET", "/baremetal/servers", "", sim.AdminUser).n
		n += do("POST", "/baremetal/servers-status-detail", `{}`, sim.AdminUser).n
	}
	b.SetBytes(int64(n))
}
