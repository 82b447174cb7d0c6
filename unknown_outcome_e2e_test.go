package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// cutCreates serves the sandbox, but the 2xx answer to every create (a POST
// whose path isSuffix says is a create) loses the second half of its body:
// with lengthOfCut the server declares the cut length, so the client reads a
// complete but truncated body (not JSON); without, it declares the full
// length and closes the connection mid-body. The create is carried out
// either way.
func cutCreates(next http.Handler, lengthOfCut bool, isCreate func(*http.Request) bool, cut *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isCreate(r) {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		if rec.Code/100 != 2 {
			w.WriteHeader(rec.Code)
			w.Write(rec.Body.Bytes())
			return
		}
		cut.Add(1)
		body := rec.Body.Bytes()
		half := body[:len(body)/2]
		w.Header().Set("Content-Type", "application/json")
		if lengthOfCut {
			w.Header().Set("Content-Length", strconv.Itoa(len(half)))
			w.WriteHeader(rec.Code)
			w.Write(half)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(rec.Code)
		w.Write(half)
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	})
}

// TestCutCreateAnswersAreUnknown is the fault run of issue 16 item 4: the
// server carries out every create but its 200 (or 201) answer is cut. A
// single create is an unknown outcome (exit 7, not 1) that says what to look
// for; a batch counts the documents apart ("2 unknown", not "2 failed") with
// outcome "unknown" in -o json, and exits 7 when none is known created; the
// tokens exist, and --skip-existing afterwards creates none of them again.
func TestCutCreateAnswersAreUnknown(t *testing.T) {
	for _, lengthOfCut := range []bool{true, false} {
		t.Run(fmt.Sprintf("declared-length-of-cut=%v", lengthOfCut), func(t *testing.T) {
			pe := newProcEnv(t)
			statePath := filepath.Join(pe.Dir, "sandbox-state.json")
			srv, _, stop := startProcSandbox(t, sandbox.Options{Options: sim.Options{Seed: 1}, StatePath: statePath})
			var cut atomic.Int32
			isCreate := func(r *http.Request) bool {
				p := strings.TrimSuffix(r.URL.Path, "/")
				return r.Method == http.MethodPost && (strings.HasSuffix(p, "/registration-tokens") || strings.HasSuffix(p, "/registration-token") ||
					strings.HasSuffix(p, "/tokens") || strings.HasSuffix(p, "/authtokens"))
			}
			proxy := httptest.NewServer(cutCreates(srv.Handler(), lengthOfCut, isCreate, &cut))
			defer proxy.Close()
			pe.Set("SRV_PW", sim.DefaultPassword)
			pe.Set("SDWAN_TOKEN", "tokenctl-sandbox-token")
			pe.Set("TOKENCTL_PASSPHRASE", faultPassphrase)
			for _, args := range [][]string{
				{"profile", "set", "ssp", "--platform", "ssp", "--server", proxy.URL, "--username", "admin", "--password-env", "SRV_PW"},
				{"profile", "set", "nsx", "--platform", "nsx", "--server", proxy.URL, "--username", "admin", "--password-env", "SRV_PW"},
				{"profile", "set", "agent", "--platform", "agent", "--server", proxy.URL, "--username", "admin", "--password-env", "SRV_PW"},
				{"profile", "set", "cgx", "--platform", "sdwan", "--api-generation", "legacy", "--server", proxy.URL, "--token-env", "SDWAN_TOKEN"},
			} {
				if r := pe.Run(t, "", args...); r.Code != 0 {
					t.Fatalf("%v: %+v", args, r)
				}
			}

			// Single creates: exit 7 with the advice to look, naming what.
			singles := []struct {
				args    []string
				advice  string
				lookFor string
			}{
				{[]string{"--profile", "ssp", "token", "create", "--display-name", "cut-one", "-o", "json"}, "look for a sensor registration token with display_name \"cut-one\"", "cut-one"},
				{[]string{"--profile", "ssp", "token", "create", "--type", "baremetal", "--display-name", "cut-host", "-o", "manifest"}, "look for a baremetal registration token with display_name \"cut-host\"", "cut-host"},
				{[]string{"--profile", "agent", "token", "create", "--name", "cut-agent", "--read"}, "look for an agent token named \"cut-agent\"", ""},
				{[]string{"--profile", "cgx", "authtoken", "create", "--role", "tenant_viewonly", "--expires", "24h", "-o", "secret"}, "tokenctl authtoken list", ""},
				{[]string{"--profile", "nsx", "token", "create", "-o", "secret"}, "NSX cannot list tokens", ""},
			}
			for _, s := range singles {
				r := pe.Run(t, "", s.args...)
				label := strings.Join(s.args, " ")
				if r.Code != exit.Network {
					t.Errorf("%s: exit %d, want 7 (outcome unknown): %s", label, r.Code, r.Stderr)
				}
				if !strings.Contains(r.Stderr, s.advice) || !hasLookAdvice(r.Stderr) && !strings.Contains(r.Stderr, "probably carried out") {
					t.Errorf("%s: stderr lacks the advice %q:\n%s", label, s.advice, r.Stderr)
				}
				if r.Stdout != "" {
					t.Errorf("%s: stdout %q after an unknown outcome", label, r.Stdout)
				}
			}

			// A batch of two: both unknown, counted apart.
			manifest := filepath.Join(pe.Dir, "two.yaml")
			if err := os.WriteFile(manifest, []byte("display_name: cut-a\n---\ndisplay_name: cut-b\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := pe.Run(t, "", "--profile", "ssp", "token", "create", "-f", "two.yaml", "-o", "json")
			if r.Code != exit.Network {
				t.Errorf("bulk: exit %d, want 7: %s", r.Code, r.Stderr)
			}
			if !strings.Contains(r.Stderr, "0 created, 2 unknown") || strings.Contains(r.Stderr, "failed") {
				t.Errorf("bulk summary: %s", r.Stderr)
			}
			if !strings.Contains(r.Stderr, "--skip-existing") {
				t.Errorf("bulk: no advice to finish with --skip-existing: %s", r.Stderr)
			}
			var items []struct {
				Source  string       `json:"source"`
				Outcome string       `json:"outcome"`
				OK      bool         `json:"ok"`
				Error   *exit.Detail `json:"error"`
			}
			if err := json.Unmarshal([]byte(r.Stdout), &items); err != nil || len(items) != 2 {
				t.Fatalf("bulk stdout (%v): %s", err, r.Stdout)
			}
			for i, it := range items {
				name := []string{"cut-a", "cut-b"}[i]
				if it.Outcome != "unknown" || it.OK || it.Error == nil || it.Error.ExitCode != exit.Network ||
					!strings.Contains(it.Error.Message, `display_name "`+name+`"`) {
					t.Errorf("bulk item %d: %+v", i, it)
				}
			}

			// Every create was carried out: the tokens exist, once each, and
			// --skip-existing finds them instead of creating them again.
			before := cut.Load()
			r = pe.Run(t, "", "--profile", "ssp", "token", "create", "-f", "two.yaml", "--skip-existing", "-o", "json")
			if r.Code != 0 || strings.Count(r.Stdout, `"outcome": "exists"`) != 2 || cut.Load() != before {
				t.Errorf("--skip-existing after unknown outcomes: exit %d, %d creates sent: %s %s", r.Code, cut.Load()-before, r.Stdout, r.Stderr)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, tok := range sspTokens(t, statePath) {
				count[tok.DisplayName]++
			}
			for _, name := range []string{"cut-one", "cut-a", "cut-b"} {
				if count[name] != 1 {
					t.Errorf("%d tokens named %s, want 1", count[name], name)
				}
			}
		})
	}
}
