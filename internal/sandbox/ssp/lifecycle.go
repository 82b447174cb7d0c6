package ssp

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strings"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// Lifecycle operations progress on the sandbox clock, one step per
// sim.Options.LCMStep: ACCEPTED during the first step, RUNNING during the
// second, then done (SUCCESS, or FAILED/ABORTED when a fault says so). The
// outcome is decided when the operation starts and stored with it, so the
// state file replays the same story after a restart. Nothing runs in the
// background: every read computes the phase from the clock.
//
// INFERRED (the vendor documents the status values, not their timing): the
// two-step progression, and that a host's state stays READY while its install
// runs (NOT_READY once the install FAILED).

// Lifecycle statuses: the spec's BaremetalServerTaskStatus, which is also
// BaremetalServerStatus.lcm_status.
const (
	lcmAccepted = "ACCEPTED"
	lcmRunning  = "RUNNING"
	lcmSuccess  = "SUCCESS"
	lcmFailed   = "FAILED"
	lcmAborted  = "ABORTED"
)

// Task outcomes a fault can force (sim.LCMFaults.TaskOutcome).
const (
	outcomeTimedOut = "TIMEDOUT"
	outcomeAborted  = "ABORTED"
	outcomeFailed   = "FAILED"
)

// TaskOutcomes are the values sim.LCMFaults.TaskOutcome accepts besides "".
var TaskOutcomes = []string{outcomeTimedOut, outcomeAborted, outcomeFailed}

// lcmFaults is sim.LCMFaults, checked and compiled.
type lcmFaults struct {
	sim.LCMFaults
	hosts *regexp.Regexp
}

// CheckLCMFaults validates a fault setting and returns it normalised (the
// task outcome upper-cased); errors name the field.
func CheckLCMFaults(f sim.LCMFaults) (sim.LCMFaults, error) {
	_, err := compileLCMFaults(f)
	if err != nil {
		return f, err
	}
	f.TaskOutcome = strings.ToUpper(f.TaskOutcome)
	return f, nil
}

func compileLCMFaults(f sim.LCMFaults) (lcmFaults, error) {
	out := lcmFaults{LCMFaults: f}
	var problems []string
	if f.FailRate < 0 || f.FailRate > 1 {
		problems = append(problems, fmt.Sprintf("fail_rate %v must be between 0 and 1", f.FailRate))
	}
	if f.FailHosts != "" {
		re, err := regexp.Compile(f.FailHosts)
		if err != nil {
			problems = append(problems, fmt.Sprintf("fail_hosts %q is not a regular expression: %v", f.FailHosts, err))
		}
		out.hosts = re
	}
	out.TaskOutcome = strings.ToUpper(f.TaskOutcome)
	if out.TaskOutcome != "" && !slices.Contains(TaskOutcomes, out.TaskOutcome) {
		problems = append(problems, fmt.Sprintf("task_outcome %q must be one of %s (or empty)", f.TaskOutcome, strings.Join(TaskOutcomes, ", ")))
	}
	if len(problems) > 0 {
		return out, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return out, nil
}

// hostFault says why an operation on host fails, or "" when it succeeds.
// key makes the draw differ between operations and attempts; it is hashed
// with the seed, so the same run fails the same hosts.
func (f *lcmFaults) hostFault(seed int64, host, key string) string {
	if f.hosts != nil && f.hosts.MatchString(host) {
		return fmt.Sprintf("host %s matches the sandbox's fault setting fail_hosts %q", host, f.FailHosts)
	}
	if f.FailRate > 0 {
		h := fnv.New64a()
		fmt.Fprintf(h, "%d\x00%s\x00%s", seed, host, key)
		r := &rng{s: h.Sum64()}
		if float64(r.next()>>11)/(1<<53) < f.FailRate {
			return fmt.Sprintf("drawn by the sandbox's fault setting fail_rate %v", f.FailRate)
		}
	}
	return ""
}

// lcmStepMs is the length of one lifecycle step in milliseconds.
func (e *Emulator) lcmStepMs() int64 {
	d := e.env.Options().LCMStep
	if d <= 0 {
		d = sim.DefaultLCMStep
	}
	return max(1, d.Milliseconds())
}

// phase is how far an operation started at startMs has got: 0 ACCEPTED,
// 1 RUNNING, 2 done.
func phase(startMs, nowMs, stepMs int64) int {
	if nowMs < startMs {
		return 0
	}
	return int(min(2, (nowMs-startMs)/stepMs))
}

// phaseTime is when the operation entered its current phase (its
// _last_modified_time).
func phaseTime(startMs, nowMs, stepMs int64) int64 {
	return startMs + int64(phase(startMs, nowMs, stepMs))*stepMs
}

// lcmStatus is an operation's status: result is what it ends with
// (SUCCESS, FAILED or ABORTED).
func lcmStatus(startMs, nowMs, stepMs int64, result string) string {
	switch phase(startMs, nowMs, stepMs) {
	case 0:
		return lcmAccepted
	case 1:
		return lcmRunning
	default:
		return result
	}
}
