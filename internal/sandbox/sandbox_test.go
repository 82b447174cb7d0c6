package sandbox

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

func TestStateFileServesOneProcess(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	a, err := New(Options{StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{StatePath: state}); err == nil || !strings.Contains(err.Error(), "in use by another tokenctl process") {
		t.Fatalf("second server on the same state: %v", err)
	}
	fi, err := os.Stat(state)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file %v %v", fi, err)
	}
	a.Close()
	b, err := New(Options{StatePath: state})
	if err != nil {
		t.Fatalf("after Close the state is free: %v", err)
	}
	b.Close()
}

func TestClockPersists(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	s, err := New(Options{StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"/_sandbox/clock", "application/json", strings.NewReader(`{"advance":"2h"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("advance: %v %v", resp, err)
	}
	s.Close()
	s2, err := New(Options{StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if off := s2.Env().ClockOffset(); off != 2*time.Hour {
		t.Fatalf("clock offset after restart %v", off)
	}
}

func TestListenLoopbackOnly(t *testing.T) {
	s, err := New(Options{Options: sim.Options{}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", ":0"} {
		if _, err := s.Start(addr); err == nil {
			t.Fatalf("listened on %s", addr)
		}
	}
}

func TestCorruptStateIsReported(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	os.WriteFile(state, []byte("{not json"), 0o600)
	if _, err := New(Options{StatePath: state}); err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("corrupt state: %v", err)
	}
}
