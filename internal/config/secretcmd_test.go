//go:build unix

package config

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// sleeperCommand starts a long sleep in the background of the shell, writes
// its pid to pidFile, and waits: killing only the shell would leave the
// sleep holding the stdout pipe.
func sleeperCommand(pidFile string) string {
	return "sleep 120 & echo $! > " + pidFile + "; wait"
}

// waitGone fails the test unless pid is gone (or a zombie awaiting its
// reaper) within a generous bound.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if fields := strings.Fields(string(stat)); len(fields) > 2 && fields[2] == "Z" {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("the command's child %d still runs", pid)
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		data, err := os.ReadFile(path)
		if err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
				return pid
			}
		}
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

func TestSecretCommandTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	r := &Resolved{Name: "p", Profile: Profile{PasswordCommand: sleeperCommand(pidFile), SecretCommandTimeout: "200ms"}}
	_, _, err := r.Password(context.Background())
	if err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") || exit.CodeOf(err) != exit.Usage {
		t.Fatalf("err = %v (exit %d)", err, exit.CodeOf(err))
	}
	waitGone(t, readPid(t, pidFile))
}

func TestSecretCommandInterruptKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	r := &Resolved{Name: "p", Profile: Profile{TokenCommand: sleeperCommand(pidFile)}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := r.StaticToken(ctx)
		done <- err
	}()
	pid := readPid(t, pidFile)
	cancel()
	err := <-done
	if exit.CodeOf(err) != exit.Interrupted {
		t.Fatalf("err = %v (exit %d), want 130", err, exit.CodeOf(err))
	}
	waitGone(t, pid)
}

func TestSecretCommandTimeoutSettings(t *testing.T) {
	r := &Resolved{Name: "p"}
	if d, err := r.secretCommandTimeout(); err != nil || d != DefaultSecretCommandTimeout {
		t.Fatalf("default: %v %v", d, err)
	}
	r.SecretCommandTimeout = "5s"
	if d, _ := r.secretCommandTimeout(); d != 5*time.Second {
		t.Fatalf("profile: %v", d)
	}
	f := &File{Profiles: map[string]*Profile{"p": {Platform: SSP, Server: "https://a.example.com", SecretCommandTimeout: "5s"}}}
	r, err := Resolve(f, overrides{"profile": flag("p"), "secret-command-timeout": env("junk")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.secretCommandTimeout(); err == nil || !strings.Contains(err.Error(), SecretCommandTimeoutEnv) {
		t.Fatalf("a bad env value must name %s: %v", SecretCommandTimeoutEnv, err)
	}
	r.PasswordCommand = "echo pw"
	if _, _, err := r.Password(context.Background()); err == nil || exit.CodeOf(err) != exit.Usage {
		t.Fatalf("a bad timeout must stop the command from running: %v", err)
	}
	r, _ = Resolve(f, overrides{"profile": flag("p"), "secret-command-timeout": env("1m")})
	if d, _ := r.secretCommandTimeout(); d != time.Minute {
		t.Fatalf("env over profile: %v", d)
	}
}

func TestSecretCommandOutput(t *testing.T) {
	r := &Resolved{Name: "p", Profile: Profile{ClientSecretCommand: "printf 's3cret\\n'"}}
	v, ok, err := r.ClientSecretValue(context.Background())
	if err != nil || !ok || v != "s3cret" {
		t.Fatalf("%q %v %v", v, ok, err)
	}
	r.ClientSecretCommand = "true"
	if _, _, err := r.ClientSecretValue(context.Background()); err == nil || !strings.Contains(err.Error(), "client_secret_command printed nothing") {
		t.Fatalf("empty output: %v", err)
	}
}
