package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// compiled reports whether the redactor's field patterns exist.
func (r *Redactor) compiled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keyRE != nil && r.formRE != nil
}

// TestRedactorCompilesOnFirstUse: a client that makes a successful request
// without --debug never compiles the redaction patterns; the first scrub
// compiles them, and keys added later are scrubbed too.
func TestRedactorCompilesOnFirstUse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"passphrase":"not-for-logs"}`))
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, nil)
	if _, err := c.Do(context.Background(), Call{Operation: "get", Method: http.MethodGet, Path: "/x"}); err != nil {
		t.Fatal(err)
	}
	if c.Redactor().compiled() {
		t.Fatal("a request without --debug compiled the redaction patterns")
	}

	r := NewRedactor()
	if got := r.String(`{"passphrase": "p1", "uuid": "u1"} ?token=t1&x=1`); got != `{"passphrase": "[REDACTED]", "uuid": "u1"} ?token=[REDACTED]&x=1` {
		t.Fatalf("scrubbed: %s", got)
	}
	if !r.compiled() {
		t.Fatal("String did not compile the patterns")
	}
	r.AddKeys("uuid")
	if got := r.String(`{"uuid":"u1"} &uuid=u2`); got != `{"uuid":"[REDACTED]"} &uuid=[REDACTED]` {
		t.Fatalf("a key added after the first use was not scrubbed: %s", got)
	}
}
