package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// TestListRepeatingServerIsAnError runs list commands against a server that
// ignores offset and echoes -1, as the vendor's own examples do: it sends
// its first full page for every request. Lists follow every page by
// default, so without the check they would loop forever; each ends after
// the second request with exit 1 naming the operation.
func TestListRepeatingServerIsAnError(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) > 100 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var items []string
		for i := range 1000 {
			items = append(items, fmt.Sprintf(`{"id":"00000000-0000-4000-8000-%012d","display_name":"s%d","status":"AVAILABLE"}`, i, i))
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"offset":-1,"total_result_count":5000,"results":[%s]}`, strings.Join(items, ","))
	}))
	defer srv.Close()
	pe := newProcEnv(t)
	pe.Set("TOKENCTL_SERVER", srv.URL)
	pe.Set("TOKENCTL_PLATFORM", "ssp")
	pe.Set("TOKENCTL_USERNAME", "admin")
	pe.Set("TOKENCTL_PASSWORD", "pw")
	for _, c := range []struct {
		args []string
		op   string
	}{
		{[]string{"sensor", "list", "-o", "id"}, "list sensors"},
		{[]string{"sensor", "details", "-o", "json"}, "list sensor details"},
		{[]string{"token", "list", "--all"}, "list sensor registration tokens"},
		{[]string{"token", "status", "--type", "baremetal"}, "list baremetal registration token statuses"},
	} {
		requests.Store(0)
		r := pe.Run(t, "", c.args...)
		if r.Code != exit.Error || !strings.Contains(r.Stderr, c.op+": the page at offset 1000 repeats the previous page") {
			t.Errorf("%v: exit %d, stderr %s", c.args, r.Code, r.Stderr)
		}
		if n := requests.Load(); n != 2 {
			t.Errorf("%v: %d requests, want 2", c.args, n)
		}
	}
}
