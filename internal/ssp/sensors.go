package ssp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// SensorIDPattern is the spec's pattern for the sensor_ids of the
// feature-config calls (and Sensor.token_id): a UUID with version nibble 1-5
// and variant 8, 9, a or b. It is compiled on first use, not at start-up.
var SensorIDPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12})$`)
})

// MaxFeatureBatch is the spec's maxItems of sensor_ids in one feature-config
// call; larger sets are sent in batches.
const MaxFeatureBatch = 25

// SensorListSortFields are what ListSensors may sort by. The operation names
// no fields, but the shared sort_by parameter documents the rule: "Only
// top-level parameters in the returned list of records will be supported".
// These are the scalar top-level properties of the vendor's Sensor schema
// (checked against the spec by TestSensorListSortFieldsMatchSpec), so a
// field that cannot be one is refused before anything is sent; which of them
// a given server sorts by is still the server's to say.
var SensorListSortFields = []string{
	"_create_user", "_create_time", "_last_modified_user", "_last_modified_time", "_revision",
	"_resource_type", "_system_owned", "id", "display_name", "description", "token_id",
	"certificate", "pem_encoded", "algorithm", "key_size",
}

// Sorting of the details list, as its operation description documents it.
var SensorDetailSortFields = []string{"display_name", "registration_status", "health", "flows_enabled", "mps_enabled", "ids_enabled", "pcap_enabled"}

// Documented values of the details filters. The registration_status filter
// doc lists registered, in_progress and failed. The health filter doc lists
// ok, disconnected and degraded, but SensorStatus.health has six values; all
// six are accepted (lower case, as the filter doc writes them), since a
// filter on DOWN is as meaningful as one on DEGRADED.
var (
	RegistrationStatusValues = []string{"registered", "in_progress", "failed"}
	HealthValues             = []string{"ok", "disconnected", "degraded", "down", "disabled", "not_available"}
)

// ListSensors pages through GET /sensors/appliances (Sensor objects).
func (s *Client) ListSensors(ctx context.Context, q ListQuery, p client.Pager, fn func(json.RawMessage) error) (client.PageResult, error) {
	return s.list(ctx, "list sensors", "/sensors/appliances", q, p, fn)
}

// DetailsFilter holds the filters of GET /sensors/appliances/details; zero
// values send nothing.
type DetailsFilter struct {
	RegistrationStatus string // registration_status
	Health             string // health
	FlowsEnabled       *bool  // flows_enabled
	MPSEnabled         *bool  // mps_enabled
	IDSEnabled         *bool  // ids_enabled
	PCAPEnabled        *bool  // pcap_enabled
	// SensorIDs repeats sensor_ids (form style, exploded).
	SensorIDs []string
	// SoftwareVersions repeats software_versions; entries are ORed.
	SoftwareVersions []string
}

func (f DetailsFilter) apply(q *ListQuery) {
	if q.Extra == nil {
		q.Extra = map[string][]string{}
	}
	set := func(k, v string) {
		if v != "" {
			q.Extra.Set(k, v)
		}
	}
	set("registration_status", f.RegistrationStatus)
	set("health", f.Health)
	for _, b := range []struct {
		k string
		v *bool
	}{{"flows_enabled", f.FlowsEnabled}, {"mps_enabled", f.MPSEnabled}, {"ids_enabled", f.IDSEnabled}, {"pcap_enabled", f.PCAPEnabled}} {
		if b.v != nil {
			q.Extra.Set(b.k, strconv.FormatBool(*b.v))
		}
	}
	for _, id := range f.SensorIDs {
		q.Extra.Add("sensor_ids", id)
	}
	for _, v := range f.SoftwareVersions {
		q.Extra.Add("software_versions", v)
	}
}

// ListSensorDetails pages through GET /sensors/appliances/details
// (SensorDetail objects).
func (s *Client) ListSensorDetails(ctx context.Context, q ListQuery, f DetailsFilter, p client.Pager, fn func(json.RawMessage) error) (client.PageResult, error) {
	f.apply(&q)
	return s.list(ctx, "list sensor details", "/sensors/appliances/details", q, p, fn)
}

// CheckVersionFilter applies the spec's syntax of one software_versions
// entry and returns "" when it is valid, else the rule it breaks:
//   - a wildcard: numeric parts then '*' as the last part ('5.*', '5.2.*');
//   - a comparison: '<' or '>' before a numeric version ('<5.2', '>3.1'),
//     which must not contain '*';
//   - an exact dotted version ('5.2.0.0.0.25398843').
//
// Targets have 2 to 6 numeric parts ("at least major.minor"); the spec's own
// example '5.*' has one part before the wildcard, so a wildcard needs one.
func CheckVersionFilter(v string) string {
	s := strings.TrimSpace(v)
	cmp := s != "" && (s[0] == '<' || s[0] == '>')
	if cmp {
		s = strings.TrimSpace(s[1:])
		if strings.Contains(s, "*") {
			return "a comparison ('<' or '>') must not contain '*'"
		}
	}
	parts := strings.Split(s, ".")
	if !cmp && parts[len(parts)-1] == "*" {
		parts = parts[:len(parts)-1]
		if len(parts) < 1 || len(parts) > 5 {
			return "a wildcard needs 1 to 5 numeric parts before '*', e.g. 5.* or 5.2.*"
		}
	} else if len(parts) < 2 || len(parts) > 6 {
		return "needs 2 to 6 dotted numeric parts (at least major.minor), a wildcard such as 5.2.*, or a comparison such as <5.2"
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return fmt.Sprintf("part %q is not a number ('*' may only end a wildcard)", p)
		}
	}
	return ""
}

// GetSensor fetches one Sensor.
func (s *Client) GetSensor(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get sensor "+id, "/sensors/appliances/"+pathID(id))
}

// SensorChange is what `sensor update` changes: the vendor lets only
// display_name and description change. Nil fields keep the current value.
type SensorChange struct {
	DisplayName *string
	Description *string
	// Revision, when set, is sent as _revision instead of the revision just
	// read, so the update fails (412) if the sensor moved on since the
	// caller read that revision.
	Revision *int64
}

// Validate applies Resource's limits: display_name 1..255 (Sensor requires
// it), description up to 1024.
func (ch SensorChange) Validate() []exit.Problem {
	var ps []exit.Problem
	if ch.DisplayName != nil {
		switch n := utf8.RuneCountInString(*ch.DisplayName); {
		case strings.TrimSpace(*ch.DisplayName) == "":
			ps = append(ps, exit.Problem{Field: "display_name", Rule: "must not be empty (Sensor requires it)"})
		case n > MaxDisplayName:
			ps = append(ps, exit.Problem{Field: "display_name", Rule: fmt.Sprintf("at most %d characters (it has %d)", MaxDisplayName, n)})
		}
	}
	if ch.Description != nil {
		if n := utf8.RuneCountInString(*ch.Description); n > MaxDescription {
			ps = append(ps, exit.Problem{Field: "description", Rule: fmt.Sprintf("at most %d characters (it has %d)", MaxDescription, n)})
		}
	}
	return ps
}

// sensorUpdate is the PUT body: the Sensor schema's required id and
// display_name, the description, and the _revision that guards the update.
// Read-only fields (_create_user, ...) are not sent back.
type sensorUpdate struct {
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Description string `json:"description,omitempty"`
	Revision    int64  `json:"_revision"`
}

// UpdateSensor is a read-modify-write of PUT /sensors/appliances/{id}: it
// GETs the sensor, applies ch, and PUTs it with the _revision read (or
// ch.Revision). The description is carried over when unchanged, since a PUT
// replaces the resource. A stale revision is the server's 412; a missing one
// its 428.
func (s *Client) UpdateSensor(ctx context.Context, id string, ch SensorChange) (json.RawMessage, error) {
	raw, err := s.GetSensor(ctx, id)
	if err != nil {
		return nil, err
	}
	var cur struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		Description string `json:"description"`
		Revision    *int64 `json:"_revision"`
	}
	if err := json.Unmarshal(raw, &cur); err != nil {
		return nil, badResponse("get sensor " + id)
	}
	body := sensorUpdate{ID: cur.ID, DisplayName: cur.DisplayName, Description: cur.Description}
	if body.ID == "" {
		body.ID = id
	}
	if cur.Revision != nil {
		body.Revision = *cur.Revision
	}
	if ch.Revision != nil {
		body.Revision = *ch.Revision
	}
	if ch.DisplayName != nil {
		body.DisplayName = *ch.DisplayName
	}
	if ch.Description != nil {
		body.Description = *ch.Description
	}
	const opPrefix = "update sensor "
	resp, err := s.c.Do(ctx, client.Call{Operation: opPrefix + id, Method: http.MethodPut, Path: "/sensors/appliances/" + pathID(id), Body: body})
	if err != nil {
		return nil, err
	}
	if !json.Valid(resp.Body) {
		return nil, badResponse(opPrefix + id)
	}
	return resp.Body, nil
}

// DeleteSensor de-registers a sensor (200; idempotent). The appliance VM is
// not removed: the vendor says it "must be manually deleted from the
// infrastructure". gone reports a 404 (already de-registered).
func (s *Client) DeleteSensor(ctx context.Context, id string) (gone bool, err error) {
	return s.delete(ctx, "delete sensor "+id, "/sensors/appliances/"+pathID(id))
}

// GetSensorStatus fetches SensorStatus: registration and component health.
func (s *Client) GetSensorStatus(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get sensor status "+id, "/sensors/appliances/"+pathID(id)+"/status")
}

// GetSensorSignatures fetches SensorIdsSignatureBundleInfo: the IDS
// signature bundle the sensor runs.
func (s *Client) GetSensorSignatures(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get sensor IDS signature bundle "+id, "/sensors/appliances/"+pathID(id)+"/ids-signature-bundle")
}

// GetSensorFeatures fetches SensorFeatureConfig.
func (s *Client) GetSensorFeatures(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get sensor feature config "+id, "/sensors/appliances/"+pathID(id)+"/feature-config")
}

// Feature is one of the three bulk feature-config operations.
type Feature struct {
	// Name is the CLI's name: ids, flows or mps.
	Name string
	// Path is the operation's path.
	Path string
	// Actions are the documented values of the required action parameter.
	Actions []string
	// Operation names the vendor operation in errors.
	Operation string
}

// The three feature-config operations, in the order `sensor features set`
// sends them.
var (
	FeatureIDS   = Feature{"ids", "/sensors/feature-config/ids-events", []string{"enable_with_pcap", "enable_without_pcap", "disable"}, "update IDS feature config"}
	FeatureFlows = Feature{"flows", "/sensors/feature-config/flow-events", []string{"enable", "disable"}, "update flow feature config"}
	FeatureMPS   = Feature{"mps", "/sensors/feature-config/malware-prevention-events", []string{"enable", "disable"}, "update MPS feature config"}
)

// FeatureResult is the body of the three feature-config responses
// (Sensor*FeatureConfigResponse): which sensors were updated and which failed.
// The vendor says each call updates "all or none" of the sensors, yet its
// response lists both; tokenctl reports what the lists say.
type FeatureResult struct {
	Enabled     *bool    `json:"enabled,omitempty"`
	PCAPEnabled *bool    `json:"pcap_enabled,omitempty"`
	Successful  []string `json:"successful_sensor_ids,omitempty"`
	Failed      []string `json:"failed_sensor_ids,omitempty"`
	// Raw is the vendor's body as received.
	Raw json.RawMessage `json:"-"`
}

// SetFeature sends one feature-config call for at most MaxFeatureBatch ids.
// Setting a feature to a given state can be repeated safely, so the call is
// retried like a read.
func (s *Client) SetFeature(ctx context.Context, f Feature, action string, ids []string) (*FeatureResult, error) {
	op := fmt.Sprintf("%s (action=%s, %d sensors)", f.Operation, action, len(ids))
	resp, err := s.c.Do(ctx, client.Call{
		Operation: op,
		Method:    http.MethodPost,
		Path:      f.Path,
		Query:     map[string][]string{"action": {action}},
		Body: struct {
			SensorIDs []string `json:"sensor_ids"`
		}{ids},
		Idempotent: client.True(),
	})
	if err != nil {
		return nil, err
	}
	var res FeatureResult
	if err := json.Unmarshal(resp.Body, &res); err != nil {
		return nil, badResponse(op)
	}
	res.Raw = resp.Body
	return &res, nil
}

// Batches splits ids into consecutive groups of at most n.
func Batches(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// MPSFileTypes are the seven switches of SensorGlobalConfigMps, all required.
var MPSFileTypes = []string{"document_file_type", "executable_file_type", "media_file_type", "archive_file_type", "data_file_type", "script_file_type", "other_file_type"}

// GetMPSGlobal fetches SensorGlobalConfigMps: which file categories sensors
// extract for malware analysis.
func (s *Client) GetMPSGlobal(ctx context.Context) (json.RawMessage, error) {
	return s.get(ctx, "get sensor MPS global config", "/sensors/mps-global-config")
}

// PutMPSGlobal replaces SensorGlobalConfigMps; cfg must hold all seven
// MPSFileTypes.
func (s *Client) PutMPSGlobal(ctx context.Context, cfg map[string]bool) (json.RawMessage, error) {
	const op = "update sensor MPS global config"
	for _, k := range MPSFileTypes {
		if _, ok := cfg[k]; !ok {
			return nil, fmt.Errorf("%s: %s missing (the vendor requires all seven file types)", op, k)
		}
	}
	resp, err := s.c.Do(ctx, client.Call{Operation: op, Method: http.MethodPut, Path: "/sensors/mps-global-config", Body: cfg})
	if err != nil {
		return nil, err
	}
	if !json.Valid(resp.Body) {
		return nil, badResponse(op)
	}
	return resp.Body, nil
}

// UpdateMPSGlobal is a read-modify-write of the MPS global config: it GETs
// the seven switches, sets those in change and PUTs all seven. The schema
// has no _revision, so a concurrent change between the two calls is lost;
// the window is one round trip.
func (s *Client) UpdateMPSGlobal(ctx context.Context, change map[string]bool) (json.RawMessage, error) {
	raw, err := s.GetMPSGlobal(ctx)
	if err != nil {
		return nil, err
	}
	var cur map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cur); err != nil {
		return nil, badResponse("get sensor MPS global config")
	}
	cfg := make(map[string]bool, len(MPSFileTypes))
	for _, k := range MPSFileTypes {
		if v, ok := change[k]; ok {
			cfg[k] = v
			continue
		}
		var b bool
		if err := json.Unmarshal(cur[k], &b); err != nil {
			return nil, &client.APIError{Operation: "get sensor MPS global config", Status: 200, Code: 1,
				Message: "unexpected response: " + k + " is not a boolean"}
		}
		cfg[k] = b
	}
	return s.PutMPSGlobal(ctx, cfg)
}

// SensorVersions calls GET /sensors/version-summary and passes each
// {software_version, count} item to fn. The operation takes no paging
// parameters: the summary is one response.
func (s *Client) SensorVersions(ctx context.Context, fn func(json.RawMessage) error) error {
	const op = "get sensor version summary"
	resp, err := s.c.Do(ctx, client.Call{Operation: op, Method: http.MethodGet, Path: "/sensors/version-summary"})
	if err != nil {
		return err
	}
	_, err = client.EachItem(resp.Body, "results", fn)
	return client.WithOperation(op, err)
}
