package ssp

import (
	"encoding/json"
	"fmt"
	"slices"
)

// state is everything the emulator remembers; it round-trips through
// SaveState/LoadState as this JSON:
//
//	{
//	  "sensor_tokens":    [tokenRecord...],
//	  "baremetal_tokens": [tokenRecord + "expiry_time_since_creation_mins"...],
//	  "sensors":          [sensorRecord...],      // registered through the control route
//	  "baremetal_servers": [bmServer...],         // registered through the control route
//	  "baremetal_tasks":  [bmTask...],
//	  "seeded_overlay":   {"<seeded sensor id>": overlay...},
//	  "mps_global_config": {seven booleans}
//	}
//
// Tokens keep only a SHA-256 of their passphrase. Seeded sensors are not in
// it: only what changed about them (the overlay).
type state struct {
	SensorTokens    []*sensorToken    `json:"sensor_tokens"`
	BaremetalTokens []*baremetalToken `json:"baremetal_tokens"`
	Sensors         []*sensor         `json:"sensors"`
	// BaremetalServers and BaremetalTasks are in creation order; servers
	// stay after their uninstall (TERMINATED).
	BaremetalServers []*bmServer         `json:"baremetal_servers"`
	BaremetalTasks   []*bmTask           `json:"baremetal_tasks"`
	SeededOverlay    map[string]*overlay `json:"seeded_overlay"`
	MPSGlobal        mpsConfig           `json:"mps_global_config"`
}

func newState() *state {
	return &state{
		SensorTokens:     []*sensorToken{},
		BaremetalTokens:  []*baremetalToken{},
		Sensors:          []*sensor{},
		BaremetalServers: []*bmServer{},
		BaremetalTasks:   []*bmTask{},
		SeededOverlay:    map[string]*overlay{},
		MPSGlobal:        defaultMPSConfig(),
	}
}

// tokenRecord is what both token kinds store. UsageCount counts
// registrations; a baremetal token's remaining_instance_count is
// AllowedInstanceCount - UsageCount.
type tokenRecord struct {
	ID                   string   `json:"id"`
	DisplayName          string   `json:"display_name"`
	Description          string   `json:"description,omitempty"`
	SiteIDs              []string `json:"site_ids,omitempty"`
	AllowedInstanceCount int64    `json:"allowed_instance_count"`
	UsageCount           int64    `json:"usage_count"`
	PassphraseSHA256     string   `json:"passphrase_sha256"`
	CreateTime           int64    `json:"create_time"`
	CreateUser           string   `json:"create_user"`
	Expiration           int64    `json:"expiration"`
	// Manifest is the registration manifest, fixed at create time.
	Manifest string `json:"registration_manifest,omitempty"`
}

type sensorToken struct {
	tokenRecord
}

type baremetalToken struct {
	tokenRecord
	ExpiryMins int64 `json:"expiry_time_since_creation_mins"`
}

// mpsConfig is SensorGlobalConfigMps (and a sensor's mps_config).
type mpsConfig struct {
	DocumentFileType   bool `json:"document_file_type"`
	ExecutableFileType bool `json:"executable_file_type"`
	MediaFileType      bool `json:"media_file_type"`
	ArchiveFileType    bool `json:"archive_file_type"`
	DataFileType       bool `json:"data_file_type"`
	ScriptFileType     bool `json:"script_file_type"`
	OtherFileType      bool `json:"other_file_type"`
}

// defaultMPSConfig analyses every file category, as the vendor's example shows.
func defaultMPSConfig() mpsConfig {
	return mpsConfig{true, true, true, true, true, true, true}
}

// sensor is one sensor appliance, seeded or registered: everything the
// sensor operations show, in one record.
type sensor struct {
	ID               string `json:"id"`
	DisplayName      string `json:"display_name"`
	Description      string `json:"description,omitempty"`
	TokenID          string `json:"token_id,omitempty"`
	CreateUser       string `json:"create_user"`
	CreateTime       int64  `json:"create_time"`
	LastModifiedUser string `json:"last_modified_user,omitempty"`
	LastModifiedTime int64  `json:"last_modified_time"`
	Revision         int64  `json:"revision"`

	CPUSockets      int    `json:"cpu_sockets"`
	CPUCores        int    `json:"cpu_cores"`
	MemoryGB        int    `json:"memory"`
	SoftwareVersion string `json:"software_version"`

	HostName     string   `json:"host_name"`
	NICs         []nic    `json:"nics"`
	DNS          []string `json:"dns"`
	NTP          []string `json:"ntp"`
	HomeNetworks []string `json:"home_networks"`

	BundleID       string `json:"bundle_id"`
	BundleVersion  string `json:"bundle_version"`
	Signatures     int    `json:"signatures"`
	BundleCreated  int64  `json:"bundle_created,omitempty"` // 5.2 sensors only (spec: "5.2 only")
	BundleModified int64  `json:"bundle_modified"`

	IDSEnabled       bool  `json:"ids_enabled"`
	PCAPEnabled      bool  `json:"pcap_enabled"`
	FlowsEnabled     bool  `json:"flows_enabled"`
	MPSEnabled       bool  `json:"mps_enabled"`
	FeaturesModified int64 `json:"features_modified"`

	RegistrationStatus string `json:"registration_status"`
	Health             string `json:"health"`
	SniffingHealth     string `json:"sniffing_health"`
	UploadingHealth    string `json:"uploading_health"`
	// RapidHealth is the file-analysis health while MPS is enabled; with MPS
	// disabled the sensor reports DISABLED (as the vendor's example does).
	RapidHealth string `json:"rapid_health"`
	BootTime    int64  `json:"boot_time"`
	// Lifecycle is the registration of a sensor registered through the
	// control route; its status and health derive from it (progress).
	Lifecycle *sensorLifecycle `json:"lifecycle,omitempty"`
}

type nic struct {
	MACAddress  string `json:"mac_address"`
	IPv4Address string `json:"ipv4_address,omitempty"`
	IPv6Address string `json:"ipv6_address,omitempty"`
	IsMgmt      bool   `json:"is_mgmt"`
}

// overlay is what changed about one seeded sensor. Nil fields are unchanged.
type overlay struct {
	Deleted          bool    `json:"deleted,omitempty"`
	DisplayName      *string `json:"display_name,omitempty"`
	Description      *string `json:"description,omitempty"`
	Revision         int64   `json:"revision,omitempty"`
	LastModifiedTime int64   `json:"last_modified_time,omitempty"`
	LastModifiedUser string  `json:"last_modified_user,omitempty"`
	IDSEnabled       *bool   `json:"ids_enabled,omitempty"`
	PCAPEnabled      *bool   `json:"pcap_enabled,omitempty"`
	FlowsEnabled     *bool   `json:"flows_enabled,omitempty"`
	MPSEnabled       *bool   `json:"mps_enabled,omitempty"`
	FeaturesModified int64   `json:"features_modified,omitempty"`
}

// apply puts the overlay's changes on a generated sensor.
func (o *overlay) apply(s *sensor) {
	if o == nil {
		return
	}
	if o.DisplayName != nil {
		s.DisplayName = *o.DisplayName
	}
	if o.Description != nil {
		s.Description = *o.Description
	}
	if o.Revision != 0 {
		s.Revision = o.Revision
		s.LastModifiedTime = o.LastModifiedTime
		s.LastModifiedUser = o.LastModifiedUser
	}
	if o.IDSEnabled != nil {
		s.IDSEnabled = *o.IDSEnabled
	}
	if o.PCAPEnabled != nil {
		s.PCAPEnabled = *o.PCAPEnabled
	}
	if o.FlowsEnabled != nil {
		s.FlowsEnabled = *o.FlowsEnabled
	}
	if o.MPSEnabled != nil {
		s.MPSEnabled = *o.MPSEnabled
	}
	if o.FeaturesModified != 0 {
		s.FeaturesModified = o.FeaturesModified
	}
}

// SaveState returns the state as JSON (the Env lock is held).
func (e *Emulator) SaveState() (json.RawMessage, error) {
	return json.Marshal(e.state)
}

// LoadState restores SaveState's output.
func (e *Emulator) LoadState(raw json.RawMessage) error {
	st := newState()
	if err := json.Unmarshal(raw, st); err != nil {
		return fmt.Errorf("ssp state: %w", err)
	}
	if st.SensorTokens == nil {
		st.SensorTokens = []*sensorToken{}
	}
	if st.BaremetalTokens == nil {
		st.BaremetalTokens = []*baremetalToken{}
	}
	if st.Sensors == nil {
		st.Sensors = []*sensor{}
	}
	if st.BaremetalServers == nil {
		st.BaremetalServers = []*bmServer{}
	}
	if st.BaremetalTasks == nil {
		st.BaremetalTasks = []*bmTask{}
	}
	if st.SeededOverlay == nil {
		st.SeededOverlay = map[string]*overlay{}
	}
	e.state = st
	e.reindex()
	return nil
}

// reindex rebuilds the overlay's index views after a change. Overlay entries
// whose id is no seeded sensor of the current seed (the state was written
// with another --seed or --seed-sensors) stay in the state but do nothing.
func (e *Emulator) reindex() {
	e.overlayIdx = map[int]*overlay{}
	e.deletedIdx = e.deletedIdx[:0]
	for id, o := range e.state.SeededOverlay {
		i, ok := e.seed.index(id)
		if !ok {
			continue
		}
		e.overlayIdx[i] = o
		if o.Deleted {
			e.deletedIdx = append(e.deletedIdx, i)
		}
	}
	slices.Sort(e.deletedIdx)
}
