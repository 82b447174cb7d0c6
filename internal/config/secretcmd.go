package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
)

// DefaultSecretCommandTimeout bounds a password_command, token_command or
// client_secret_command that does not set its own.
const DefaultSecretCommandTimeout = 30 * time.Second

// SecretCommandTimeoutEnv overrides the profile's secret_command_timeout.
const SecretCommandTimeoutEnv = "TOKENCTL_SECRET_COMMAND_TIMEOUT"

// secretCommandTimeout is the limit of a *_command: the environment
// variable, else the profile's secret_command_timeout, else 30s. A bad value
// is an error naming where it came from.
func (r *Resolved) secretCommandTimeout() (time.Duration, error) {
	v, where := r.SecretCommandTimeout, fmt.Sprintf("profile %q: secret_command_timeout", r.Name)
	if r.secretTimeoutEnv != "" {
		v, where = r.secretTimeoutEnv, SecretCommandTimeoutEnv
	}
	if v == "" {
		return DefaultSecretCommandTimeout, nil
	}
	d, err := ParsePositiveDuration(v)
	if err != nil {
		return 0, exit.Usagef("%s=%q: %v", where, v, err)
	}
	return d, nil
}

// ParsePositiveDuration parses a Go duration that must be above zero.
func ParsePositiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, errors.New("must be a positive duration such as 30s or 2m")
	}
	return d, nil
}

// runSecretCommand runs a *_command through the shell; its stdout, without
// the final newline, is the secret. Its stderr goes to ours, so a password
// manager can say what it wants; its stdout is never shown.
//
// The command runs in a process group of its own, so that at its timeout
// or when tokenctl is interrupted the whole group is killed: `sh -c` and
// whatever it started. Killing only the shell would leave a child holding
// the stdout pipe, and tokenctl waiting for it.
func runSecretCommand(ctx context.Context, field, command string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(ctx, "cmd", "/C", command)
	} else {
		cmd = exec.CommandContext(ctx, "sh", "-c", command)
	}
	ownProcessGroup(cmd)
	// Pipes a killed group's stray grandchild still holds are closed after
	// this; the command's result is decided by then.
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "", fmt.Errorf("%s_command did not finish within %s and was stopped (raise secret_command_timeout in the profile or %s)", field, timeout, SecretCommandTimeoutEnv)
	case ctx.Err() != nil:
		return "", exit.WithCode(exit.Interrupted, fmt.Errorf("%s_command: interrupted", field))
	case err != nil:
		return "", fmt.Errorf("%s_command failed: %v", field, err)
	}
	s := strings.TrimRight(out.String(), "\r\n")
	if s == "" {
		return "", fmt.Errorf("%s_command printed nothing", field)
	}
	return s, nil
}
