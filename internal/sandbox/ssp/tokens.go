package ssp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// tokenLifetimeMs is a sensor token's life: "A token will be valid for only
// 30 minutes" (spec).
const tokenLifetimeMs = 30 * 60 * 1000

// Token statuses (spec TokenStatus).
const (
	statusAvailable = "AVAILABLE"
	statusExpired   = "EXPIRED"
	statusUsed      = "USED"
)

// status is computed when read: USED once every allowed instance registered,
// else EXPIRED after the expiration, else AVAILABLE.
func (t *tokenRecord) status(nowMs int64) string {
	switch {
	case t.UsageCount >= t.AllowedInstanceCount:
		return statusUsed
	case nowMs > t.Expiration:
		return statusExpired
	default:
		return statusAvailable
	}
}

func (t *tokenRecord) remaining() int64 { return max(0, t.AllowedInstanceCount-t.UsageCount) }

// Manifest is the sandbox's own registration manifest (the vendor documents
// only an opaque string for the installer): standard base64, without
// newlines, of compact JSON
// {"ssp":"<base URL>","token_id":"<id>","device_type":"SENSOR|BAREMETAL","expiration":<ms>}.
// It carries no passphrase: the installer asks for that separately.
type Manifest struct {
	SSP        string `json:"ssp"`
	TokenID    string `json:"token_id"`
	DeviceType string `json:"device_type"`
	Expiration int64  `json:"expiration"`
}

// manifest encodes a token's manifest. It is computed once, when the token
// is created, and stored with it: a token's manifest is a fact about the
// token, so it must not change when the sandbox restarts on another port
// (the built-in profile does so on every command), or a manifest printed
// earlier would no longer match.
func manifest(baseURL, id, deviceType string, expiration int64) string {
	b, _ := json.Marshal(Manifest{baseURL, id, deviceType, expiration})
	return base64.StdEncoding.EncodeToString(b)
}

// ParseManifest decodes a sandbox registration manifest (surrounding white
// space allowed), as the host installer stand-in reads it.
func ParseManifest(data []byte) (Manifest, error) {
	var m Manifest
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil {
		return m, fmt.Errorf("not a sandbox registration manifest (base64 of JSON): %v", err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("not a sandbox registration manifest (base64 of JSON): %v", err)
	}
	if m.SSP == "" || m.TokenID == "" || m.DeviceType == "" {
		return m, fmt.Errorf("not a sandbox registration manifest: ssp, token_id and device_type are required")
	}
	return m, nil
}

// baseURL is the sandbox URL the manifest names: the listener's, or for a
// bare handler (httptest) the one the request came to.
func (e *Emulator) baseURL(r *http.Request) string {
	if u := e.env.BaseURL(); u != "" {
		return u
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func hashPassphrase(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:])
}

// tokenRequest is the create body of both token kinds.
type tokenRequest struct {
	DisplayName          *string  `json:"display_name"`
	Description          *string  `json:"description"`
	Passphrase           *string  `json:"passphrase"`
	AllowedInstanceCount *int64   `json:"allowed_instance_count"`
	SiteIDs              []string `json:"site_ids"`
	ExpiryMins           *int64   `json:"expiry_time_since_creation_mins"`
}

// baremetalTokenFields are RegistrationToken's properties (its allOf). The
// schema has additionalProperties: false, so the emulator refuses others;
// read-only ones are accepted and ignored.
var baremetalTokenFields = []string{
	"_create_user", "_create_time", "_last_modified_user", "_last_modified_time", "_revision",
	"_resource_type", "_system_owned", "id", "display_name", "description", "site_ids",
	"allowed_instance_count", "passphrase", "device_type", "expiry_time_since_creation_mins",
}

// decodeObject parses a JSON object body. allowed, when not nil, lists the
// only fields the schema admits.
func decodeObject(body []byte, v any, allowed []string) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("the request body is required")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("the request body is not a valid JSON object: %v", err)
	}
	if allowed != nil {
		var unknown []string
		for k := range fields {
			if !slices.Contains(allowed, k) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			slices.Sort(unknown)
			return fmt.Errorf("unknown field(s) %s", strings.Join(unknown, ", "))
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("the request body does not match the schema: %v", err)
	}
	return nil
}

// validateToken applies the vendor's rules to a create body and returns every
// problem found. nameMin/nameMax bound display_name.
func validateToken(req *tokenRequest, nameMin, nameMax int) []string {
	var problems []string
	switch {
	case req.DisplayName == nil || *req.DisplayName == "":
		problems = append(problems, "display_name is required")
	case utf8.RuneCountInString(*req.DisplayName) < nameMin || utf8.RuneCountInString(*req.DisplayName) > nameMax:
		if nameMin <= 1 {
			problems = append(problems, fmt.Sprintf("display_name must be at most %d characters", nameMax))
		} else {
			problems = append(problems, fmt.Sprintf("display_name must be %d to %d characters", nameMin, nameMax))
		}
	}
	if req.Description != nil && utf8.RuneCountInString(*req.Description) > 1024 {
		problems = append(problems, "description must be at most 1024 characters")
	}
	if req.Passphrase == nil || *req.Passphrase == "" {
		problems = append(problems, "passphrase is required")
	} else {
		problems = append(problems, passphraseProblems(*req.Passphrase)...)
	}
	// The spec sets no minimum; a token no instance may use is meaningless,
	// so the sandbox refuses counts below 1.
	if req.AllowedInstanceCount != nil && *req.AllowedInstanceCount < 1 {
		problems = append(problems, "allowed_instance_count must be at least 1")
	}
	return problems
}

// passphraseProblems checks the spec's rule: 15 to 128 characters with at
// least one lowercase letter, one uppercase letter, one digit and one special
// character. A special character is any printable character that is neither a
// letter, a digit nor a space (the vendor does not define it).
func passphraseProblems(p string) []string {
	var problems []string
	if n := utf8.RuneCountInString(p); n < 15 || n > 128 {
		problems = append(problems, fmt.Sprintf("passphrase must be 15 to 128 characters (it has %d)", n))
	}
	var lower, upper, digit, special bool
	for _, c := range p {
		switch {
		case unicode.IsLower(c):
			lower = true
		case unicode.IsUpper(c):
			upper = true
		case unicode.IsDigit(c):
			digit = true
		case !unicode.IsLetter(c) && !unicode.IsSpace(c) && unicode.IsPrint(c):
			special = true
		}
	}
	var missing []string
	if !lower {
		missing = append(missing, "a lowercase letter")
	}
	if !upper {
		missing = append(missing, "an uppercase letter")
	}
	if !digit {
		missing = append(missing, "a digit")
	}
	if !special {
		missing = append(missing, "a special character")
	}
	if len(missing) > 0 {
		problems = append(problems, "passphrase must contain at least one of each: lowercase letter, uppercase letter, digit, special character; missing "+strings.Join(missing, ", "))
	}
	return problems
}

// manifestFor returns the token's stored manifest. Tokens from a state file
// written before manifests were stored get one now, from the current URL,
// kept from then on (the Env lock is held by every caller).
func (t *tokenRecord) manifestFor(baseURL, deviceType string) string {
	if t.Manifest == "" {
		t.Manifest = manifest(baseURL, t.ID, deviceType, t.Expiration)
	}
	return t.Manifest
}

func newTokenRecord(req *tokenRequest, caller sim.User, nowMs, lifetimeMs int64, baseURL, deviceType string) tokenRecord {
	t := tokenRecord{
		ID:                   sim.NewUUID(),
		DisplayName:          *req.DisplayName,
		SiteIDs:              req.SiteIDs,
		AllowedInstanceCount: 1,
		PassphraseSHA256:     hashPassphrase(*req.Passphrase),
		CreateTime:           nowMs,
		CreateUser:           caller.Name,
		Expiration:           nowMs + lifetimeMs,
	}
	if req.Description != nil {
		t.Description = *req.Description
	}
	if req.AllowedInstanceCount != nil {
		t.AllowedInstanceCount = *req.AllowedInstanceCount
	}
	t.Manifest = manifest(baseURL, t.ID, deviceType, t.Expiration)
	return t
}

// ---- sensor registration tokens ----

// sensorTokenOut is SensorRegistrationTokenInfo as returned. The passphrase
// is writeOnly, so it is omitted (the vendor's examples show "", which
// breaks the vendor's own schema).
type sensorTokenOut struct {
	CreateTime           int64    `json:"_create_time"`
	CreateUser           string   `json:"_create_user"`
	LastModifiedTime     int64    `json:"_last_modified_time"`
	LastModifiedUser     string   `json:"_last_modified_user"`
	ID                   string   `json:"id"`
	DisplayName          string   `json:"display_name"`
	Description          string   `json:"description,omitempty"`
	SiteIDs              []string `json:"site_ids,omitempty"`
	AllowedInstanceCount int64    `json:"allowed_instance_count"`
	DeviceType           string   `json:"device_type"`
	Status               string   `json:"status"`
	RegistrationManifest string   `json:"registration_manifest"`
	Expiration           int64    `json:"expiration"`
	UsageCount           int64    `json:"usage_count"`
	NumberAvailable      int64    `json:"number_available"`
}

func (t *sensorToken) out(baseURL string, nowMs int64) sensorTokenOut {
	return sensorTokenOut{
		CreateTime:           t.CreateTime,
		CreateUser:           t.CreateUser,
		LastModifiedTime:     t.CreateTime,
		LastModifiedUser:     t.CreateUser,
		ID:                   t.ID,
		DisplayName:          t.DisplayName,
		Description:          t.Description,
		SiteIDs:              t.SiteIDs,
		AllowedInstanceCount: t.AllowedInstanceCount,
		DeviceType:           "SENSOR",
		Status:               t.status(nowMs),
		RegistrationManifest: t.manifestFor(baseURL, "SENSOR"),
		Expiration:           t.Expiration,
		UsageCount:           t.UsageCount,
		NumberAvailable:      t.remaining(),
	}
}

// sensorTokenSort are the sort_by fields the vendor documents.
var sensorTokenSort = sortFields[sensorTokenOut]{
	{"display_name", func(o sensorTokenOut) any { return o.DisplayName }},
	{"remaining_instance_count", func(o sensorTokenOut) any { return o.NumberAvailable }},
	{"usage_count", func(o sensorTokenOut) any { return o.UsageCount }},
	{"status", func(o sensorTokenOut) any { return o.Status }},
}

func (e *Emulator) createSensorToken(w http.ResponseWriter, r *http.Request, caller sim.User) {
	body, err := sim.ReadBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, "reading the request body: "+err.Error())
		return
	}
	var req tokenRequest
	if err := decodeObject(body, &req, nil); err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, err.Error())
		return
	}
	if problems := validateToken(&req, 1, 255); len(problems) > 0 {
		writeError(w, http.StatusBadRequest, moduleSensor, "invalid sensor registration token: "+strings.Join(problems, "; "))
		return
	}
	e.env.Lock()
	defer e.env.Unlock()
	now := e.env.NowMs()
	t := &sensorToken{newTokenRecord(&req, caller, now, tokenLifetimeMs, e.baseURL(r), "SENSOR")}
	e.state.SensorTokens = append(e.state.SensorTokens, t)
	e.env.Changed()
	sim.WriteJSON(w, http.StatusOK, t.out(e.baseURL(r), now))
}

func (e *Emulator) findSensorToken(id string) (int, *sensorToken) {
	for i, t := range e.state.SensorTokens {
		if t.ID == id {
			return i, t
		}
	}
	return -1, nil
}

func (e *Emulator) getSensorToken(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.env.Lock()
	defer e.env.Unlock()
	_, t := e.findSensorToken(r.PathValue("id"))
	if t == nil {
		writeError(w, http.StatusNotFound, moduleSensor, "sensor registration token not found")
		return
	}
	sim.WriteJSON(w, http.StatusOK, t.out(e.baseURL(r), e.env.NowMs()))
}

// deleteSensorToken is idempotent: 200 whether or not the token exists.
func (e *Emulator) deleteSensorToken(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.env.Lock()
	defer e.env.Unlock()
	if i, _ := e.findSensorToken(r.PathValue("id")); i >= 0 {
		e.state.SensorTokens = slices.Delete(e.state.SensorTokens, i, i+1)
		e.env.Changed()
	}
	writeNoBody(w, http.StatusOK)
}

func (e *Emulator) listSensorTokens(w http.ResponseWriter, r *http.Request, _ sim.User) {
	q := r.URL.Query()
	p, err := parseListParams(q, sensorTokenSort.names())
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, err.Error())
		return
	}
	status := q.Get("token_status")
	if status != "" && status != statusAvailable && status != statusExpired && status != statusUsed {
		writeError(w, http.StatusBadRequest, moduleSensor, fmt.Sprintf("token_status %q must be one of AVAILABLE, EXPIRED, USED", status))
		return
	}
	e.env.Lock()
	now := e.env.NowMs()
	base := e.baseURL(r)
	var items []sensorTokenOut
	for _, t := range e.state.SensorTokens {
		o := t.out(base, now)
		if p.nameMatches(o.DisplayName) && (status == "" || o.Status == status) {
			items = append(items, o)
		}
	}
	e.env.Unlock()
	sensorTokenSort.writeList(w, p, items)
}

// ---- baremetal registration tokens ----

// baremetalTokenOut is RegistrationToken as returned (passphrase omitted:
// writeOnly). Status, expiry and manifest are only in TokenStatusInfo.
type baremetalTokenOut struct {
	CreateTime           int64    `json:"_create_time"`
	CreateUser           string   `json:"_create_user"`
	LastModifiedTime     int64    `json:"_last_modified_time"`
	LastModifiedUser     string   `json:"_last_modified_user"`
	ID                   string   `json:"id"`
	DisplayName          string   `json:"display_name"`
	Description          string   `json:"description,omitempty"`
	SiteIDs              []string `json:"site_ids,omitempty"`
	AllowedInstanceCount int64    `json:"allowed_instance_count"`
	DeviceType           string   `json:"device_type"`
	ExpiryMins           int64    `json:"expiry_time_since_creation_mins"`
}

func (t *baremetalToken) out() baremetalTokenOut {
	return baremetalTokenOut{
		CreateTime:           t.CreateTime,
		CreateUser:           t.CreateUser,
		LastModifiedTime:     t.CreateTime,
		LastModifiedUser:     t.CreateUser,
		ID:                   t.ID,
		DisplayName:          t.DisplayName,
		Description:          t.Description,
		SiteIDs:              t.SiteIDs,
		AllowedInstanceCount: t.AllowedInstanceCount,
		DeviceType:           "BAREMETAL",
		ExpiryMins:           t.ExpiryMins,
	}
}

// tokenStatusOut is TokenStatusInfo.
type tokenStatusOut struct {
	ID                     string `json:"id"`
	DisplayName            string `json:"display_name"`
	Description            string `json:"description,omitempty"`
	AllowedInstanceCount   int64  `json:"allowed_instance_count"`
	RemainingInstanceCount int64  `json:"remaining_instance_count"`
	Status                 string `json:"status"`
	ExpirationTimestamp    int64  `json:"expiration_timestamp"`
	RegistrationManifest   string `json:"registration_manifest"`
}

func (t *baremetalToken) statusOut(baseURL string, nowMs int64) tokenStatusOut {
	return tokenStatusOut{
		ID:                     t.ID,
		DisplayName:            t.DisplayName,
		Description:            t.Description,
		AllowedInstanceCount:   t.AllowedInstanceCount,
		RemainingInstanceCount: t.remaining(),
		Status:                 t.status(nowMs),
		ExpirationTimestamp:    t.Expiration,
		RegistrationManifest:   t.manifestFor(baseURL, "BAREMETAL"),
	}
}

// The vendor does not say which fields its baremetal lists sort by; the
// SortBy parameter says "top-level parameters in the returned list of
// records", so these are the scalar top-level fields of each record type.
var (
	baremetalTokenSort = sortFields[baremetalTokenOut]{
		{"display_name", func(o baremetalTokenOut) any { return o.DisplayName }},
		{"id", func(o baremetalTokenOut) any { return o.ID }},
		{"description", func(o baremetalTokenOut) any { return o.Description }},
		{"allowed_instance_count", func(o baremetalTokenOut) any { return o.AllowedInstanceCount }},
		{"expiry_time_since_creation_mins", func(o baremetalTokenOut) any { return o.ExpiryMins }},
		{"_create_time", func(o baremetalTokenOut) any { return o.CreateTime }},
		{"_last_modified_time", func(o baremetalTokenOut) any { return o.LastModifiedTime }},
	}
	baremetalStatusSort = sortFields[tokenStatusOut]{
		{"display_name", func(o tokenStatusOut) any { return o.DisplayName }},
		{"id", func(o tokenStatusOut) any { return o.ID }},
		{"description", func(o tokenStatusOut) any { return o.Description }},
		{"allowed_instance_count", func(o tokenStatusOut) any { return o.AllowedInstanceCount }},
		{"remaining_instance_count", func(o tokenStatusOut) any { return o.RemainingInstanceCount }},
		{"status", func(o tokenStatusOut) any { return o.Status }},
		{"expiration_timestamp", func(o tokenStatusOut) any { return o.ExpirationTimestamp }},
	}
)

// Baremetal display names are limited to 3..64 characters at create: the
// create schema (Resource) allows 255, but the token's status
// (TokenStatusInfo) allows only 3..64, and the sandbox never returns what the
// vendor's schema forbids.
const (
	baremetalNameMin = 3
	baremetalNameMax = 64
)

func (e *Emulator) createBaremetalToken(w http.ResponseWriter, r *http.Request, caller sim.User) {
	body, err := sim.ReadBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleBaremetal, "reading the request body: "+err.Error())
		return
	}
	var req tokenRequest
	if err := decodeObject(body, &req, baremetalTokenFields); err != nil {
		writeError(w, http.StatusBadRequest, moduleBaremetal, err.Error())
		return
	}
	problems := validateToken(&req, baremetalNameMin, baremetalNameMax)
	mins := int64(30) // spec default
	if req.ExpiryMins != nil {
		mins = *req.ExpiryMins
		// The spec sets no bounds; the sandbox refuses what cannot expire
		// sensibly (zero, negative, or beyond the int64 epoch).
		if mins < 1 || mins > math.MaxInt64/60000/2 {
			problems = append(problems, "expiry_time_since_creation_mins must be a positive number of minutes")
		}
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, moduleBaremetal, "invalid registration token: "+strings.Join(problems, "; "))
		return
	}
	e.env.Lock()
	defer e.env.Unlock()
	t := &baremetalToken{newTokenRecord(&req, caller, e.env.NowMs(), mins*60000, e.baseURL(r), "BAREMETAL"), mins}
	e.state.BaremetalTokens = append(e.state.BaremetalTokens, t)
	e.env.Changed()
	sim.WriteJSON(w, http.StatusCreated, t.out())
}

func (e *Emulator) findBaremetalToken(id string) (int, *baremetalToken) {
	for i, t := range e.state.BaremetalTokens {
		if t.ID == id {
			return i, t
		}
	}
	return -1, nil
}

func (e *Emulator) getBaremetalToken(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.env.Lock()
	defer e.env.Unlock()
	_, t := e.findBaremetalToken(r.PathValue("id"))
	if t == nil {
		writeError(w, http.StatusNotFound, moduleBaremetal, "registration token not found")
		return
	}
	sim.WriteJSON(w, http.StatusOK, t.out())
}

// deleteBaremetalToken is idempotent: 202 whether or not the token exists.
func (e *Emulator) deleteBaremetalToken(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.env.Lock()
	defer e.env.Unlock()
	if i, _ := e.findBaremetalToken(r.PathValue("id")); i >= 0 {
		e.state.BaremetalTokens = slices.Delete(e.state.BaremetalTokens, i, i+1)
		e.env.Changed()
	}
	writeNoBody(w, http.StatusAccepted)
}

func (e *Emulator) getBaremetalStatus(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.env.Lock()
	defer e.env.Unlock()
	_, t := e.findBaremetalToken(r.PathValue("id"))
	if t == nil {
		writeError(w, http.StatusNotFound, moduleBaremetal, "registration token not found")
		return
	}
	sim.WriteJSON(w, http.StatusOK, t.statusOut(e.baseURL(r), e.env.NowMs()))
}

func (e *Emulator) listBaremetalTokens(w http.ResponseWriter, r *http.Request, _ sim.User) {
	p, err := parseListParams(r.URL.Query(), baremetalTokenSort.names())
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleBaremetal, err.Error())
		return
	}
	e.env.Lock()
	var items []baremetalTokenOut
	for _, t := range e.state.BaremetalTokens {
		if p.nameMatches(t.DisplayName) {
			items = append(items, t.out())
		}
	}
	e.env.Unlock()
	baremetalTokenSort.writeList(w, p, items)
}

func (e *Emulator) listBaremetalStatuses(w http.ResponseWriter, r *http.Request, _ sim.User) {
	q := r.URL.Query()
	p, err := parseListParams(q, baremetalStatusSort.names())
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleBaremetal, err.Error())
		return
	}
	// The spec allows AVAILABLE and EXPIRED only.
	status := q.Get("tokens_status")
	if status != "" && status != statusAvailable && status != statusExpired {
		writeError(w, http.StatusBadRequest, moduleBaremetal, fmt.Sprintf("tokens_status %q must be AVAILABLE or EXPIRED", status))
		return
	}
	e.env.Lock()
	now := e.env.NowMs()
	base := e.baseURL(r)
	var items []tokenStatusOut
	for _, t := range e.state.BaremetalTokens {
		o := t.statusOut(base, now)
		if p.nameMatches(o.DisplayName) && (status == "" || o.Status == status) {
			items = append(items, o)
		}
	}
	e.env.Unlock()
	baremetalStatusSort.writeList(w, p, items)
}
