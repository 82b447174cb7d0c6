package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// pagedServer serves total items in pages, failing every page's first
// `fail` tries with status.
func pagedServer(total, fail, status int) (*httptest.Server, *atomic.Int32) {
	var requests atomic.Int32
	tries := map[string]int{}
	var mu = make(chan struct{}, 1)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		mu <- struct{}{}
		tries[r.URL.RawQuery]++
		n := tries[r.URL.RawQuery]
		<-mu
		if n <= fail {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error_code":%d,"error_message":"busy page %s"}`, status, r.URL.RawQuery)
			return
		}
		off := 0
		fmt.Sscan(r.URL.Query().Get("offset"), &off)
		var items []string
		for i := off; i < min(off+10, total); i++ {
			items = append(items, fmt.Sprintf(`{"id":"t%d","pad":"%s"}`, i, strings.Repeat("x", i*37%500)))
		}
		fmt.Fprintf(w, `{"offset":-1,"total_result_count":%d,"results":[%s]}`, total, strings.Join(items, ","))
	})), &requests
}

// TestListOffsetRetriesPagesWithReusedBuffers: every page fails twice
// before it is served; each item arrives once, intact, although the two
// page buffers are reused and answers are dropped between tries.
func TestListOffsetRetriesPagesWithReusedBuffers(t *testing.T) {
	srv, requests := pagedServer(95, 2, 503)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	var ids []string
	res, err := c.ListOffset(context.Background(), Call{Operation: "list", Method: http.MethodGet, Path: "/l"}, "results",
		Pager{PageSize: 10}, func(raw json.RawMessage) error {
			var v struct{ ID, Pad string }
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			var i int
			fmt.Sscanf(v.ID, "t%d", &i)
			if v.Pad != strings.Repeat("x", i*37%500) {
				return fmt.Errorf("item %s corrupted", v.ID)
			}
			ids = append(ids, v.ID)
			return nil
		})
	if err != nil || len(ids) != 95 || ids[94] != "t94" || res.Fetched != 95 {
		t.Fatalf("%d ids, %+v, %v", len(ids), res, err)
	}
	if got := requests.Load(); got != 30 {
		t.Fatalf("%d requests, want 10 pages x 3 tries", got)
	}
}

// TestListOffsetExhaustedRetriesKeepTheVendorError: a page that never
// stops failing ends the listing with the server's last answer (exit 6),
// not a read error from a dropped body.
func TestListOffsetExhaustedRetriesKeepTheVendorError(t *testing.T) {
	srv, _ := pagedServer(30, 100, 503)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	_, err := c.ListOffset(context.Background(), Call{Operation: "list", Method: http.MethodGet, Path: "/l"}, "results",
		Pager{PageSize: 10}, func(json.RawMessage) error { return nil })
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 503 || exit.CodeOf(err) != exit.Unavailable || !strings.Contains(ae.Message, "busy page") {
		t.Fatalf("%v", err)
	}
}

// TestListOffsetRetriesABodyThatBreaksOff: the server sends a page's
// headers and half its body, then drops the connection; the page is read
// again, as for any failed read.
func TestListOffsetRetriesABodyThatBreaksOff(t *testing.T) {
	var tries atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := `{"total_result_count":2,"results":[{"id":"a"},{"id":"b"}]}`
		if tries.Add(1) == 1 {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.Write([]byte(body[:20]))
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	var ids []string
	_, err := c.ListOffset(context.Background(), Call{Operation: "list", Method: http.MethodGet, Path: "/l"}, "results",
		Pager{}, func(raw json.RawMessage) error { ids = append(ids, string(raw)); return nil })
	if err != nil || strings.Join(ids, ",") != `{"id":"a"},{"id":"b"}` || tries.Load() != 2 {
		t.Fatalf("%v %v after %d tries", ids, err, tries.Load())
	}
}

// TestListOffsetRepeatedPageIsAnError: a server that ignores offset (and
// echoes -1, as the vendor's examples do) sends its first page forever; the
// listing ends with exit 1 naming the operation after the second request,
// without printing the repeated items.
func TestListOffsetRepeatedPageIsAnError(t *testing.T) {
	for _, withTotal := range []bool{false, true} {
		var requests atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if requests.Add(1) > 50 {
				t.Error("still paging after 50 requests")
				w.WriteHeader(500)
				return
			}
			tot := ""
			if withTotal {
				tot = `"total_result_count":1000000,`
			}
			fmt.Fprintf(w, `{"offset":-1,%s"results":[{"id":"a"},{"id":"b"},{"id":"c"}]}`, tot)
		}))
		c := newTestClient(t, srv.URL, nil)
		n := 0
		_, err := c.ListOffset(context.Background(), Call{Operation: "list sensors", Method: http.MethodGet, Path: "/l"}, "results",
			Pager{PageSize: 3}, func(json.RawMessage) error { n++; return nil })
		srv.Close()
		if exit.CodeOf(err) != exit.Error || !strings.Contains(err.Error(), "list sensors") || !strings.Contains(err.Error(), "repeats the previous page") {
			t.Fatalf("total=%v: err %v, want exit 1 naming the operation", withTotal, err)
		}
		if n != 3 || requests.Load() != 2 {
			t.Fatalf("total=%v: %d items in %d requests, want the first page's 3 in 2", withTotal, n, requests.Load())
		}
	}
}

// TestListOffsetDefaultPageSizeFollowsEveryPage: without page_size the first
// page's length is the page size, and every page is followed by default.
func TestListOffsetDefaultPageSizeFollowsEveryPage(t *testing.T) {
	srv, requests := pagedServer(25, 0, 0)
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	n := 0
	res, err := c.ListOffset(context.Background(), Call{Operation: "list", Method: http.MethodGet, Path: "/l"}, "results",
		Pager{}, func(json.RawMessage) error { n++; return nil })
	if err != nil || n != 25 || res.More || requests.Load() != 3 {
		t.Fatalf("%d items, %d requests, res %+v, err %v", n, requests.Load(), res, err)
	}
}
