package ssp

import (
	"crypto/subtle"
	"encoding/json"
	"hash/fnv"
	"net/http"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// registerRequest is the body of the control route.
type registerRequest struct {
	TokenID    string `json:"token_id"`
	Passphrase string `json:"passphrase"`
	// DisplayName names the new sensor; by default it takes the token's
	// display_name and description, as the vendor's examples show (sensor
	// "sensor", "Token for ndr sensor").
	DisplayName string `json:"display_name,omitempty"`
}

// register serves POST /_sandbox/ssp/register, a sandbox-only control route
// (no credentials; the sandbox listens on loopback only). It simulates what
// the vendor API cannot: an appliance or baremetal server registering with a
// token, as the installer does with the registration manifest and the
// passphrase.
//
// Body: {"token_id": "<sensor or baremetal token id>", "passphrase": "...",
// "display_name": "<optional, sensor tokens>"}.
//
// The token must exist (else 404), the passphrase must match (else 403) and
// the token must be AVAILABLE (else 409); a malformed body is 400. Errors are
// {"error": "<message>"}, like the sandbox's other control routes.
//
// A sensor token's usage_count goes up by one and a REGISTERED sensor whose
// token_id is the token joins the sensor lists; the answer (200) is
// {"device_type":"SENSOR","token_id":...,"sensor_id":...,"status":...,"usage_count":...}.
// A baremetal token's remaining_instance_count goes down by one; the answer is
// {"device_type":"BAREMETAL","token_id":...,"status":...,"remaining_instance_count":...}.
func (e *Emulator) register(w http.ResponseWriter, r *http.Request) {
	var req registerRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, sim.MaxBody)).Decode(&req); err != nil || req.TokenID == "" || req.Passphrase == "" {
		controlError(w, http.StatusBadRequest, `body must be {"token_id": "...", "passphrase": "..."}`)
		return
	}
	e.env.Lock()
	defer e.env.Unlock()
	now := e.env.NowMs()
	var rec *tokenRecord
	deviceType := "SENSOR"
	var sensorTok *sensorToken
	if _, t := e.findSensorToken(req.TokenID); t != nil {
		rec, sensorTok = &t.tokenRecord, t
	} else if _, t := e.findBaremetalToken(req.TokenID); t != nil {
		rec, deviceType = &t.tokenRecord, "BAREMETAL"
	}
	if rec == nil {
		controlError(w, http.StatusNotFound, "no sensor or baremetal registration token has this id")
		return
	}
	if subtle.ConstantTimeCompare([]byte(hashPassphrase(req.Passphrase)), []byte(rec.PassphraseSHA256)) != 1 {
		controlError(w, http.StatusForbidden, "the passphrase does not match the token's")
		return
	}
	if st := rec.status(now); st != statusAvailable {
		controlError(w, http.StatusConflict, "the token is "+st+"; registration needs an AVAILABLE token")
		return
	}
	rec.UsageCount++
	if sensorTok == nil {
		e.env.Changed()
		sim.WriteJSON(w, http.StatusOK, map[string]any{
			"device_type":              deviceType,
			"token_id":                 rec.ID,
			"status":                   rec.status(now),
			"remaining_instance_count": rec.remaining(),
		})
		return
	}
	s := registeredSensor(sim.NewUUID(), sensorTok, now)
	if req.DisplayName != "" {
		s.DisplayName = req.DisplayName
	}
	e.state.Sensors = append(e.state.Sensors, s)
	e.env.Changed()
	sim.WriteJSON(w, http.StatusOK, map[string]any{
		"device_type": deviceType,
		"token_id":    rec.ID,
		"sensor_id":   s.ID,
		"status":      rec.status(now),
		"usage_count": rec.UsageCount,
	})
}

// registeredSensor builds a newly registered sensor: healthy, on the newest
// build, with the vendor example's features (IDS and flows on, PCAP and MPS
// off), other details drawn from a stream keyed by its id.
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

func controlError(w http.ResponseWriter, status int, msg string) {
	sim.WriteJSON(w, status, map[string]string{"error": msg})
}
