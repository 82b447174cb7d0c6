package ssp

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// The sandbox-only control routes of the SSP emulator. They need no
// credentials (the sandbox listens on loopback only) and answer errors as
// {"error": "<message>"}, like the sandbox's other control routes.

// registerRequest is the body of POST /_sandbox/ssp/register.
type registerRequest struct {
	TokenID    string `json:"token_id"`
	Passphrase string `json:"passphrase"`
	// Hostname is the registering host's name: a baremetal server's
	// display_name (INFERRED: the vendor does not say how an installed host
	// names itself) and a sensor's host_name and display_name. A host that
	// registers again with the same token and hostname is the same server
	// or sensor.
	Hostname string `json:"hostname,omitempty"`
	// DisplayName names the new sensor or server when no hostname is sent;
	// a sensor takes the token's display_name and description by default,
	// as the vendor's examples show (sensor "sensor", "Token for ndr sensor").
	DisplayName string `json:"display_name,omitempty"`
	// OS facts of a baremetal host (defaults: Ubuntu 22.04, 8 cores).
	OSName       string `json:"os_name,omitempty"`
	OSVersion    string `json:"os_version,omitempty"`
	CPUCoreCount int    `json:"cpu_core_count,omitempty"`
	// AgentVersion is the agent build a baremetal install brings (default:
	// the latest), so that tests can make servers that need an upgrade.
	AgentVersion string `json:"agent_version,omitempty"`
}

// systemUser is the _create_user of what registers itself. INFERRED.
const systemUser = "system"

// register serves POST /_sandbox/ssp/register: an appliance or a baremetal
// host registering with a token, as the vendor's installer does with the
// registration manifest and the passphrase (`tokenctl sandbox vdefend-cli
// install bms ssp` calls it at the manifest's URL).
//
// The token must exist (else 404) and the passphrase must match (else 403).
// A host already registered with the token under the same hostname gets its
// server or sensor back (200, "created": false) and consumes nothing; an
// install that FAILED, or an agent removed on the host, is started again.
// A new host needs an AVAILABLE token (else 409: EXPIRED or USED), consumes
// one instance (usage_count up, remaining_instance_count down; USED at 0)
// and starts its install: ACCEPTED -> RUNNING -> SUCCESS (or FAILED with an
// lcm_error, by the fault setting), one step per lifecycle step. A malformed
// body is 400.
//
// Answers (200): baremetal {"device_type":"BAREMETAL","token_id","server_id",
// "display_name","created","lcm_status","status","remaining_instance_count"};
// sensor {"device_type":"SENSOR","token_id","sensor_id","display_name",
// "created","registration_status","status","usage_count"}.
func (e *Emulator) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, sim.MaxBody)).Decode(&req); err != nil || req.TokenID == "" || req.Passphrase == "" {
		controlError(w, http.StatusBadRequest, `body must be {"token_id": "...", "passphrase": "...", "hostname": "..."}`)
		return
	}
	var problems []string
	for _, f := range []struct{ name, v string }{{"hostname", req.Hostname}, {"display_name", req.DisplayName}} {
		if utf8.RuneCountInString(f.v) > 255 {
			problems = append(problems, f.name+" must be at most 255 characters")
		}
	}
	if req.AgentVersion != "" && !slices.Contains(agentVersions(), req.AgentVersion) {
		problems = append(problems, fmt.Sprintf("agent_version %q is not one of %v", req.AgentVersion, agentVersions()))
	}
	if req.CPUCoreCount < 0 {
		problems = append(problems, "cpu_core_count must not be negative")
	}
	if len(problems) > 0 {
		controlError(w, http.StatusBadRequest, strings.Join(problems, "; "))
		return
	}
	e.env.Lock()
	defer e.env.Unlock()
	var rec *tokenRecord
	var sensorTok *sensorToken
	if i, t := sensorTokens.find(e, req.TokenID); i >= 0 {
		rec, sensorTok = &t.tokenRecord, t
	} else if i, t := baremetalTokens.find(e, req.TokenID); i >= 0 {
		rec = &t.tokenRecord
	}
	if rec == nil {
		controlError(w, http.StatusNotFound, "no sensor or baremetal registration token has this id")
		return
	}
	if subtle.ConstantTimeCompare([]byte(hashPassphrase(req.Passphrase)), []byte(rec.PassphraseSHA256)) != 1 {
		controlError(w, http.StatusForbidden, "the passphrase does not match the token's")
		return
	}
	if sensorTok != nil {
		e.registerSensor(w, &req, sensorTok)
		return
	}
	e.registerServer(w, &req, rec)
}

// available refuses (409) a new registration with a token that is not
// AVAILABLE.
func available(w http.ResponseWriter, rec *tokenRecord, nowMs int64) bool {
	if st := rec.status(nowMs); st != statusAvailable {
		controlError(w, http.StatusConflict, "the token is "+st+"; registration needs an AVAILABLE token")
		return false
	}
	return true
}

func (e *Emulator) registerServer(w http.ResponseWriter, req *registerRequest, rec *tokenRecord) {
	now, step := e.env.NowMs(), e.lcmStepMs()
	name := req.Hostname
	if name == "" {
		name = req.DisplayName
	}
	answer := func(s *bmServer, created bool) {
		sim.WriteJSON(w, http.StatusOK, map[string]any{
			"device_type":              "BAREMETAL",
			"token_id":                 rec.ID,
			"server_id":                s.ID,
			"display_name":             s.DisplayName,
			"created":                  created,
			"lcm_status":               s.view(now, step).lcmStatus,
			"status":                   rec.status(now),
			"remaining_instance_count": rec.remaining(),
		})
	}
	if name != "" {
		for _, s := range e.state.BaremetalServers {
			if s.RegistrationTokenID != rec.ID || s.DisplayName != name {
				continue
			}
			v := s.view(now, step)
			switch {
			case v.state == stateTerminated:
				continue // an uninstalled server: the host joins anew
			case v.state == stateTerminating:
				controlError(w, http.StatusConflict, fmt.Sprintf("baremetal server %s (%s) is being uninstalled; register again once it is TERMINATED", s.DisplayName, s.ID))
				return
			case s.LocalUninstall || (s.Op.Operation == opInstall && v.done && s.Op.Result != lcmSuccess):
				s.Installs++
				s.LocalUninstall = false
				s.startOp(opInstall, now, step, systemUser, s.Op.Version, "", e.opFault(s, opInstall, s.Installs))
				e.env.Changed()
			}
			answer(s, false)
			return
		}
	}
	if !available(w, rec, now) {
		return
	}
	rec.UsageCount++
	s := &bmServer{
		ID:                  sim.NewUUID(),
		DisplayName:         name,
		SiteIDs:             rec.SiteIDs,
		RegistrationTokenID: rec.ID,
		OSName:              req.OSName,
		OSVersion:           req.OSVersion,
		CPUCores:            req.CPUCoreCount,
		CreateTime:          now,
		CreateUser:          systemUser,
		Installs:            1,
	}
	if s.DisplayName == "" {
		s.DisplayName = "bms-" + s.ID[:8]
	}
	if s.OSName == "" {
		s.OSName, s.OSVersion = "Ubuntu", "22.04"
	}
	if s.CPUCores == 0 {
		s.CPUCores = 8
	}
	version := req.AgentVersion
	if version == "" {
		version = latestAgentVersion()
	}
	s.startOp(opInstall, now, step, systemUser, version, "", e.opFault(s, opInstall, s.Installs))
	e.state.BaremetalServers = append(e.state.BaremetalServers, s)
	e.env.Changed()
	answer(s, true)
}

func (e *Emulator) registerSensor(w http.ResponseWriter, req *registerRequest, t *sensorToken) {
	now, step := e.env.NowMs(), e.lcmStepMs()
	answer := func(s *sensor, created bool) {
		s.progress(now, step)
		sim.WriteJSON(w, http.StatusOK, map[string]any{
			"device_type":         "SENSOR",
			"token_id":            t.ID,
			"sensor_id":           s.ID,
			"display_name":        s.DisplayName,
			"created":             created,
			"registration_status": s.RegistrationStatus,
			"status":              t.status(now),
			"usage_count":         t.UsageCount,
		})
	}
	if req.Hostname != "" {
		for _, s := range e.state.Sensors {
			if s.TokenID != t.ID || s.HostName != req.Hostname {
				continue
			}
			if l := s.Lifecycle; l != nil && phase(l.Start, now, step) == 2 && l.Error != "" {
				l.Attempts++
				l.Start, l.Error = now, e.sensorFault(s.DisplayName, l.Attempts)
				e.env.Changed()
			}
			answer(s, false)
			return
		}
	}
	if !available(w, &t.tokenRecord, now) {
		return
	}
	t.UsageCount++
	s := registeredSensor(sim.NewUUID(), t, now)
	if req.Hostname != "" {
		s.DisplayName, s.HostName = req.Hostname, req.Hostname
	}
	if req.DisplayName != "" {
		s.DisplayName = req.DisplayName
	}
	s.Lifecycle = &sensorLifecycle{Start: now, Attempts: 1, Error: e.sensorFault(s.DisplayName, 1)}
	e.state.Sensors = append(e.state.Sensors, s)
	e.env.Changed()
	answer(s, true)
}

func (e *Emulator) sensorFault(name string, attempt int) string {
	reason := e.faults.hostFault(e.env.Options().Seed, name, fmt.Sprintf("SENSOR#%d", attempt))
	if reason == "" {
		return ""
	}
	return fmt.Sprintf("sensor registration failed on %s (sandbox fault: %s)", name, reason)
}

// sensorLifecycle is a registered sensor's registration: IN_PROGRESS (health
// NOT_AVAILABLE) for two lifecycle steps, then REGISTERED with health OK, or
// FAILED (health DISCONNECTED) when a fault says so. Seeded sensors have
// none: their status is generated.
type sensorLifecycle struct {
	Start    int64  `json:"start"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
}

// progress sets a registered sensor's registration status and health from
// the clock (lock held; the fields are derived, so writing them is safe).
func (s *sensor) progress(nowMs, stepMs int64) {
	l := s.Lifecycle
	if l == nil {
		return
	}
	switch {
	case phase(l.Start, nowMs, stepMs) < 2:
		s.RegistrationStatus, s.Health = "IN_PROGRESS", "NOT_AVAILABLE"
		s.SniffingHealth, s.UploadingHealth = "NOT_AVAILABLE", "NOT_AVAILABLE"
	case l.Error != "":
		s.RegistrationStatus, s.Health = "FAILED", "DISCONNECTED"
		s.SniffingHealth, s.UploadingHealth = "NOT_AVAILABLE", "NOT_AVAILABLE"
	default:
		s.RegistrationStatus, s.Health = "REGISTERED", "OK"
		s.SniffingHealth, s.UploadingHealth = "OK", "OK"
	}
	s.BootTime = l.Start
}

// registeredSensor builds a newly registered sensor: on the newest build,
// with the vendor example's features (IDS and flows on, PCAP and MPS off),
// other details drawn from a stream keyed by its id. Its registration
// status and health come from its lifecycle (progress).
func registeredSensor(id string, t *sensorToken, nowMs int64) *sensor {
	h := fnv.New64a()
	h.Write([]byte(id))
	r := &rng{s: h.Sum64()}
	p := profile{
		site:         r.intn(len(sites)),
		dc:           1 + r.intn(3),
		build:        len(softwareBuilds) - 1,
		registration: "REGISTERED",
		health:       "OK",
		ids:          true,
		flows:        true,
	}
	s := buildSensor(r, p, id)
	s.DisplayName = t.DisplayName
	s.Description = t.Description
	s.TokenID = t.ID
	s.CreateTime = nowMs
	s.LastModifiedTime = nowMs
	s.BootTime = nowMs
	s.BundleModified = nowMs
	s.FeaturesModified = nowMs
	return &s
}

// localUninstall serves POST /_sandbox/ssp/local-uninstall
// {"server_id": "..."}: `vdefend-cli uninstall bms` removed the agent on the
// host. The server stays in SSP with is_agent_local_uninstall true,
// connectivity DOWN and health DISCONNECTED until it is uninstalled there or
// the host registers again. 404 for an unknown server.
func (e *Emulator) localUninstall(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ServerID string `json:"server_id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, sim.MaxBody)).Decode(&req); err != nil || req.ServerID == "" {
		controlError(w, http.StatusBadRequest, `body must be {"server_id": "..."}`)
		return
	}
	e.env.Lock()
	defer e.env.Unlock()
	s := e.findServer(req.ServerID)
	if s == nil {
		controlError(w, http.StatusNotFound, "no baremetal server has this id")
		return
	}
	if !s.LocalUninstall {
		s.LocalUninstall = true
		s.Revision++
		e.env.Changed()
	}
	sim.WriteJSON(w, http.StatusOK, map[string]any{"server_id": s.ID, "is_agent_local_uninstall": true})
}

// faultsBody is the fault setting as the control route shows and takes it.
type faultsBody struct {
	sim.LCMFaults
	// LCMStep is shown, not set: it is fixed when the sandbox starts.
	LCMStep string `json:"lcm_step,omitempty"`
}

// getFaults serves GET /_sandbox/ssp/faults: the lifecycle fault setting
// and the lifecycle step.
func (e *Emulator) getFaults(w http.ResponseWriter, _ *http.Request) {
	e.env.Lock()
	defer e.env.Unlock()
	sim.WriteJSON(w, http.StatusOK, faultsBody{e.faults.LCMFaults, (time.Duration(e.lcmStepMs()) * time.Millisecond).String()})
}

// setFaults serves POST /_sandbox/ssp/faults {"fail_rate": 0..1,
// "fail_hosts": "<regexp>", "task_outcome": "TIMEDOUT|ABORTED|FAILED|"}:
// replaces the whole setting (a field left out is off) for operations that
// start from now on; what already started keeps its outcome. Not saved in
// the state file: a restart goes back to the flags'. 400 names every bad
// field.
func (e *Emulator) setFaults(w http.ResponseWriter, r *http.Request) {
	body, err := sim.ReadBody(r)
	if err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	var f sim.LCMFaults
	if err := decodeObject(body, &f, []string{"fail_rate", "fail_hosts", "task_outcome"}); err != nil {
		controlError(w, http.StatusBadRequest, err.Error()+`; body must be {"fail_rate": 0..1, "fail_hosts": "<regexp>", "task_outcome": "TIMEDOUT|ABORTED|FAILED"}`)
		return
	}
	compiled, err := compileLCMFaults(f)
	if err != nil {
		controlError(w, http.StatusBadRequest, err.Error())
		return
	}
	e.env.Lock()
	defer e.env.Unlock()
	e.faults = compiled
	sim.WriteJSON(w, http.StatusOK, faultsBody{compiled.LCMFaults, (time.Duration(e.lcmStepMs()) * time.Millisecond).String()})
}

func controlError(w http.ResponseWriter, status int, msg string) {
	sim.WriteJSON(w, status, map[string]string{"error": msg})
}
