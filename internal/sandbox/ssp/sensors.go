package ssp

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// ---- output shapes (the spec's schemas) ----

// sensorOut is Sensor.
type sensorOut struct {
	CreateTime       int64  `json:"_create_time"`
	CreateUser       string `json:"_create_user"`
	LastModifiedTime int64  `json:"_last_modified_time"`
	LastModifiedUser string `json:"_last_modified_user,omitempty"`
	Revision         int64  `json:"_revision"`
	ID               string `json:"id"`
	DisplayName      string `json:"display_name"`
	Description      string `json:"description,omitempty"`
	TokenID          string `json:"token_id,omitempty"`
	Certificate      string `json:"certificate"`
	PEMEncoded       string `json:"pem_encoded"`
	Algorithm        string `json:"algorithm"`
	KeySize          int    `json:"key_size"`
}

// applianceOut is SensorApplianceInfo.
type applianceOut struct {
	CPUSockets       int    `json:"cpu_sockets"`
	CPUCores         int    `json:"cpu_cores"`
	Memory           int    `json:"memory"`
	SoftwareVersion  string `json:"software_version"`
	LastModifiedTime int64  `json:"_last_modified_time"`
}

// networkingOut is SensorApplianceNetworkingInfo.
type networkingOut struct {
	HostName     string   `json:"host_name"`
	NICs         []nic    `json:"nics"`
	DNS          []string `json:"dns"`
	NTP          []string `json:"ntp"`
	HomeNetworks []string `json:"home_networks"`
}

// bundleOut is SensorIdsSignatureBundleInfo.
type bundleOut struct {
	BundleID                  string `json:"bundle_id"`
	IDSSignatureBundleVersion string `json:"ids_signature_bundle_version"`
	NumberOfSignatures        int    `json:"number_of_signatures"`
	BundleCreationTime        int64  `json:"bundle_creation_time,omitempty"`
	LastModifiedTime          int64  `json:"_last_modified_time"`
}

// featuresOut is SensorFeatureConfig.
type featuresOut struct {
	IDSEnabled   bool      `json:"ids_enabled"`
	IDSConfig    idsConfig `json:"ids_config"`
	FlowsEnabled bool      `json:"flows_enabled"`
	MPSEnabled   bool      `json:"mps_enabled"`
	MPSConfig    mpsConfig `json:"mps_config"`
}

type idsConfig struct {
	PCAPEnabled bool `json:"pcap_enabled"`
}

// statusOut is SensorStatus.
type statusOut struct {
	RegistrationStatus string `json:"registration_status"`
	Health             string `json:"health"`
	SniffingHealth     string `json:"sniffing_health"`
	UploadingHealth    string `json:"uploading_health"`
	RapidHealth        string `json:"rapid_health"`
	Uptime             int64  `json:"uptime"`
	LastModifiedTime   int64  `json:"_last_modified_time"`
}

// detailOut is SensorDetail.
type detailOut struct {
	SensorInfo    sensorOut     `json:"sensor_info"`
	ApplianceInfo applianceOut  `json:"appliance_info"`
	Networking    networkingOut `json:"appliance_networking_info"`
	Bundle        bundleOut     `json:"appliance_ids_signature_info"`
	FeatureConfig featuresOut   `json:"sensor_feature_config"`
	SensorStatus  statusOut     `json:"sensor_status"`
}

func (s *sensor) out() sensorOut {
	return sensorOut{
		CreateTime:       s.CreateTime,
		CreateUser:       s.CreateUser,
		LastModifiedTime: s.LastModifiedTime,
		LastModifiedUser: s.LastModifiedUser,
		Revision:         s.Revision,
		ID:               s.ID,
		DisplayName:      s.DisplayName,
		Description:      s.Description,
		TokenID:          s.TokenID,
		Certificate:      sensorCertificate,
		PEMEncoded:       sensorPublicKey,
		Algorithm:        "RSA",
		KeySize:          3072,
	}
}

func (s *sensor) bundle() bundleOut {
	return bundleOut{
		BundleID:                  s.BundleID,
		IDSSignatureBundleVersion: s.BundleVersion,
		NumberOfSignatures:        s.Signatures,
		BundleCreationTime:        s.BundleCreated,
		LastModifiedTime:          s.BundleModified,
	}
}

// features shows a sensor's feature configuration; its mps_config is the
// global MPS configuration, which says what every sensor extracts (the
// vendor has no per-sensor call to change it).
func (s *sensor) features(mps mpsConfig) featuresOut {
	return featuresOut{
		IDSEnabled:   s.IDSEnabled,
		IDSConfig:    idsConfig{PCAPEnabled: s.PCAPEnabled},
		FlowsEnabled: s.FlowsEnabled,
		MPSEnabled:   s.MPSEnabled,
		MPSConfig:    mps,
	}
}

// status reports health now: uptime counts from the sensor's boot, and a
// reporting sensor's status was refreshed at the last full minute.
func (s *sensor) status(nowMs int64) statusOut {
	st := statusOut{
		RegistrationStatus: s.RegistrationStatus,
		Health:             s.Health,
		SniffingHealth:     s.SniffingHealth,
		UploadingHealth:    s.UploadingHealth,
		RapidHealth:        s.RapidHealth,
		Uptime:             max(0, nowMs-s.BootTime),
		LastModifiedTime:   s.LastModifiedTime,
	}
	if !s.MPSEnabled && st.RapidHealth != "NOT_AVAILABLE" {
		st.RapidHealth = "DISABLED"
	}
	if s.RegistrationStatus == "REGISTERED" && s.Health != "DISCONNECTED" {
		st.LastModifiedTime = max(s.LastModifiedTime, nowMs-nowMs%60000)
	}
	return st
}

func (s *sensor) detail(nowMs int64, mps mpsConfig) detailOut {
	return detailOut{
		SensorInfo: s.out(),
		ApplianceInfo: applianceOut{
			CPUSockets:       s.CPUSockets,
			CPUCores:         s.CPUCores,
			Memory:           s.MemoryGB,
			SoftwareVersion:  s.SoftwareVersion,
			LastModifiedTime: s.CreateTime,
		},
		Networking: networkingOut{
			HostName:     s.HostName,
			NICs:         s.NICs,
			DNS:          s.DNS,
			NTP:          s.NTP,
			HomeNetworks: s.HomeNetworks,
		},
		Bundle:        s.bundle(),
		FeatureConfig: s.features(mps),
		SensorStatus:  s.status(nowMs),
	}
}

// ---- the fleet: seeded and registered sensors ----

// fleet is a snapshot of all sensors for one list request, taken under the
// lock and read after it, so a long page is encoded without holding the
// lock. Seeded sensors are generated on demand from the seeder.
type fleet struct {
	seed       *seeder
	overlay    map[int]overlay // copies
	deleted    []int           // sorted seeded indexes
	registered []sensor        // copies, registration order
	mps        mpsConfig
	now        int64
}

// snapshot copies what a list needs (lock held).
func (e *Emulator) snapshot() *fleet {
	f := &fleet{
		seed:       e.seed,
		overlay:    make(map[int]overlay, len(e.overlayIdx)),
		deleted:    slices.Clone(e.deletedIdx),
		registered: make([]sensor, len(e.state.Sensors)),
		mps:        e.state.MPSGlobal,
		now:        e.env.NowMs(),
	}
	for i, o := range e.overlayIdx {
		f.overlay[i] = *o
	}
	step := e.lcmStepMs()
	for i, s := range e.state.Sensors {
		f.registered[i] = *s
		f.registered[i].progress(f.now, step)
	}
	return f
}

// ref names one sensor of a fleet: >= 0 a seeded index, < 0 registered
// sensor -(ref+1).
type ref int

func (f *fleet) live() int { return f.seed.n - len(f.deleted) }

func (f *fleet) total() int { return f.live() + len(f.registered) }

// at returns the ref at natural position p (seeded by index, then
// registered), skipping deleted seeded sensors.
func (f *fleet) at(p int) ref {
	if p >= f.live() {
		return ref(-(p - f.live()) - 1)
	}
	i := p
	for _, d := range f.deleted {
		if d > i {
			break
		}
		i++
	}
	return ref(i)
}

// all lists every live ref in natural order.
func (f *fleet) all() []ref {
	refs := make([]ref, 0, f.total())
	d := 0
	for i := 0; i < f.seed.n; i++ {
		if d < len(f.deleted) && f.deleted[d] == i {
			d++
			continue
		}
		refs = append(refs, ref(i))
	}
	for j := range f.registered {
		refs = append(refs, ref(-j-1))
	}
	return refs
}

// sensor builds the full record of r.
func (f *fleet) sensor(r ref) sensor {
	if r < 0 {
		return f.registered[-int(r)-1]
	}
	s := f.seed.sensor(int(r))
	if o, ok := f.overlay[int(r)]; ok {
		o.apply(&s)
	}
	return s
}

// facts are what filters and sorts look at, cheap to get for seeded sensors.
type facts struct {
	id, name, version, registration, health string
	ids, pcap, flows, mps                   bool
}

// facts of r; the name and id are filled only when asked for (they cost a
// string each).
func (f *fleet) facts(r ref, withName, withID bool) facts {
	if r < 0 {
		s := &f.registered[-int(r)-1]
		return facts{s.ID, s.DisplayName, s.SoftwareVersion, s.RegistrationStatus, s.Health, s.IDSEnabled, s.PCAPEnabled, s.FlowsEnabled, s.MPSEnabled}
	}
	i := int(r)
	p := f.seed.profile(i)
	x := facts{version: softwareBuilds[p.build].version, registration: p.registration, health: p.health,
		ids: p.ids, pcap: p.pcap, flows: p.flows, mps: p.mps}
	o, hasOverlay := f.overlay[i]
	if withName {
		if hasOverlay && o.DisplayName != nil {
			x.name = *o.DisplayName
		} else {
			x.name = f.seed.name(i, p)
		}
	}
	if withID {
		x.id = f.seed.id(i)
	}
	if hasOverlay {
		if o.IDSEnabled != nil {
			x.ids = *o.IDSEnabled
		}
		if o.PCAPEnabled != nil {
			x.pcap = *o.PCAPEnabled
		}
		if o.FlowsEnabled != nil {
			x.flows = *o.FlowsEnabled
		}
		if o.MPSEnabled != nil {
			x.mps = *o.MPSEnabled
		}
	}
	return x
}

// sensorFilter holds the list filters; zero values filter nothing.
type sensorFilter struct {
	names        []string
	registration string
	health       string
	flows, mps   *bool
	ids, pcap    *bool
	sensorIDs    map[string]bool // lower-case
	versions     []versionPattern
}

func (sf *sensorFilter) active() bool {
	return len(sf.names) > 0 || sf.registration != "" || sf.health != "" || sf.flows != nil || sf.mps != nil ||
		sf.ids != nil || sf.pcap != nil || sf.sensorIDs != nil || sf.versions != nil
}

func (sf *sensorFilter) match(x facts) bool {
	if len(sf.names) > 0 && !slices.Contains(sf.names, x.name) {
		return false
	}
	if sf.registration != "" && x.registration != sf.registration {
		return false
	}
	if sf.health != "" && x.health != sf.health {
		return false
	}
	for _, c := range []struct {
		want *bool
		have bool
	}{{sf.flows, x.flows}, {sf.mps, x.mps}, {sf.ids, x.ids}, {sf.pcap, x.pcap}} {
		if c.want != nil && *c.want != c.have {
			return false
		}
	}
	if sf.sensorIDs != nil && !sf.sensorIDs[x.id] {
		return false
	}
	if sf.versions != nil && !matchesAny(sf.versions, x.version) {
		return false
	}
	return true
}

// Documented filter values. The spec's docs give lowercase values
// ('registered', 'ok', ...) while SensorStatus uses uppercase enums; the
// sandbox matches them case-insensitively. For health it accepts every
// SensorStatus health value, not only the three the filter doc lists.
var (
	registrationValues = []string{"REGISTERED", "IN_PROGRESS", "FAILED"}
	healthValues       = []string{"OK", "DOWN", "DEGRADED", "DISABLED", "DISCONNECTED", "NOT_AVAILABLE"}
)

// parseSensorFilter reads the details filters (details=true) or only
// display_name (ListSensors).
func parseSensorFilter(q url.Values, p listParams, details bool) (sensorFilter, error) {
	sf := sensorFilter{names: p.displayNames}
	if !details {
		return sf, nil
	}
	if v := q.Get("registration_status"); v != "" {
		up := strings.ToUpper(v)
		if !slices.Contains(registrationValues, up) {
			return sf, fmt.Errorf("registration_status %q must be one of registered, in_progress, failed", v)
		}
		sf.registration = up
	}
	if v := q.Get("health"); v != "" {
		up := strings.ToUpper(v)
		if !slices.Contains(healthValues, up) {
			return sf, fmt.Errorf("health %q must be one of ok, disconnected, degraded (or down, disabled, not_available)", v)
		}
		sf.health = up
	}
	for _, b := range []struct {
		name string
		dst  **bool
	}{{"flows_enabled", &sf.flows}, {"mps_enabled", &sf.mps}, {"ids_enabled", &sf.ids}, {"pcap_enabled", &sf.pcap}} {
		if v := q.Get(b.name); v != "" {
			x, err := parseBool(v)
			if err != nil {
				return sf, fmt.Errorf("%s %q must be true or false", b.name, v)
			}
			*b.dst = &x
		}
	}
	if ids := q["sensor_ids"]; len(ids) > 0 {
		sf.sensorIDs = map[string]bool{}
		for _, id := range ids {
			sf.sensorIDs[strings.ToLower(id)] = true
		}
	}
	for _, v := range q["software_versions"] {
		vp, err := parseVersionPattern(v)
		if err != nil {
			return sf, err
		}
		sf.versions = append(sf.versions, vp)
	}
	return sf, nil
}

// Sortable fields. The vendor documents the details list's; for ListSensors
// it documents none, so the sandbox takes the SortBy parameter at its word
// ("top-level parameters in the returned list of records") and offers the
// scalar top-level Sensor fields.
var (
	sensorSortable = []string{"display_name", "id", "description", "token_id", "_create_time", "_last_modified_time", "_revision"}
	detailSortable = []string{"display_name", "registration_status", "health", "flows_enabled", "mps_enabled", "ids_enabled", "pcap_enabled"}
)

// sortKey is the key of one ref; facts-based keys avoid building sensors.
func (f *fleet) sortKey(r ref, field string) any {
	switch field {
	case "display_name", "registration_status", "health", "flows_enabled", "mps_enabled", "ids_enabled", "pcap_enabled":
		x := f.facts(r, field == "display_name", false)
		switch field {
		case "display_name":
			return x.name
		case "registration_status":
			return x.registration
		case "health":
			return x.health
		case "flows_enabled":
			return x.flows
		case "mps_enabled":
			return x.mps
		case "ids_enabled":
			return x.ids
		default:
			return x.pcap
		}
	}
	if field == "id" && r >= 0 {
		return f.seed.id(int(r))
	}
	s := f.sensor(r)
	switch field {
	case "id":
		return s.ID
	case "description":
		return s.Description
	case "token_id":
		return s.TokenID
	case "_create_time":
		return s.CreateTime
	case "_last_modified_time":
		return s.LastModifiedTime
	default:
		return s.Revision
	}
}

// selectPage returns the page's refs and the total, touching as little as
// it can: no filter and no sort generates nothing but the page.
func (f *fleet) selectPage(p listParams, sf *sensorFilter) ([]ref, int) {
	if !sf.active() && p.sortBy == "" {
		total := f.total()
		start, end := p.window(total)
		refs := make([]ref, 0, end-start)
		for pos := start; pos < end; pos++ {
			refs = append(refs, f.at(pos))
		}
		return refs, total
	}
	refs := f.candidates(sf)
	if sf.active() {
		kept := refs[:0]
		for _, r := range refs {
			if sf.match(f.facts(r, len(sf.names) > 0, sf.sensorIDs != nil)) {
				kept = append(kept, r)
			}
		}
		refs = kept
	}
	if p.sortBy != "" {
		sortByKey(refs, func(r ref) any { return f.sortKey(r, p.sortBy) }, p.ascending)
	}
	start, end := p.window(len(refs))
	return refs[start:end], len(refs)
}

// candidates narrows by sensor_ids first when given: seeded ids decode to
// their index, so the filter costs nothing per sensor.
func (f *fleet) candidates(sf *sensorFilter) []ref {
	if sf.sensorIDs == nil {
		return f.all()
	}
	var idx []int
	for id := range sf.sensorIDs {
		if i, ok := f.seed.index(id); ok && !slices.Contains(f.deleted, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	refs := make([]ref, 0, len(idx))
	for _, i := range idx {
		refs = append(refs, ref(i))
	}
	for j, s := range f.registered {
		if sf.sensorIDs[strings.ToLower(s.ID)] {
			refs = append(refs, ref(-j-1))
		}
	}
	return refs
}

func (e *Emulator) listSensors(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.listFleet(w, r, false)
}

func (e *Emulator) listSensorDetails(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.listFleet(w, r, true)
}

func (e *Emulator) listFleet(w http.ResponseWriter, r *http.Request, details bool) {
	q := r.URL.Query()
	sortable := sensorSortable
	if details {
		sortable = detailSortable
	}
	p, err := parseListParams(q, sortable)
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, err.Error())
		return
	}
	sf, err := parseSensorFilter(q, p, details)
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, err.Error())
		return
	}
	e.env.Lock()
	f := e.snapshot()
	e.env.Unlock()

	refs, total := f.selectPage(p, &sf)
	sw := newStreamWriter(w)
	sw.begin(p.envelope(total, len(refs)))
	for _, rf := range refs {
		s := f.sensor(rf)
		if details {
			sw.item(s.detail(f.now, f.mps))
		} else {
			sw.item(s.out())
		}
	}
	sw.end()
}

// ---- single sensors ----

// lookupSensor finds a live sensor by id (lock held). UUIDs compare
// case-insensitively (RFC 4122). For a seeded sensor it returns the seeded
// index and a generated copy; for a registered one the stored record.
func (e *Emulator) lookupSensor(id string) (s *sensor, seeded int, ok bool) {
	id = strings.ToLower(id)
	for _, rs := range e.state.Sensors {
		if rs.ID == id {
			rs.progress(e.env.NowMs(), e.lcmStepMs())
			return rs, -1, true
		}
	}
	i, ok := e.seed.index(id)
	if !ok {
		return nil, 0, false
	}
	o := e.overlayIdx[i]
	if o != nil && o.Deleted {
		return nil, 0, false
	}
	g := e.seed.sensor(i)
	o.apply(&g)
	return &g, i, true
}

// overlayFor returns (creating) the overlay of seeded sensor i (lock held).
func (e *Emulator) overlayFor(i int) *overlay {
	if o := e.overlayIdx[i]; o != nil {
		return o
	}
	o := &overlay{}
	e.state.SeededOverlay[e.seed.id(i)] = o
	e.overlayIdx[i] = o
	return o
}

func (e *Emulator) withSensor(w http.ResponseWriter, r *http.Request, f func(s *sensor)) {
	e.env.Lock()
	defer e.env.Unlock()
	s, _, ok := e.lookupSensor(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, moduleSensor, "sensor not found")
		return
	}
	f(s)
}

func (e *Emulator) getSensor(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.withSensor(w, r, func(s *sensor) { sim.WriteJSON(w, http.StatusOK, s.out()) })
}

func (e *Emulator) getSensorStatus(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.withSensor(w, r, func(s *sensor) { sim.WriteJSON(w, http.StatusOK, s.status(e.env.NowMs())) })
}

func (e *Emulator) getSensorBundle(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.withSensor(w, r, func(s *sensor) { sim.WriteJSON(w, http.StatusOK, s.bundle()) })
}

func (e *Emulator) getSensorFeatures(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.withSensor(w, r, func(s *sensor) { sim.WriteJSON(w, http.StatusOK, s.features(e.state.MPSGlobal)) })
}

// sensorUpdate is the PUT body (a Sensor); only display_name and
// description change ("Currently only 'display_name' and 'description' can
// be updated"); other fields are ignored.
type sensorUpdate struct {
	ID          *string `json:"id"`
	DisplayName *string `json:"display_name"`
	Description *string `json:"description"`
	Revision    *int64  `json:"_revision"`
}

// updateSensor replaces display_name and description. A description left
// out of the body is cleared (PUT replaces the resource). _revision is
// required: missing is 428, stale is 412, as the spec's Resource doc says.
func (e *Emulator) updateSensor(w http.ResponseWriter, r *http.Request, caller sim.User) {
	body, err := sim.ReadBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, "reading the request body: "+err.Error())
		return
	}
	var req sensorUpdate
	if err := decodeObject(body, &req, nil); err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, err.Error())
		return
	}
	id := strings.ToLower(r.PathValue("id"))
	e.env.Lock()
	defer e.env.Unlock()
	s, seeded, ok := e.lookupSensor(id)
	if !ok {
		writeError(w, http.StatusNotFound, moduleSensor, "sensor not found")
		return
	}
	var problems []string
	// The Sensor schema requires id and display_name.
	switch {
	case req.ID == nil || *req.ID == "":
		problems = append(problems, "id is required")
	case strings.ToLower(*req.ID) != id:
		problems = append(problems, "id must be the id in the path")
	}
	switch {
	case req.DisplayName == nil || *req.DisplayName == "":
		problems = append(problems, "display_name is required")
	case utf8.RuneCountInString(*req.DisplayName) > 255:
		problems = append(problems, "display_name must be at most 255 characters")
	}
	if req.Description != nil && utf8.RuneCountInString(*req.Description) > 1024 {
		problems = append(problems, "description must be at most 1024 characters")
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, moduleSensor, "invalid sensor: "+strings.Join(problems, "; "))
		return
	}
	if req.Revision == nil {
		writeError(w, http.StatusPreconditionRequired, moduleSensor, "_revision is required: GET the sensor and send its _revision")
		return
	}
	if *req.Revision != s.Revision {
		writeError(w, http.StatusPreconditionFailed, moduleSensor, fmt.Sprintf("_revision %d is stale; the sensor is at revision %d", *req.Revision, s.Revision))
		return
	}
	desc := ""
	if req.Description != nil {
		desc = *req.Description
	}
	now := e.env.NowMs()
	if seeded >= 0 {
		o := e.overlayFor(seeded)
		name := *req.DisplayName
		o.DisplayName, o.Description = &name, &desc
		o.Revision, o.LastModifiedTime, o.LastModifiedUser = s.Revision+1, now, caller.Name
		o.apply(s)
	} else {
		s.DisplayName, s.Description = *req.DisplayName, desc
		s.Revision, s.LastModifiedTime, s.LastModifiedUser = s.Revision+1, now, caller.Name
	}
	e.env.Changed()
	sim.WriteJSON(w, http.StatusOK, s.out())
}

// deleteSensor de-registers a sensor; idempotent: 200 whether or not it
// exists. A seeded sensor is marked deleted in the overlay.
func (e *Emulator) deleteSensor(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.env.Lock()
	defer e.env.Unlock()
	if e.removeSensor(r.PathValue("id")) {
		e.env.Changed()
	}
	writeNoBody(w, http.StatusOK)
}

func (e *Emulator) removeSensor(id string) bool {
	id = strings.ToLower(id)
	for j, rs := range e.state.Sensors {
		if rs.ID == id {
			e.state.Sensors = slices.Delete(e.state.Sensors, j, j+1)
			return true
		}
	}
	i, ok := e.seed.index(id)
	if !ok {
		return false
	}
	if o := e.overlayIdx[i]; o != nil && o.Deleted {
		return false
	}
	e.state.SeededOverlay[id] = &overlay{Deleted: true}
	e.reindex()
	return true
}

// ---- feature configuration ----

// sensorIDPattern is the spec's pattern for sensor_ids items.
var sensorIDPattern = regexp.MustCompile(`^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12})$`)

// featureRequest is SensorIdsFeatureConfig, SensorFlowFeatureConfig and
// SensorMpsFeatureConfig (one shape, additionalProperties: false).
type featureRequest struct {
	SensorIDs []string `json:"sensor_ids"`
}

// featureResponse is the three responses' shape. PCAPEnabled is set for
// IDS only. successful_sensor_ids has minItems 1 in the spec, so an empty
// list is left out; failed_sensor_ids likewise, for symmetry.
type featureResponse struct {
	Enabled     bool     `json:"enabled"`
	PCAPEnabled *bool    `json:"pcap_enabled,omitempty"`
	Successful  []string `json:"successful_sensor_ids,omitempty"`
	Failed      []string `json:"failed_sensor_ids,omitempty"`
}

// featureChange sets one feature on a sensor or its overlay.
type featureChange struct {
	ids, pcap, flows, mps *bool
}

func (e *Emulator) featureIDS(w http.ResponseWriter, r *http.Request, _ sim.User) {
	action := r.URL.Query().Get("action")
	var on, pcap bool
	switch action {
	case "enable_without_pcap":
		on = true
	case "enable_with_pcap":
		on, pcap = true, true
	case "disable":
	default:
		writeError(w, http.StatusBadRequest, moduleSensor, fmt.Sprintf("action %q must be one of enable_without_pcap, enable_with_pcap, disable", action))
		return
	}
	e.updateFeatures(w, r, featureChange{ids: &on, pcap: &pcap}, featureResponse{Enabled: on, PCAPEnabled: &pcap})
}

func (e *Emulator) featureFlows(w http.ResponseWriter, r *http.Request, _ sim.User) {
	on, ok := enableAction(w, r)
	if ok {
		e.updateFeatures(w, r, featureChange{flows: &on}, featureResponse{Enabled: on})
	}
}

func (e *Emulator) featureMPS(w http.ResponseWriter, r *http.Request, _ sim.User) {
	on, ok := enableAction(w, r)
	if ok {
		e.updateFeatures(w, r, featureChange{mps: &on}, featureResponse{Enabled: on})
	}
}

func enableAction(w http.ResponseWriter, r *http.Request) (bool, bool) {
	switch action := r.URL.Query().Get("action"); action {
	case "enable":
		return true, true
	case "disable":
		return false, true
	default:
		writeError(w, http.StatusBadRequest, moduleSensor, fmt.Sprintf("action %q must be enable or disable", action))
		return false, false
	}
}

// updateFeatures applies a change to the listed sensors. Unknown (or
// deleted) ids fail and the others succeed: the response schema reports
// both lists, although the operation descriptions say "all or none".
// Repeated ids count once.
func (e *Emulator) updateFeatures(w http.ResponseWriter, r *http.Request, ch featureChange, resp featureResponse) {
	body, err := sim.ReadBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, "reading the request body: "+err.Error())
		return
	}
	var req featureRequest
	if err := decodeObject(body, &req, []string{"sensor_ids"}); err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, err.Error())
		return
	}
	var problems []string
	if n := len(req.SensorIDs); n < 1 || n > 25 {
		problems = append(problems, fmt.Sprintf("sensor_ids must hold 1 to 25 ids (it has %d)", n))
	}
	for _, id := range req.SensorIDs {
		if !sensorIDPattern.MatchString(id) {
			problems = append(problems, fmt.Sprintf("sensor_ids item %q is not a UUID", id))
		}
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, moduleSensor, "invalid feature configuration: "+strings.Join(problems, "; "))
		return
	}
	e.env.Lock()
	defer e.env.Unlock()
	now := e.env.NowMs()
	seen := map[string]bool{}
	for _, id := range req.SensorIDs {
		key := strings.ToLower(id)
		if seen[key] {
			continue
		}
		seen[key] = true
		s, seeded, ok := e.lookupSensor(key)
		if !ok {
			resp.Failed = append(resp.Failed, id)
			continue
		}
		resp.Successful = append(resp.Successful, id)
		if seeded >= 0 {
			o := e.overlayFor(seeded)
			set := func(dst **bool, v *bool) {
				if v != nil {
					b := *v
					*dst = &b
				}
			}
			set(&o.IDSEnabled, ch.ids)
			set(&o.PCAPEnabled, ch.pcap)
			set(&o.FlowsEnabled, ch.flows)
			set(&o.MPSEnabled, ch.mps)
			o.FeaturesModified = now
			continue
		}
		if ch.ids != nil {
			s.IDSEnabled = *ch.ids
		}
		if ch.pcap != nil {
			s.PCAPEnabled = *ch.pcap
		}
		if ch.flows != nil {
			s.FlowsEnabled = *ch.flows
		}
		if ch.mps != nil {
			s.MPSEnabled = *ch.mps
		}
		s.FeaturesModified = now
	}
	if len(resp.Successful) > 0 {
		e.env.Changed()
	}
	sim.WriteJSON(w, http.StatusOK, resp)
}

// ---- MPS global configuration ----

func (e *Emulator) getMPSGlobal(w http.ResponseWriter, _ *http.Request, _ sim.User) {
	e.env.Lock()
	defer e.env.Unlock()
	sim.WriteJSON(w, http.StatusOK, e.state.MPSGlobal)
}

var mpsFields = []string{"document_file_type", "executable_file_type", "media_file_type", "archive_file_type", "data_file_type", "script_file_type", "other_file_type"}

// putMPSGlobal replaces the configuration; the schema requires all seven
// booleans and admits nothing else.
func (e *Emulator) putMPSGlobal(w http.ResponseWriter, r *http.Request, _ sim.User) {
	body, err := sim.ReadBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, "reading the request body: "+err.Error())
		return
	}
	var fields map[string]any
	if err := decodeObject(body, &fields, mpsFields); err != nil {
		writeError(w, http.StatusBadRequest, moduleSensor, err.Error())
		return
	}
	var problems []string
	for _, name := range mpsFields {
		v, ok := fields[name]
		if !ok {
			problems = append(problems, name+" is required")
		} else if _, isBool := v.(bool); !isBool {
			problems = append(problems, name+" must be true or false")
		}
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, moduleSensor, "invalid MPS configuration: "+strings.Join(problems, "; "))
		return
	}
	b := func(name string) bool { return fields[name].(bool) }
	cfg := mpsConfig{b("document_file_type"), b("executable_file_type"), b("media_file_type"), b("archive_file_type"),
		b("data_file_type"), b("script_file_type"), b("other_file_type")}
	e.env.Lock()
	defer e.env.Unlock()
	e.state.MPSGlobal = cfg
	e.env.Changed()
	sim.WriteJSON(w, http.StatusOK, cfg)
}

// ---- version summary ----

type versionCount struct {
	SoftwareVersion string `json:"software_version"`
	Count           int    `json:"count"`
}

// versionSummary counts live sensors per software version, oldest version
// first. It is one page (the operation takes no paging parameters), shaped
// like the vendor's example: no offset.
func (e *Emulator) versionSummary(w http.ResponseWriter, _ *http.Request, _ sim.User) {
	e.env.Lock()
	f := e.snapshot()
	e.env.Unlock()
	counts := map[string]int{}
	for _, r := range f.all() {
		counts[f.facts(r, false, false).version]++
	}
	results := make([]versionCount, 0, len(counts))
	for v, n := range counts {
		results = append(results, versionCount{v, n})
	}
	slices.SortFunc(results, func(a, b versionCount) int {
		va, _ := parseVersion(a.SoftwareVersion)
		vb, _ := parseVersion(b.SoftwareVersion)
		if c := compareVersions(va, vb); c != 0 {
			return c
		}
		return strings.Compare(a.SoftwareVersion, b.SoftwareVersion)
	})
	pages := 0
	if len(results) > 0 {
		pages = 1
	}
	sim.WriteJSON(w, http.StatusOK, struct {
		NumberOfResults  int            `json:"number_of_results"`
		TotalResultCount int            `json:"total_result_count"`
		TotalPages       int            `json:"total_pages"`
		Results          []versionCount `json:"results"`
	}{len(results), len(results), pages, results})
}
