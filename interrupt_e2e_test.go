package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// bulkItem is one entry of a bulk -o json result.
type bulkItem struct {
	Source  string `json:"source"`
	Outcome string `json:"outcome"`
	OK      bool   `json:"ok"`
	Result  struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
	} `json:"result"`
	Error *exit.Detail `json:"error"`
}

// startTokenctl starts the binary without waiting for it.
func startTokenctl(t *testing.T, pe *procEnv, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "tokenctl"), args...)
	cmd.Env = pe.Env()
	cmd.Dir = pe.Dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out, &errb
}

// interrupt sends SIGINT once ready() is true and returns the exit code.
func interrupt(t *testing.T, cmd *exec.Cmd, ready func() bool) int {
	t.Helper()
	return signalWhen(t, cmd, os.Interrupt, ready)
}

// signalWhen sends sig once ready() is true and returns the exit code.
func signalWhen(t *testing.T, cmd *exec.Cmd, sig os.Signal, ready func() bool) int {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !ready(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the batch never got going")
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("tokenctl did not stop after %v", sig)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	if ee != nil {
		return ee.ExitCode()
	}
	return 0
}

func writeManifest(t *testing.T, path, prefix string, n int) []string {
	t.Helper()
	var b strings.Builder
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("%s-%04d", prefix, i)
		fmt.Fprintf(&b, "---\ndisplay_name: %s\npassphrase: %s\n", names[i], faultPassphrase)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return names
}

// TestInterruptBulkCreate sends SIGINT to a bulk create against a slow
// server: exit 130, a result for every document (created ones with their
// token, the rest interrupted, in-flight ones with the advice to look),
// nothing sent for documents not started, and valid config and state.
func TestInterruptBulkCreate(t *testing.T) {
	testSignalBulkCreate(t, os.Interrupt)
}

// TestHangupBulkCreate is the same with SIGHUP (the terminal went away),
// which used to kill tokenctl with no report: the same report as SIGINT.
func TestHangupBulkCreate(t *testing.T) {
	testSignalBulkCreate(t, syscall.SIGHUP)
}

func testSignalBulkCreate(t *testing.T, sig os.Signal) {
	pe := newProcEnv(t)
	statePath := filepath.Join(pe.Dir, "sandbox-state.json")
	log := &requestLog{}
	_, url, stop := startProcSandbox(t, sandbox.Options{
		Options:   sim.Options{Seed: 1},
		StatePath: statePath,
		Faults:    sandbox.Faults{Latency: 150 * time.Millisecond},
		OnRequest: log.add,
	})
	pe.Set("SBX_PW", sim.DefaultPassword)
	if r := pe.Run(t, "", "profile", "set", "slow", "--platform", "ssp", "--server", url, "--username", "admin", "--password-env", "SBX_PW"); r.Code != 0 {
		t.Fatalf("profile set: %+v", r)
	}
	names := writeManifest(t, filepath.Join(pe.Dir, "m.yaml"), "intr", 40)
	cmd, stdout, stderr := startTokenctl(t, pe, "token", "create", "-f", "m.yaml", "--concurrency", "2", "-o", "json")
	code := signalWhen(t, cmd, sig, func() bool { return len(log.all()) >= 4 })
	if code != exit.Interrupted {
		t.Fatalf("exit %d, want 130\nstderr: %s", code, stderr)
	}
	var items []bulkItem
	if err := json.Unmarshal(stdout.Bytes(), &items); err != nil || len(items) != len(names) {
		t.Fatalf("stdout is not one result per document (%v): %s", err, stdout)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	sent := map[string]int{}
	for _, r := range log.all() {
		var body struct {
			DisplayName string `json:"display_name"`
		}
		json.Unmarshal(r.Body, &body)
		sent[body.DisplayName]++
	}
	state := map[string]string{}
	for _, tok := range sspTokens(t, statePath) {
		if _, dup := state[tok.DisplayName]; dup {
			t.Errorf("%s created twice", tok.DisplayName)
		}
		state[tok.DisplayName] = tok.ID
	}
	created, interrupted := 0, 0
	for i, it := range items {
		name := names[i]
		switch want := map[bool]string{true: "created", false: "failed"}[it.OK]; {
		case sent[name] > 0 && !it.OK:
			if it.Outcome != "unknown" { // in flight: it may exist
				t.Errorf("%s: outcome %q, want unknown", it.Source, it.Outcome)
			}
		case sent[name] == 0 && !it.OK && it.Outcome == "unknown":
			// Sent by the client but cancelled before the sandbox logged
			// it: the client cannot know, so "unknown" is the honest
			// answer; it must then carry the advice to look (checked below).
			if !strings.Contains(it.Error.Message, adviceLookFirst) {
				t.Errorf("%s: unknown outcome without the advice to look: %s", it.Source, it.Error.Message)
			}
		case it.Outcome != want:
			t.Errorf("%s: outcome %q, want %q", it.Source, it.Outcome, want)
		}
		switch {
		case it.OK:
			created++
			if state[name] == "" || state[name] != it.Result.ID {
				t.Errorf("%s: reported created as %q, state has %q", it.Source, it.Result.ID, state[name])
			}
		case it.Error != nil && it.Error.ExitCode == exit.Interrupted:
			interrupted++
			if sent[name] == 0 && state[name] != "" {
				t.Errorf("%s: never sent, yet it exists", it.Source)
			}
			if sent[name] > 0 && !strings.Contains(it.Error.Message, adviceLookFirst) {
				t.Errorf("%s: interrupted in flight without the advice to look: %s", it.Source, it.Error.Message)
			}
		default:
			t.Errorf("%s: %+v, want created or interrupted", it.Source, it)
		}
		if sent[name] > 1 {
			t.Errorf("%s: sent %d times", it.Source, sent[name])
		}
	}
	if created == 0 || interrupted == 0 || len(sent) >= len(names) {
		t.Errorf("%d created, %d interrupted, %d sent: the interrupt did not land mid-batch", created, interrupted, len(sent))
	}
	for _, want := range []string{fmt.Sprintf("%d created, ", created), "not started (interrupted); nothing was sent", "tokenctl: interrupted"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	checkConfigFile(t, pe.ConfigPath(), "slow")
	checkJSONFileIfExists(t, pe.CachePath())
}

// TestInterruptBuiltinSandboxBulkCreate interrupts a bulk create on the
// built-in sandbox, whose state file the tokenctl process itself writes:
// the file stays valid and holds exactly the tokens reported created, plus
// at most the in-flight ones.
func TestInterruptBuiltinSandboxBulkCreate(t *testing.T) {
	pe := newProcEnv(t)
	statePath := filepath.Join(pe.Dir, "builtin-sandbox.json")
	pe.Set("TOKENCTL_SANDBOX_STATE", statePath)
	const concurrency = 4
	names := writeManifest(t, filepath.Join(pe.Dir, "big.yaml"), "builtin", 5000)
	cmd, stdout, stderr := startTokenctl(t, pe, "--profile", "sandbox", "token", "create", "-f", "big.yaml", "--concurrency", fmt.Sprint(concurrency), "-o", "json")
	// More tokens in the state than requests in flight means at least one
	// answer reached tokenctl (a busy machine can otherwise deliver the
	// signal while the first creates are still on their way back).
	code := interrupt(t, cmd, func() bool {
		data, err := os.ReadFile(statePath)
		return err == nil && bytes.Count(data, []byte(`"display_name":"builtin-`)) > concurrency
	})
	if code != exit.Interrupted {
		t.Fatalf("exit %d, want 130\nstderr: %s", code, stderr)
	}
	var items []bulkItem
	if err := json.Unmarshal(stdout.Bytes(), &items); err != nil || len(items) != len(names) {
		t.Fatalf("stdout is not one result per document (%v): %.300s", err, stdout)
	}
	inState := map[string]bool{}
	for _, tok := range sspTokens(t, statePath) {
		inState[tok.DisplayName] = true
	}
	created := 0
	for i, it := range items {
		if it.OK {
			created++
			if !inState[names[i]] {
				t.Errorf("%s reported created but missing from the state", it.Source)
			}
		}
	}
	if created == 0 || created == len(names) {
		t.Fatalf("%d of %d created: the interrupt did not land mid-batch", created, len(names))
	}
	if extra := len(inState) - created; extra < 0 || extra > concurrency {
		t.Errorf("state has %d tokens, %d reported created", len(inState), created)
	}
}

// checkConfigFile requires a valid 0600 config file holding the profiles.
func checkConfigFile(t *testing.T, path string, profiles ...string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %04o", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Profiles map[string]map[string]any `yaml:"profiles"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s is not valid YAML: %v", path, err)
	}
	for _, p := range profiles {
		if _, ok := cfg.Profiles[p]; !ok {
			t.Errorf("%s lacks profile %q", path, p)
		}
	}
}

func checkJSONFileIfExists(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Errorf("%s is not valid JSON", path)
	}
}

// TestInterruptMultiDelete sends SIGINT to a multi-id delete against a
// slow server: exit 130, a notice for each finished delete, the rest
// reported as not started, and the server's state agrees.
func TestInterruptMultiDelete(t *testing.T) {
	pe := newProcEnv(t)
	statePath := filepath.Join(pe.Dir, "sandbox-state.json")
	ids := precreateTokens(t, statePath, 30)
	log := &requestLog{}
	_, url, stop := startProcSandbox(t, sandbox.Options{
		Options:   sim.Options{Seed: 1},
		StatePath: statePath,
		Faults:    sandbox.Faults{Latency: 150 * time.Millisecond},
		OnRequest: log.add,
	})
	pe.Set("TOKENCTL_SERVER", url)
	pe.Set("TOKENCTL_PLATFORM", "ssp")
	pe.Set("TOKENCTL_USERNAME", sim.AdminUser)
	pe.Set("TOKENCTL_PASSWORD", sim.DefaultPassword)
	args := append([]string{"token", "delete", "--type", "sensor", "--yes", "--concurrency", "2"}, ids...)
	cmd, _, stderr := startTokenctl(t, pe, args...)
	code := interrupt(t, cmd, func() bool { return len(log.all()) >= 4 })
	if code != exit.Interrupted {
		t.Fatalf("exit %d, want 130\nstderr: %s", code, stderr)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, tok := range sspTokens(t, statePath) {
		present[tok.ID] = true
	}
	reported := 0
	for _, id := range ids {
		if strings.Contains(stderr.String(), "Deleted sensor registration token "+id+".") {
			reported++
			if present[id] {
				t.Errorf("%s reported deleted but still there", id)
			}
		}
	}
	if reported == 0 || len(present) == 0 {
		t.Errorf("%d reported deleted, %d left: the interrupt did not land mid-batch\n%s", reported, len(present), stderr)
	}
	if extra := len(ids) - len(present) - reported; extra < 0 || extra > 2 {
		t.Errorf("%d gone but %d reported deleted (at most 2 in flight)", len(ids)-len(present), reported)
	}
	if !strings.Contains(stderr.String(), "not started (interrupted)") {
		t.Errorf("stderr lacks the not-started line:\n%s", stderr)
	}
}

// TestInterruptSingleCreate sends SIGINT while a single create is in flight
// (the server holds the request): exit 130 with the same advice a batch
// gives its in-flight documents: it may exist, look before retrying, and
// what to look for.
func TestInterruptSingleCreate(t *testing.T) {
	pe := newProcEnv(t)
	srv, _, _ := startProcSandbox(t, sandbox.Options{Options: sim.Options{Seed: 1}})
	var arrived atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			// Read the body, so that the server notices the client going away.
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			arrived.Store(true)
			select { // hold the create until the client gives up
			case <-r.Context().Done():
				return
			case <-time.After(30 * time.Second):
			}
		}
		srv.Handler().ServeHTTP(w, r)
	}))
	defer proxy.Close()
	pe.Set("TOKENCTL_SERVER", proxy.URL)
	pe.Set("TOKENCTL_PLATFORM", "ssp")
	pe.Set("TOKENCTL_USERNAME", sim.AdminUser)
	pe.Set("TOKENCTL_PASSWORD", sim.DefaultPassword)
	pe.Set("TOKENCTL_PASSPHRASE", faultPassphrase)
	cmd, stdout, stderr := startTokenctl(t, pe, "token", "create", "--display-name", "in-flight", "-o", "json")
	code := interrupt(t, cmd, arrived.Load)
	if code != exit.Interrupted {
		t.Fatalf("exit %d, want 130\nstderr: %s", code, stderr)
	}
	for _, want := range []string{"create sensor registration token: interrupted", adviceLookFirst, `look for a sensor registration token with display_name "in-flight"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: %s", stdout)
	}
}

// TestInterruptWait sends SIGINT to a token wait whose hosts never come:
// exit 130, how far the wait got, that nothing was changed, and the
// command that takes the wait up again.
func TestInterruptWait(t *testing.T) {
	pe := newProcEnv(t)
	log := &requestLog{}
	_, url, _ := startProcSandbox(t, sandbox.Options{Options: sim.Options{Seed: 1}, OnRequest: log.add})
	pe.Set("TOKENCTL_SERVER", url)
	pe.Set("TOKENCTL_PLATFORM", "ssp")
	pe.Set("TOKENCTL_USERNAME", sim.AdminUser)
	pe.Set("TOKENCTL_PASSWORD", sim.DefaultPassword)
	pe.Set("TOKENCTL_PASSPHRASE", faultPassphrase)
	r := pe.Run(t, "", "token", "create", "--type", "baremetal", "--display-name", "never-comes", "--allowed-instances", "2", "-o", "id")
	if r.Code != 0 {
		t.Fatalf("create: %+v", r)
	}
	id := strings.TrimSpace(r.Stdout)
	before := len(log.all())
	cmd, stdout, stderr := startTokenctl(t, pe, "token", "wait", id, "--for", "healthy", "--count", "2", "--interval", "50ms", "-o", "json")
	// Two rounds' worth of reads: the first round is complete.
	code := interrupt(t, cmd, func() bool { return len(log.all()) >= before+6 })
	if code != exit.Interrupted {
		t.Fatalf("exit %d, want 130\nstderr: %s", code, stderr)
	}
	for _, want := range []string{
		"interrupted while waiting for baremetal registration token " + id + " (so far: 0/2 healthy",
		"nothing was changed",
		"to wait again: tokenctl token wait " + id + " --for healthy --count 2",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout: %s", stdout)
	}
	for _, rec := range log.all()[before:] {
		if isWrite(rec) {
			t.Errorf("the wait sent a write: %s %s", rec.Method, rec.Path)
		}
	}
}
