package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// A password_command still running when tokenctl is interrupted is killed
// with everything it started, and tokenctl ends at once with 130, not when
// the command would have (issue 16 item 12). Were the command's child left
// running, it would hold tokenctl's stderr open and Wait would not return.
func TestSecretCommandKilledOnInterrupt(t *testing.T) {
	pe := newProcEnv(t)
	pidFile := filepath.Join(pe.Dir, "sleeper.pid")
	r := pe.Run(t, "", "profile", "set", "slow", "--platform", "ssp", "--server", "https://ssp.example.invalid", "--username", "admin",
		"--password-command", "sleep 300 & echo $! > "+pidFile+"; wait")
	if r.Code != 0 {
		t.Fatal(r.Stderr)
	}
	cmd, _, errb := startTokenctl(t, pe, "token", "list")
	code := interrupt(t, cmd, func() bool {
		data, err := os.ReadFile(pidFile)
		return err == nil && strings.HasSuffix(string(data), "\n")
	})
	if code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, errb)
	}
	data, _ := os.ReadFile(pidFile)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || syscall.Kill(pid, 0) != nil || strings.Contains(string(stat), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the password command's child %d outlived tokenctl", pid)
		}
	}
}

// A Retry-After beyond --retry-max-wait ends the command at once (exit 6)
// with the reason; retries that fit are announced on stderr, and --quiet
// silences the announcements (issue 16 item 13).
func TestRetryMaxWaitThroughTheBinary(t *testing.T) {
	var calls, failFirst atomic.Int32
	retryAfter := atomic.Value{}
	retryAfter.Store("86400")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if failFirst.Add(-1) >= 0 || retryAfter.Load().(string) == "86400" {
			w.Header().Set("Retry-After", retryAfter.Load().(string))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"error_code":503,"module_name":"sensor","error_message":"busy"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"results":[],"total_result_count":0}`)
	}))
	defer srv.Close()
	pe := newProcEnv(t)
	pe.Set("TOKENCTL_USERNAME", "admin")
	pe.Set("TOKENCTL_PASSWORD", "pw-1234")
	pe.Set("TOKENCTL_RETRY_BASE_WAIT", "")

	r := pe.Run(t, "", "--server", srv.URL, "--platform", "ssp", "token", "list")
	if r.Code != 6 || calls.Load() != 1 || !strings.Contains(r.Stderr, "not retried: the next try would wait 24h0m0s, past --retry-max-wait 2m0s") {
		t.Fatalf("Retry-After 86400: exit %d after %d calls\n%s", r.Code, calls.Load(), r.Stderr)
	}

	retryAfter.Store("0")
	failFirst.Store(2)
	calls.Store(0)
	r = pe.Run(t, "", "--server", srv.URL, "--platform", "ssp", "token", "list", "-o", "json")
	if r.Code != 0 || calls.Load() != 3 || strings.Count(r.Stderr, "list sensor registration tokens: 503 from server, retrying in ") != 2 || !strings.Contains(r.Stderr, "(2/5)") {
		t.Fatalf("two 503s: exit %d after %d calls\n%s", r.Code, calls.Load(), r.Stderr)
	}
	failFirst.Store(2)
	r = pe.Run(t, "", "--server", srv.URL, "--platform", "ssp", "--quiet", "token", "list", "-o", "json")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("--quiet: exit %d\n%s", r.Code, r.Stderr)
	}
}
