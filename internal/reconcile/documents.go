package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// Document kinds (DESIGN.md, Declarative documents).
const (
	KindSensorToken    = "SensorToken"
	KindBaremetalToken = "BaremetalToken"
	KindAgentToken     = "AgentToken"
	KindSensorFeatures = "SensorFeatures"
	KindMPSConfig      = "MPSConfig"
)

// Kinds lists the document kinds with the platform each belongs to.
var Kinds = []struct{ Kind, Platform string }{
	{KindSensorToken, config.SSP},
	{KindBaremetalToken, config.SSP},
	{KindSensorFeatures, config.SSP},
	{KindMPSConfig, config.SSP},
	{KindAgentToken, config.Agent},
}

// Platforms are the platforms that have declarative documents. NSX tokens
// are their own secret ids and cannot be listed, SD-WAN auth tokens have
// no name: neither has a natural key to find the server object by.
var Platforms = []string{config.SSP, config.Agent}

func kindPlatform(kind string) (string, bool) {
	for _, k := range Kinds {
		if k.Kind == kind {
			return k.Platform, true
		}
	}
	return "", false
}

func kindNames() []string {
	out := make([]string, len(Kinds))
	for i, k := range Kinds {
		out[i] = k.Kind
	}
	return out
}

// SensorTokenLifetime is how long a sensor registration token lives (the
// vendor's SensorRegistrationTokenInfo: "valid for only 30 minutes").
const SensorTokenLifetime = 30 * time.Minute

// DefaultBaremetalExpiryMins is the vendor's default of
// expiry_time_since_creation_mins.
const DefaultBaremetalExpiryMins = 30

// Document is one validated document.
type Document struct {
	// Source names it in messages: FILE#N.
	Source string
	Kind   string
	// Key is what finds the server object: a pool's display_name, an agent
	// token's name, a description of a SensorFeatures selector, or
	// "mps-global-config".
	Key string

	pool     *poolSpec
	agent    *agentSpec
	features *featuresSpec
	mps      map[string]bool
}

// Set is the validated documents of one run.
type Set struct {
	Docs []*Document
	// Warnings are worth telling the user but stop nothing (an inline
	// passphrase).
	Warnings []string
}

// ParseOptions configure Parse.
type ParseOptions struct {
	// Platform is the profile's platform; every document must belong to it.
	Platform string
	// Secrets reads the passphrases (passphrase_file, passphrase_env) and
	// checks them; apply needs them, diff and --dry-run create nothing and
	// leave them unread (their sources are still required).
	Secrets bool
	// LookupEnv reads passphrase_env variables; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
}

// Parse decodes and validates every document. Every problem of every
// document is returned at once as an *exit.ValidationError (exit 2); no
// document is half-accepted.
func Parse(inputs []Input, opts ParseOptions) (*Set, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	set := &Set{}
	var ps []exit.Problem
	keys := map[string]string{} // kind/key -> source of the first document
	for _, in := range inputs {
		doc, warn, problems := parseOne(in, opts)
		ps = append(ps, problems...)
		set.Warnings = append(set.Warnings, warn...)
		if doc == nil {
			continue
		}
		// A document with other problems still claims its key, so that a
		// duplicate is reported in the same run.
		if doc.Kind != KindSensorFeatures && (doc.Key != "" || doc.Kind == KindMPSConfig) {
			k := doc.Kind + "\x00" + doc.Key
			if first, dup := keys[k]; dup {
				ps = append(ps, duplicateProblem(doc, first))
				continue
			}
			keys[k] = doc.Source
		}
		if len(problems) == 0 {
			set.Docs = append(set.Docs, doc)
		}
	}
	if err := exit.Problems(ps); err != nil {
		return nil, err
	}
	return set, nil
}

func duplicateProblem(doc *Document, first string) exit.Problem {
	switch doc.Kind {
	case KindMPSConfig:
		return exit.Problem{Source: doc.Source, Field: "kind", Rule: "only one MPSConfig document is allowed (the other is " + first + ")"}
	case KindAgentToken:
		return exit.Problem{Source: doc.Source, Field: "name", Rule: fmt.Sprintf("%q is also the name in %s: one document per agent token", doc.Key, first)}
	}
	return exit.Problem{Source: doc.Source, Field: "display_name", Rule: fmt.Sprintf("%q is also the display_name of the %s in %s: one document per pool", doc.Key, doc.Kind, first)}
}

// parseOne reads a document's kind and decodes it with that kind's rules.
// The document comes back with its problems when its kind and key are
// known, so duplicates can be found among invalid documents too.
func parseOne(in Input, opts ParseOptions) (*Document, []string, []exit.Problem) {
	if in.Unreadable != nil {
		return nil, nil, []exit.Problem{*in.Unreadable}
	}
	src := in.Source
	raw, err := in.JSON()
	if err != nil {
		return nil, nil, []exit.Problem{{Source: src, Field: "(document)", Rule: err.Error()}}
	}
	var head map[string]json.RawMessage
	if json.Unmarshal(raw, &head) != nil {
		return nil, nil, []exit.Problem{{Source: src, Field: "(document)", Rule: "must be a mapping with kind: and the vendor's fields"}}
	}
	var kind string
	if k, ok := head["kind"]; !ok {
		return nil, nil, []exit.Problem{{Source: src, Field: "kind", Rule: "required: one of " + strings.Join(kindNames(), ", ")}}
	} else if json.Unmarshal(k, &kind) != nil {
		return nil, nil, []exit.Problem{{Source: src, Field: "kind", Rule: "must be a string: one of " + strings.Join(kindNames(), ", ")}}
	}
	platform, ok := kindPlatform(kind)
	if !ok {
		return nil, nil, []exit.Problem{{Source: src, Field: "kind", Rule: unknownKind(kind)}}
	}
	var ps []exit.Problem
	if opts.Platform != "" && platform != opts.Platform {
		ps = append(ps, exit.Problem{Source: src, Field: "kind", Rule: fmt.Sprintf("%s is a document for %s profiles; the profile's platform is %s", kind, platform, opts.Platform)})
	}
	doc := &Document{Source: src, Kind: kind}
	var warn []string
	var more []exit.Problem
	switch kind {
	case KindSensorToken, KindBaremetalToken:
		warn, more = parsePool(in, doc, opts)
	case KindAgentToken:
		more = parseAgent(in, doc)
	case KindSensorFeatures:
		more = parseFeatures(in, doc)
	case KindMPSConfig:
		more = parseMPS(in, doc)
	}
	ps = append(ps, more...)
	return doc, warn, ps
}

// unknownKind explains a kind tokenctl does not converge: NSX and SD-WAN
// tokens get their own reason.
func unknownKind(kind string) string {
	lower := strings.ToLower(kind)
	switch {
	case strings.Contains(lower, "nsx"):
		return fmt.Sprintf("%q: NSX registration tokens have no natural key (the token is its own secret id and NSX has no list call), so they stay imperative: use tokenctl token create", kind)
	case strings.Contains(lower, "sdwan") || strings.Contains(lower, "sd-wan") || strings.Contains(lower, "authtoken"):
		return fmt.Sprintf("%q: SD-WAN auth tokens have no natural key (no name to find them by, and the token is shown only once), so they stay imperative: use tokenctl authtoken create", kind)
	}
	for _, k := range kindNames() {
		if strings.EqualFold(k, kind) {
			return fmt.Sprintf("unknown kind %q (did you mean %s?)", kind, k)
		}
	}
	return fmt.Sprintf("unknown kind %q: one of %s", kind, strings.Join(kindNames(), ", "))
}

// docRule drops the flag hint of a request's validation rule ("required
// (--display-name)"): a document has fields, not flags.
func docRule(rule string) string {
	if i := strings.LastIndex(rule, " (--"); i >= 0 && strings.HasSuffix(rule, ")") {
		return rule[:i]
	}
	return rule
}

func docProblems(ps []exit.Problem) []exit.Problem {
	for i := range ps {
		ps[i].Rule = docRule(ps[i].Rule)
	}
	return ps
}

// ---- SensorToken, BaremetalToken ----

// poolSpec is a validated SensorToken or BaremetalToken document.
type poolSpec struct {
	typ          string // ssp.Sensor or ssp.Baremetal
	displayName  string
	description  *string
	allowed      *int64
	expiryMins   *int64 // baremetal only
	minRemaining int64
	minLifetime  time.Duration
	// passphrase is read by Parse with ParseOptions.Secrets, else "".
	passphrase string
}

// tokenDocFields are the fields both pool kinds take: the vendor's create
// fields, the passphrase's sources, and what "usable" means.
type tokenDocFields struct {
	Kind                 string          `json:"kind"`
	DisplayName          string          `json:"display_name"`
	Description          *string         `json:"description"`
	AllowedInstanceCount *int64          `json:"allowed_instance_count"`
	Passphrase           string          `json:"passphrase"`
	PassphraseFile       string          `json:"passphrase_file"`
	PassphraseEnv        string          `json:"passphrase_env"`
	MinRemaining         *int64          `json:"min_remaining"`
	MinLifetime          json.RawMessage `json:"min_lifetime"`
}

type sensorTokenDoc struct {
	tokenDocFields
}

type baremetalTokenDoc struct {
	tokenDocFields
	ExpiryTimeSinceCreationMins *int64 `json:"expiry_time_since_creation_mins"`
}

// placeholderPassphrase stands in for a passphrase left unread (diff), so
// that the vendor's rules of the other fields can be checked with the
// request types' own Validate. It is never sent.
const placeholderPassphrase = "Placeholder-Only-1!"

func parsePool(in Input, doc *Document, opts ParseOptions) (_ []string, ps []exit.Problem) {
	src := in.Source
	var f tokenDocFields
	var expiry *int64
	var dps []exit.Problem
	spec := &poolSpec{typ: ssp.Sensor}
	if doc.Kind == KindBaremetalToken {
		var d baremetalTokenDoc
		dps = in.Decode(&d)
		f, expiry, spec.typ = d.tokenDocFields, d.ExpiryTimeSinceCreationMins, ssp.Baremetal
	} else {
		var d sensorTokenDoc
		dps = in.Decode(&d)
		f = d.tokenDocFields
	}
	if manifest.Fatal(dps) {
		return nil, dps
	}
	defer func() { ps = manifest.Combine(dps, ps) }()
	spec.displayName, spec.description, spec.allowed, spec.expiryMins = f.DisplayName, f.Description, f.AllowedInstanceCount, expiry
	doc.Key, doc.pool = f.DisplayName, spec

	add := func(field, rule string) { ps = append(ps, exit.Problem{Source: src, Field: field, Rule: rule}) }
	var warn []string

	// The passphrase: exactly one source.
	sources := 0
	for _, s := range []string{f.Passphrase, f.PassphraseFile, f.PassphraseEnv} {
		if s != "" {
			sources++
		}
	}
	passphraseField := "passphrase"
	switch {
	case sources == 0:
		add("passphrase_file", "required: passphrase_file or passphrase_env (a created token needs the passphrase, and the SSP never returns it)")
	case sources > 1:
		add("passphrase", "give one of passphrase, passphrase_file and passphrase_env")
	case f.Passphrase != "":
		warn = append(warn, src+": the passphrase is inline; keep it out of committed files with passphrase_file or passphrase_env")
		spec.passphrase = f.Passphrase
	case opts.Secrets && f.PassphraseFile != "":
		passphraseField = "passphrase_file"
		p, rule := readPassphraseFile(in.Dir, f.PassphraseFile)
		if rule != "" {
			add("passphrase_file", rule)
		}
		spec.passphrase = p
	case opts.Secrets:
		passphraseField = "passphrase_env"
		v, ok := opts.LookupEnv(f.PassphraseEnv)
		if !ok || v == "" {
			add("passphrase_env", fmt.Sprintf("$%s is not set (or empty)", f.PassphraseEnv))
		}
		spec.passphrase = v
	}

	// The vendor's rules, with the request types' own validation.
	passphrase := spec.passphrase
	if passphrase == "" {
		passphrase = placeholderPassphrase
	}
	var desc string
	if f.Description != nil {
		desc = *f.Description
	}
	var reqProblems []exit.Problem
	if spec.typ == ssp.Baremetal {
		req := ssp.BaremetalTokenRequest{DisplayName: f.DisplayName, Description: desc, Passphrase: passphrase}
		reqProblems = req.Validate(src)
		if expiry != nil && *expiry < 1 {
			// Validate checks this too, naming a flag: say it for a document.
			reqProblems = slices.DeleteFunc(reqProblems, func(p exit.Problem) bool { return p.Field == "expiry_time_since_creation_mins" })
			add("expiry_time_since_creation_mins", "must be at least 1 minute (the vendor sets no limit; tokenctl and the sandbox require at least 1)")
		}
	} else {
		req := ssp.SensorTokenRequest{DisplayName: f.DisplayName, Description: desc, Passphrase: passphrase}
		reqProblems = req.Validate(src)
	}
	for _, p := range docProblems(reqProblems) {
		if p.Field == "passphrase" {
			if spec.passphrase == "" {
				continue // unread or missing: reported above
			}
			p.Field = passphraseField
			if passphraseField != "passphrase" {
				p.Rule = "the passphrase it gives " + p.Rule
			}
		}
		ps = append(ps, p)
	}
	if f.AllowedInstanceCount != nil && *f.AllowedInstanceCount < 1 {
		add("allowed_instance_count", "must be at least 1 (the vendor sets no limit; tokenctl and the sandbox require at least 1)")
	}

	// What "usable" means.
	spec.minRemaining = 1
	if f.MinRemaining != nil {
		spec.minRemaining = *f.MinRemaining
		switch {
		case *f.MinRemaining < 1:
			add("min_remaining", "must be at least 1")
		case f.AllowedInstanceCount == nil && *f.MinRemaining > 1:
			add("min_remaining", fmt.Sprintf("%d needs allowed_instance_count of at least %d (a new token would have the server's default)", *f.MinRemaining, *f.MinRemaining))
		case f.AllowedInstanceCount != nil && *f.AllowedInstanceCount >= 1 && *f.MinRemaining > *f.AllowedInstanceCount:
			add("min_remaining", fmt.Sprintf("%d can never hold: allowed_instance_count is %d", *f.MinRemaining, *f.AllowedInstanceCount))
		}
	}
	if len(f.MinLifetime) > 0 {
		d, rule := parseLifetime(f.MinLifetime)
		if rule == "" {
			life, what := SensorTokenLifetime, "a sensor token lives 30 minutes"
			if spec.typ == ssp.Baremetal {
				mins := int64(DefaultBaremetalExpiryMins)
				what = "a new token lives 30 minutes (the vendor's default of expiry_time_since_creation_mins)"
				if expiry != nil {
					mins = *expiry
					what = fmt.Sprintf("a new token lives expiry_time_since_creation_mins, %d minutes", mins)
				}
				life = time.Duration(mins) * time.Minute
			}
			if d >= life {
				rule = fmt.Sprintf("%s can never hold: %s", d, what)
			}
		}
		if rule != "" {
			add("min_lifetime", rule)
		}
		spec.minLifetime = d
	}
	return warn, ps
}

// parseLifetime reads min_lifetime: a duration such as 10m or 1h30m.
func parseLifetime(raw json.RawMessage) (time.Duration, string) {
	const want = "must be a duration such as 10m or 1h30m"
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, want
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Sprintf("%q: %s", s, want)
	}
	if d < 0 {
		return 0, "must not be negative"
	}
	return d, ""
}

// readPassphraseFile reads the first line of a passphrase file; a relative
// path starts from the document's directory. It returns the rule broken
// when the file cannot give a passphrase (the path is named, never the
// content).
func readPassphraseFile(dir, path string) (string, string) {
	full := path
	if !filepath.IsAbs(path) && dir != "" {
		full = filepath.Join(dir, path)
	}
	data, err := os.ReadFile(full)
	if err != nil {
		return "", fmt.Sprintf("%s: %v", full, cleanPathError(err))
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", full + ": the first line is empty"
	}
	return line, ""
}

// ---- AgentToken ----

// agentSpec is a validated AgentToken document.
type agentSpec struct {
	name   string
	read   *bool
	change *bool
}

type agentTokenDoc struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Read   *bool  `json:"read"`
	Change *bool  `json:"change"`
}

func parseAgent(in Input, doc *Document) (ps []exit.Problem) {
	var d agentTokenDoc
	dps := in.Decode(&d)
	if manifest.Fatal(dps) {
		return dps
	}
	defer func() { ps = manifest.Combine(dps, ps) }()
	req := agent.TokenRequest{Name: d.Name}
	doc.Key, doc.agent = d.Name, &agentSpec{name: d.Name, read: d.Read, change: d.Change}
	return docProblems(req.Validate(in.Source))
}

// ---- SensorFeatures ----

// featureWant is the desired feature state; nil fields are not managed.
type featureWant struct {
	ids, pcap, flows, mps *bool
}

// featuresSpec is a validated SensorFeatures document.
type featuresSpec struct {
	all         bool
	displayName string
	filter      ssp.DetailsFilter
	want        featureWant
}

type featuresDoc struct {
	Kind         string          `json:"kind"`
	Selector     json.RawMessage `json:"selector"`
	IDSEnabled   *bool           `json:"ids_enabled"`
	IDSConfig    json.RawMessage `json:"ids_config"`
	FlowsEnabled *bool           `json:"flows_enabled"`
	MPSEnabled   *bool           `json:"mps_enabled"`
}

// selectorDoc is the selector: `all: true`, or the filters of `sensor
// details` (ListSensorDetails) under the vendor's names.
type selectorDoc struct {
	All                bool     `json:"all"`
	SensorIDs          []string `json:"sensor_ids"`
	DisplayName        string   `json:"display_name"`
	RegistrationStatus string   `json:"registration_status"`
	Health             string   `json:"health"`
	FlowsEnabled       *bool    `json:"flows_enabled"`
	IDSEnabled         *bool    `json:"ids_enabled"`
	MPSEnabled         *bool    `json:"mps_enabled"`
	PCAPEnabled        *bool    `json:"pcap_enabled"`
	SoftwareVersions   []string `json:"software_versions"`
}

type idsConfigDoc struct {
	PCAPEnabled *bool `json:"pcap_enabled"`
}

func parseFeatures(in Input, doc *Document) (ps []exit.Problem) {
	src := in.Source
	var d featuresDoc
	dps := in.Decode(&d)
	if manifest.Fatal(dps) {
		return dps
	}
	defer func() { ps = manifest.Combine(dps, ps) }()
	add := func(field, rule string) { ps = append(ps, exit.Problem{Source: src, Field: field, Rule: rule}) }
	spec := &featuresSpec{want: featureWant{ids: d.IDSEnabled, flows: d.FlowsEnabled, mps: d.MPSEnabled}}
	doc.features = spec

	if len(d.IDSConfig) > 0 {
		var ic idsConfigDoc
		if p := strictDecode(src, "ids_config", d.IDSConfig, &ic); p != nil {
			ps = append(ps, *p)
		}
		spec.want.pcap = ic.PCAPEnabled
	}
	switch {
	case spec.want.pcap != nil && (d.IDSEnabled == nil || !*d.IDSEnabled):
		add("ids_config.pcap_enabled", "needs ids_enabled: true (the vendor's IDS actions are enable_with_pcap, enable_without_pcap and disable)")
	case d.IDSEnabled != nil && *d.IDSEnabled && spec.want.pcap == nil:
		add("ids_config.pcap_enabled", "required with ids_enabled: true: the vendor's IDS call sets both (enable_with_pcap or enable_without_pcap)")
	}
	if d.IDSEnabled == nil && d.FlowsEnabled == nil && d.MPSEnabled == nil && len(d.IDSConfig) == 0 {
		add("ids_enabled, flows_enabled, mps_enabled", "give at least one: the state the selected sensors converge to")
	}

	if len(d.Selector) == 0 || string(d.Selector) == "null" {
		add("selector", "required: all: true, or the sensor details filters (sensor_ids, display_name, registration_status, health, flows_enabled, ids_enabled, mps_enabled, pcap_enabled, software_versions)")
		return ps
	}
	var sel selectorDoc
	if p := strictDecode(src, "selector", d.Selector, &sel); p != nil {
		return append(ps, *p)
	}
	spec.all, spec.displayName = sel.All, sel.DisplayName
	filters := 0
	enum := func(field, v string, allowed []string) string {
		if v == "" {
			return ""
		}
		filters++
		lv := strings.ToLower(v)
		if !slices.Contains(allowed, lv) {
			add("selector."+field, fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", ")))
		}
		return lv
	}
	spec.filter.RegistrationStatus = enum("registration_status", sel.RegistrationStatus, ssp.RegistrationStatusValues)
	spec.filter.Health = enum("health", sel.Health, ssp.HealthValues)
	for _, b := range []*bool{sel.FlowsEnabled, sel.IDSEnabled, sel.MPSEnabled, sel.PCAPEnabled} {
		if b != nil {
			filters++
		}
	}
	spec.filter.FlowsEnabled, spec.filter.IDSEnabled, spec.filter.MPSEnabled, spec.filter.PCAPEnabled = sel.FlowsEnabled, sel.IDSEnabled, sel.MPSEnabled, sel.PCAPEnabled
	if sel.DisplayName != "" {
		filters++
	}
	if len(sel.SensorIDs) > 0 {
		filters++
		var bad []string
		seen := map[string]bool{}
		for _, id := range sel.SensorIDs {
			if !ssp.SensorIDPattern().MatchString(id) {
				bad = append(bad, fmt.Sprintf("%q", id))
				continue
			}
			if k := strings.ToLower(id); !seen[k] {
				seen[k] = true
				spec.filter.SensorIDs = append(spec.filter.SensorIDs, id)
			}
		}
		if len(bad) > 0 {
			add("selector.sensor_ids", "not sensor UUIDs (the vendor's sensor_ids pattern): "+strings.Join(bad, ", "))
		}
	}
	if len(sel.SoftwareVersions) > 0 {
		filters++
		for _, v := range sel.SoftwareVersions {
			v = strings.TrimSpace(v)
			if rule := ssp.CheckVersionFilter(v); rule != "" {
				add("selector.software_versions", fmt.Sprintf("%q: %s", v, rule))
				continue
			}
			spec.filter.SoftwareVersions = append(spec.filter.SoftwareVersions, v)
		}
	}
	switch {
	case sel.All && filters > 0:
		add("selector.all", "all: true selects every sensor; drop it or the filters")
	case !sel.All && filters == 0:
		add("selector", "selects nothing: give all: true for every sensor, or filters")
	}
	doc.Key = selectorKey(sel)
	return ps
}

// selectorKey describes a selector in messages: "all sensors" or its
// filters, e.g. "health=ok software_versions=5.2.*".
func selectorKey(s selectorDoc) string {
	if s.All {
		return "all sensors"
	}
	var parts []string
	str := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	b := func(k string, v *bool) {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s=%t", k, *v))
		}
	}
	if n := len(s.SensorIDs); n == 1 {
		parts = append(parts, "sensor_ids="+s.SensorIDs[0])
	} else if n > 1 {
		parts = append(parts, fmt.Sprintf("sensor_ids=(%d ids)", n))
	}
	str("display_name", s.DisplayName)
	str("registration_status", s.RegistrationStatus)
	str("health", s.Health)
	b("flows_enabled", s.FlowsEnabled)
	b("ids_enabled", s.IDSEnabled)
	b("mps_enabled", s.MPSEnabled)
	b("pcap_enabled", s.PCAPEnabled)
	str("software_versions", strings.Join(s.SoftwareVersions, ","))
	return strings.Join(parts, " ")
}

// strictDecode decodes a nested mapping, refusing unknown fields by name
// (manifest.Document.Decode checks the top level only).
func strictDecode(src, field string, raw json.RawMessage, v any) *exit.Problem {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return &exit.Problem{Source: src, Field: field + "." + strings.Trim(name, `"`), Rule: "unknown field; accepted: " + strings.Join(manifest.Fields(v), ", ")}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			f := field
			if te.Field != "" {
				f += "." + te.Field
			}
			return &exit.Problem{Source: src, Field: f, Rule: "must be " + jsonTypeName(te) + ", not " + te.Value}
		}
		return &exit.Problem{Source: src, Field: field, Rule: "must be a mapping"}
	}
	return nil
}

// jsonTypeName names the type a field needs, as manifest's messages do.
func jsonTypeName(te *json.UnmarshalTypeError) string {
	switch te.Type.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "a list"
	case reflect.Pointer:
		if te.Type.Elem().Kind() == reflect.Bool {
			return "true or false"
		}
	}
	return "a " + te.Type.String()
}

// ---- MPSConfig ----

type mpsDoc struct {
	Kind               string `json:"kind"`
	DocumentFileType   *bool  `json:"document_file_type"`
	ExecutableFileType *bool  `json:"executable_file_type"`
	MediaFileType      *bool  `json:"media_file_type"`
	ArchiveFileType    *bool  `json:"archive_file_type"`
	DataFileType       *bool  `json:"data_file_type"`
	ScriptFileType     *bool  `json:"script_file_type"`
	OtherFileType      *bool  `json:"other_file_type"`
}

func parseMPS(in Input, doc *Document) (ps []exit.Problem) {
	var d mpsDoc
	dps := in.Decode(&d)
	if manifest.Fatal(dps) {
		return dps
	}
	defer func() { ps = manifest.Combine(dps, ps) }()
	want := map[string]bool{}
	for field, v := range map[string]*bool{
		"document_file_type": d.DocumentFileType, "executable_file_type": d.ExecutableFileType,
		"media_file_type": d.MediaFileType, "archive_file_type": d.ArchiveFileType,
		"data_file_type": d.DataFileType, "script_file_type": d.ScriptFileType, "other_file_type": d.OtherFileType,
	} {
		if v != nil {
			want[field] = *v
		}
	}
	doc.Key, doc.mps = "mps-global-config", want
	if len(want) == 0 {
		return []exit.Problem{{Source: in.Source, Field: strings.Join(ssp.MPSFileTypes, ", "), Rule: "give at least one of the seven switches"}}
	}
	return nil
}
