package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestServerNowFollowsTheDateHeader(t *testing.T) {
	ahead := time.Now().Add(90 * time.Minute).UTC().Truncate(time.Second)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", ahead.Format(http.TimeFormat))
		w.Write([]byte(`{}`))
	}))
	defer hs.Close()
	c, err := New(Options{BaseURL: hs.URL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(c.ServerNow()); d > time.Minute || d < -time.Minute {
		t.Fatalf("before any answer ServerNow is %v from the local clock, want the local clock", d)
	}
	if _, err := c.Do(context.Background(), Call{Operation: "get", Method: http.MethodGet, Path: "/"}); err != nil {
		t.Fatal(err)
	}
	got := c.ServerNow()
	if got.Before(ahead) || got.After(ahead.Add(time.Minute)) {
		t.Fatalf("ServerNow = %v, want the server's %v (plus the time since)", got, ahead)
	}
}
