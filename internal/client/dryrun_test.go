package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// TestDryRunRecordsChangesAndSendsReads: in a dry run, GETs and calls
// marked Read reach the server; every other call is recorded with its
// redacted body and a curl line whose credentials are variables, and
// never sent.
func TestDryRunRecordsChangesAndSendsReads(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	plan := &Plan{}
	var told []Change
	plan.OnChange = func(ch Change) { told = append(told, ch) }
	c, err := New(Options{BaseURL: srv.URL, DryRun: plan}, &BasicAuth{Username: "admin", Password: "s3cret-password"})
	if err != nil {
		t.Fatal(err)
	}
	c.Redactor().AddSecret("s3cret-password")
	c.Redactor().AddSecret("Pass-Phrase-123456!")
	ctx := context.Background()
	if _, err := c.Do(ctx, Call{Operation: "list", Method: http.MethodGet, Path: "/list"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, Call{Operation: "query", Method: http.MethodPost, Path: "/query", Body: map[string]string{"q": "x"}, Read: true}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(ctx, Call{Operation: "create token", Method: http.MethodPost, Path: "/tokens", Query: url.Values{"a": {"1"}},
		Body: map[string]string{"display_name": "demo", "passphrase": "Pass-Phrase-123456!"}})
	if !IsNotSent(err) || exit.CodeOf(err) != 0 {
		t.Fatalf("create: %v, want a NotSentError with exit 0", err)
	}
	_, err = c.Do(ctx, Call{Operation: "delete token", Method: http.MethodDelete, Path: "/tokens/x"})
	if !IsNotSent(err) {
		t.Fatalf("delete: %v", err)
	}
	if strings.Join(got, ",") != "GET /list,POST /query" {
		t.Fatalf("the server saw %v, want only the two reads", got)
	}
	chs := plan.Changes()
	if len(chs) != 2 || len(told) != 2 || chs[0].Operation != "create token" || chs[1].Method != http.MethodDelete {
		t.Fatalf("plan %+v, told %d", chs, len(told))
	}
	create := chs[0]
	if create.URL != srv.URL+"/tokens?a=1" {
		t.Errorf("url %q", create.URL)
	}
	var body map[string]string
	if err := json.Unmarshal(create.Body, &body); err != nil || body["passphrase"] != Redacted || body["display_name"] != "demo" {
		t.Errorf("body %s (%v), want the passphrase redacted", create.Body, err)
	}
	for _, want := range []string{"curl -X POST '" + srv.URL + "/tokens?a=1'", `-u "$TOKENCTL_USERNAME:$TOKENCTL_PASSWORD"`, "--data-raw '{", "Content-Type: application/json"} {
		if !strings.Contains(create.Curl, want) {
			t.Errorf("curl line lacks %q: %s", want, create.Curl)
		}
	}
	for _, ch := range chs {
		raw, _ := json.Marshal(ch)
		if strings.Contains(string(raw), "s3cret-password") || strings.Contains(string(raw), "Pass-Phrase-123456!") {
			t.Errorf("a secret reached the plan: %s", raw)
		}
	}
	if chs[1].Body != nil {
		t.Errorf("a DELETE has no body: %s", chs[1].Body)
	}
}

// TestDryRunCurlNamesHeaderCredentials: token and cookie credentials are
// shown as variables, never as values.
func TestDryRunCurlNamesHeaderCredentials(t *testing.T) {
	c, err := New(Options{BaseURL: "https://sdwan.example.com", DryRun: &Plan{}, TLS: TLSOptions{Insecure: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), Call{Operation: "delete auth token 1", Method: http.MethodDelete, Path: "/v2.1/x/1",
		Header: http.Header{"X-Auth-Token": {"real-token-value"}, "Cookie": {"JSESSIONID=abc123456"}, "X-Trace": {"t1"}}})
	var ns *NotSentError
	if !errors.As(err, &ns) {
		t.Fatalf("%v", err)
	}
	for _, want := range []string{`"X-Auth-Token: $TOKENCTL_TOKEN"`, `"Cookie: JSESSIONID=$NSX_SESSION_ID"`, `'X-Trace: t1'`, ` -k`} {
		if !strings.Contains(ns.Change.Curl, want) {
			t.Errorf("curl line lacks %s: %s", want, ns.Change.Curl)
		}
	}
	if strings.Contains(ns.Change.Curl, "real-token-value") || strings.Contains(ns.Change.Curl, "abc123456") {
		t.Errorf("curl line shows a credential: %s", ns.Change.Curl)
	}
}
