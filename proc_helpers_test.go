package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokenctl/tokenctl/internal/sandbox"
)

// run is one finished tokenctl process.
type run struct {
	Args   []string
	Code   int
	Stdout string
	Stderr string
}

// procEnv is an isolated environment for tokenctl processes: its own HOME,
// config and state directories, no CI prompts, fast retries.
type procEnv struct {
	Dir  string
	vars []string
}

func newProcEnv(t *testing.T) *procEnv {
	t.Helper()
	dir := t.TempDir()
	e := &procEnv{Dir: dir}
	e.vars = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"CI=1",
		"NO_COLOR=1",
		"TOKENCTL_RETRY_BASE_WAIT=1ms",
	}
	return e
}

// Set adds or replaces an environment variable.
func (e *procEnv) Set(name, value string) {
	for i, v := range e.vars {
		if strings.HasPrefix(v, name+"=") {
			e.vars[i] = name + "=" + value
			return
		}
	}
	e.vars = append(e.vars, name+"="+value)
}

// Env returns a copy of the variables.
func (e *procEnv) Env() []string { return append([]string(nil), e.vars...) }

// ConfigPath is the config file the processes use.
func (e *procEnv) ConfigPath() string {
	return filepath.Join(e.Dir, "config", "tokenctl", "config.yaml")
}

// CachePath is the run-time cache file.
func (e *procEnv) CachePath() string {
	return filepath.Join(e.Dir, "state", "tokenctl", "cache.json")
}

// Run runs the built binary with stdin and returns how it ended.
func (e *procEnv) Run(t testing.TB, stdin string, args ...string) run {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "tokenctl"), args...)
	cmd.Env = e.Env()
	cmd.Dir = e.Dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := run{Args: args, Stdout: out.String(), Stderr: errb.String()}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("tokenctl %v: %v", args, err)
		}
		r.Code = ee.ExitCode()
	}
	return r
}

// requestLog collects what a sandbox received (sandbox.Options.OnRequest).
type requestLog struct {
	mu   sync.Mutex
	recs []sandbox.RequestRecord
}

func (l *requestLog) add(r sandbox.RequestRecord) {
	l.mu.Lock()
	l.recs = append(l.recs, r)
	l.mu.Unlock()
}

func (l *requestLog) all() []sandbox.RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]sandbox.RequestRecord(nil), l.recs...)
}

// sspTokens reads the sensor registration tokens from a sandbox state
// file, failing when the file is not valid JSON.
func sspTokens(t *testing.T, statePath string) []struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
} {
	t.Helper()
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Vendors struct {
			SSP struct {
				SensorTokens []struct {
					ID          string `json:"id"`
					DisplayName string `json:"display_name"`
				} `json:"sensor_tokens"`
			} `json:"ssp"`
		} `json:"vendors"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("sandbox state %s is not valid JSON: %v", statePath, err)
	}
	return st.Vendors.SSP.SensorTokens
}

// startProcSandbox starts a sandbox on 127.0.0.1 for tests that run
// tokenctl processes against it. stop closes it, writing the state a last
// time, so a test can read the state file afterwards; it runs at cleanup too
// and only the first call closes.
func startProcSandbox(t *testing.T, opts sandbox.Options) (srv *sandbox.Server, url string, stop func() error) {
	t.Helper()
	srv, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err = srv.Start("127.0.0.1:0")
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	var once sync.Once
	var closeErr error
	stop = func() error {
		once.Do(func() { closeErr = srv.Close() })
		return closeErr
	}
	t.Cleanup(func() { stop() })
	return srv, url, stop
}
