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

// ---- one generic path for both kinds ----

// record is the stored part both token kinds share.
func (t *tokenRecord) record() *tokenRecord { return t }

// registrationToken is a *sensorToken or a *baremetalToken.
type registrationToken interface{ record() *tokenRecord }

// tokenKind is what differs between the two kinds of registration token
// when they are created, read, deleted and listed: where the state keeps
// them, the module and noun of their errors, their create rules and the
// statuses of the answers. Every handler of either kind goes through it.
type tokenKind[T registrationToken] struct {
	module     string
	noun       string // "sensor registration token", "registration token"
	deviceType string // of the manifest
	tokens     func(*state) *[]T
	// fields are the only fields a create body may hold (nil: any).
	fields           []string
	nameMin, nameMax int
	// lifetime checks the kind's own create fields and returns the new
	// token's lifetime in milliseconds.
	lifetime func(req *tokenRequest) (int64, []string)
	newToken func(rec tokenRecord) T
	// created and deleted are the statuses of a create and a delete.
	created, deleted int
}

var (
	sensorTokens = tokenKind[*sensorToken]{
		module: moduleSensor, noun: "sensor registration token", deviceType: "SENSOR",
		tokens:  func(s *state) *[]*sensorToken { return &s.SensorTokens },
		nameMin: 1, nameMax: 255,
		lifetime: func(*tokenRequest) (int64, []string) { return tokenLifetimeMs, nil },
		newToken: func(rec tokenRecord) *sensorToken { return &sensorToken{rec} },
		created:  http.StatusOK, deleted: http.StatusOK,
	}
	baremetalTokens = tokenKind[*baremetalToken]{
		module: moduleBaremetal, noun: "registration token", deviceType: "BAREMETAL",
		tokens:  func(s *state) *[]*baremetalToken { return &s.BaremetalTokens },
		fields:  baremetalTokenFields,
		nameMin: baremetalNameMin, nameMax: baremetalNameMax,
		lifetime: baremetalLifetime,
		// The lifetime is whole minutes (baremetalLifetime).
		newToken: func(rec tokenRecord) *baremetalToken {
			return &baremetalToken{rec, (rec.Expiration - rec.CreateTime) / 60000}
		},
		created: http.StatusCreated, deleted: http.StatusAccepted,
	}
)

// tokenView is one of a kind's answers for a token (the token itself, or
// its status): the registration manifest names the base URL.
type tokenView[T registrationToken, O any] func(t T, baseURL string, nowMs int64) O

// handler is a vendor operation's handler (route.handle).
type handler = func(w http.ResponseWriter, r *http.Request, caller sim.User)

// createToken is a kind's create: it validates the body (every problem at
// once), stores the new token and answers with its view.
func createToken[T registrationToken, O any](e *Emulator, k tokenKind[T], view tokenView[T, O]) handler {
	return func(w http.ResponseWriter, r *http.Request, caller sim.User) {
		body, err := sim.ReadBody(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, k.module, "reading the request body: "+err.Error())
			return
		}
		var req tokenRequest
		if err := decodeObject(body, &req, k.fields); err != nil {
			writeError(w, http.StatusBadRequest, k.module, err.Error())
			return
		}
		problems := validateToken(&req, k.nameMin, k.nameMax)
		lifetime, more := k.lifetime(&req)
		if problems = append(problems, more...); len(problems) > 0 {
			writeError(w, http.StatusBadRequest, k.module, "invalid "+k.noun+": "+strings.Join(problems, "; "))
			return
		}
		e.env.Lock()
		defer e.env.Unlock()
		now := e.env.NowMs()
		t := k.newToken(newTokenRecord(&req, caller, now, lifetime, e.baseURL(r), k.deviceType))
		list := k.tokens(e.state)
		*list = append(*list, t)
		e.env.Changed()
		sim.WriteJSON(w, k.created, view(t, e.baseURL(r), now))
	}
}

// find returns the token with id and its index (-1 when none has).
func (k tokenKind[T]) find(e *Emulator, id string) (int, T) {
	for i, t := range *k.tokens(e.state) {
		if t.record().ID == id {
			return i, t
		}
	}
	var none T
	return -1, none
}

// getToken answers with the view of the path's token, or 404.
func getToken[T registrationToken, O any](e *Emulator, k tokenKind[T], view tokenView[T, O]) handler {
	return func(w http.ResponseWriter, r *http.Request, _ sim.User) {
		e.env.Lock()
		defer e.env.Unlock()
		i, t := k.find(e, r.PathValue("id"))
		if i < 0 {
			writeError(w, http.StatusNotFound, k.module, k.noun+" not found")
			return
		}
		sim.WriteJSON(w, http.StatusOK, view(t, e.baseURL(r), e.env.NowMs()))
	}
}

// deleteToken is idempotent: the same answer whether or not the token
// exists.
func deleteToken[T registrationToken](e *Emulator, k tokenKind[T]) handler {
	return func(w http.ResponseWriter, r *http.Request, _ sim.User) {
		e.env.Lock()
		defer e.env.Unlock()
		if i, _ := k.find(e, r.PathValue("id")); i >= 0 {
			list := k.tokens(e.state)
			*list = slices.Delete(*list, i, i+1)
			e.env.Changed()
		}
		writeNoBody(w, k.deleted)
	}
}

// statusFilter is a token list's status query parameter: its name, the
// values it takes, and what a wrong value is told.
type statusFilter struct {
	param  string
	values []string
	rule   string
}

// listTokens answers one of the token lists: the tokens' views, sorted and
// paged as sort and the query say, filtered on display_name and, with a
// status filter (sf not nil), on the status.
func listTokens[T registrationToken, O any](e *Emulator, k tokenKind[T], sort sortFields[O], view tokenView[T, O], sf *statusFilter) handler {
	return func(w http.ResponseWriter, r *http.Request, _ sim.User) {
		q := r.URL.Query()
		p, err := parseListParams(q, sort.names())
		if err != nil {
			writeError(w, http.StatusBadRequest, k.module, err.Error())
			return
		}
		status := ""
		if sf != nil {
			if status = q.Get(sf.param); status != "" && !slices.Contains(sf.values, status) {
				writeError(w, http.StatusBadRequest, k.module, fmt.Sprintf("%s %q must be %s", sf.param, status, sf.rule))
				return
			}
		}
		e.env.Lock()
		now := e.env.NowMs()
		base := e.baseURL(r)
		var items []O
		for _, t := range *k.tokens(e.state) {
			o, rec := view(t, base, now), t.record()
			if p.nameMatches(rec.DisplayName) && (status == "" || rec.status(now) == status) {
				items = append(items, o)
			}
		}
		e.env.Unlock()
		sort.writeList(w, p, items)
	}
}

// tokenOut is the part of a token's answer both kinds share.
type tokenOut struct {
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
}

func (t *tokenRecord) out(deviceType string) tokenOut {
	return tokenOut{
		CreateTime:           t.CreateTime,
		CreateUser:           t.CreateUser,
		LastModifiedTime:     t.CreateTime,
		LastModifiedUser:     t.CreateUser,
		ID:                   t.ID,
		DisplayName:          t.DisplayName,
		Description:          t.Description,
		SiteIDs:              t.SiteIDs,
		AllowedInstanceCount: t.AllowedInstanceCount,
		DeviceType:           deviceType,
	}
}

// ---- sensor registration tokens ----

// sensorTokenOut is SensorRegistrationTokenInfo as returned. The passphrase
// is writeOnly, so it is omitted (the vendor's examples show "", which
// breaks the vendor's own schema).
type sensorTokenOut struct {
	tokenOut
	Status               string `json:"status"`
	RegistrationManifest string `json:"registration_manifest"`
	Expiration           int64  `json:"expiration"`
	UsageCount           int64  `json:"usage_count"`
	NumberAvailable      int64  `json:"number_available"`
}

func (t *sensorToken) out(baseURL string, nowMs int64) sensorTokenOut {
	return sensorTokenOut{
		tokenOut:             t.tokenRecord.out("SENSOR"),
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

// ---- baremetal registration tokens ----

// baremetalTokenOut is RegistrationToken as returned (passphrase omitted:
// writeOnly). Status, expiry and manifest are only in TokenStatusInfo.
type baremetalTokenOut struct {
	tokenOut
	ExpiryMins int64 `json:"expiry_time_since_creation_mins"`
}

// out is the token's view (it has no manifest or status: see statusOut).
func (t *baremetalToken) out(string, int64) baremetalTokenOut {
	return baremetalTokenOut{tokenOut: t.tokenRecord.out("BAREMETAL"), ExpiryMins: t.ExpiryMins}
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

// baremetalLifetime is expiry_time_since_creation_mins (default 30, the
// spec's) in milliseconds.
func baremetalLifetime(req *tokenRequest) (int64, []string) {
	mins := int64(30) // spec default
	if req.ExpiryMins != nil {
		mins = *req.ExpiryMins
		// The spec sets no bounds; the sandbox refuses what cannot expire
		// sensibly (zero, negative, or beyond the int64 epoch).
		if mins < 1 || mins > math.MaxInt64/60000/2 {
			return 0, []string{"expiry_time_since_creation_mins must be a positive number of minutes"}
		}
	}
	return mins * 60000, nil
}

// The status filters of the token lists: the spec's token_status takes the
// three statuses; its tokens_status (baremetal statuses) AVAILABLE and
// EXPIRED only.
var (
	sensorTokenStatus     = &statusFilter{"token_status", []string{statusAvailable, statusExpired, statusUsed}, "one of AVAILABLE, EXPIRED, USED"}
	baremetalTokensStatus = &statusFilter{"tokens_status", []string{statusAvailable, statusExpired}, "AVAILABLE or EXPIRED"}
)
