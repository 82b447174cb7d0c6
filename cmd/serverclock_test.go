package cmd

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestTableTimesUseTheServersClock: "in 12m" in a table counts from the
// server's clock (its Date header), as the expiry itself is the server's:
// a local clock two hours behind showed a token that expires in 10 minutes
// as "in 2h10m".
func TestTableTimesUseTheServersClock(t *testing.T) {
	sandboxEnv(t)
	serverNow := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", serverNow.UTC().Format(http.TimeFormat))
		w.Header().Set("Content-Type", "application/json")
		if o := r.URL.Query().Get("offset"); o != "" && o != "0" {
			fmt.Fprint(w, `{"results":[],"result_count":0}`)
			return
		}
		exp := serverNow.Add(10*time.Minute + 30*time.Second).UnixMilli()
		fmt.Fprintf(w, `{"results":[{"id":"4f2c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f","display_name":"pool","status":"AVAILABLE","usage_count":0,"allowed_instance_count":1,"expiration":%d}],"result_count":1,"total_result_count":1}`, exp)
	}))
	defer srv.Close()
	t.Setenv("TOKENCTL_PROFILE", "")
	t.Setenv("TOKENCTL_USERNAME", "admin")
	t.Setenv("TOKENCTL_PASSWORD", "pw")
	out, errOut, code := run{}.exec(t, "--server", srv.URL, "--platform", "ssp", "token", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "in 10m") {
		t.Errorf("want the expiry relative to the server's clock (in 10m):\n%s", out)
	}
}
