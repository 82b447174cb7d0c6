package sandbox

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

// The environment variables of the SSP lifecycle settings. The built-in
// sandbox (--profile sandbox) reads them, since it has no flags of its own,
// and `sandbox serve` takes them as its flags' defaults. Tests set a short
// step this way (TOKENCTL_SANDBOX_LCM_STEP=20ms).
const (
	EnvLCMStep        = "TOKENCTL_SANDBOX_LCM_STEP"
	EnvLCMFailRate    = "TOKENCTL_SANDBOX_LCM_FAIL_RATE"
	EnvLCMFailHosts   = "TOKENCTL_SANDBOX_LCM_FAIL_HOSTS"
	EnvLCMTaskOutcome = "TOKENCTL_SANDBOX_LCM_TASK_OUTCOME"
)

// Lifecycle is the SSP lifecycle setting: the step and the faults.
type Lifecycle struct {
	Step   time.Duration
	Faults sim.LCMFaults
}

// LifecycleFromEnv reads the lifecycle variables; unset ones keep the
// defaults (a 2s step, no faults). Errors name the variable and the rule.
func LifecycleFromEnv() (Lifecycle, error) {
	var l Lifecycle
	if v := os.Getenv(EnvLCMStep); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return l, fmt.Errorf("%s=%q: must be a positive duration such as 2s or 20ms", EnvLCMStep, v)
		}
		l.Step = d
	}
	if v := os.Getenv(EnvLCMFailRate); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			return l, fmt.Errorf("%s=%q: must be a number between 0 and 1", EnvLCMFailRate, v)
		}
		l.Faults.FailRate = r
	}
	l.Faults.FailHosts = os.Getenv(EnvLCMFailHosts)
	l.Faults.TaskOutcome = os.Getenv(EnvLCMTaskOutcome)
	faults, err := ssp.CheckLCMFaults(l.Faults)
	if err != nil {
		return l, fmt.Errorf("%s/%s: %w", EnvLCMFailHosts, EnvLCMTaskOutcome, err)
	}
	l.Faults = faults
	return l, nil
}
