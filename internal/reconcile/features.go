package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// featureCall is one feature-config call a sensor needs.
type featureCall struct {
	feature ssp.Feature
	action  string
}

// featureState is a sensor's SensorFeatureConfig as far as the documents
// manage it.
type featureState struct {
	ids, pcap, flows, mps bool
}

type selectedSensor struct {
	id, name string
	cur      featureState
}

// idsPerRead bounds the sensor_ids of one details request (each id is
// repeated in the URL).
const idsPerRead = 50

// readSelected lists the sensors a selector picks, with their features
// (ListSensorDetails, every page).
func readSelected(ctx context.Context, sc *ssp.Client, f *featuresSpec) ([]selectedSensor, error) {
	var out []selectedSensor
	seen := map[string]bool{}
	read := func(filter ssp.DetailsFilter) error {
		_, err := sc.ListSensorDetails(ctx, ssp.ListQuery{DisplayName: f.displayName}, filter, client.Pager{}, func(raw json.RawMessage) error {
			var d struct {
				SensorInfo struct {
					ID          string `json:"id"`
					DisplayName string `json:"display_name"`
				} `json:"sensor_info"`
				Config struct {
					IDSEnabled bool `json:"ids_enabled"`
					IDSConfig  struct {
						PCAPEnabled bool `json:"pcap_enabled"`
					} `json:"ids_config"`
					FlowsEnabled bool `json:"flows_enabled"`
					MPSEnabled   bool `json:"mps_enabled"`
				} `json:"sensor_feature_config"`
			}
			if err := json.Unmarshal(raw, &d); err != nil {
				return fmt.Errorf("list sensor details: unexpected response (not the documented JSON): %w", err)
			}
			key := strings.ToLower(d.SensorInfo.ID)
			if key == "" || seen[key] {
				return nil
			}
			seen[key] = true
			out = append(out, selectedSensor{id: d.SensorInfo.ID, name: d.SensorInfo.DisplayName, cur: featureState{
				ids: d.Config.IDSEnabled, pcap: d.Config.IDSConfig.PCAPEnabled, flows: d.Config.FlowsEnabled, mps: d.Config.MPSEnabled}})
			return nil
		})
		return err
	}
	if len(f.filter.SensorIDs) == 0 {
		return out, read(f.filter)
	}
	for _, chunk := range ssp.Batches(f.filter.SensorIDs, idsPerRead) {
		filter := f.filter
		filter.SensorIDs = chunk
		if err := read(filter); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// claim is one sensor's desired state, merged over the documents that
// select it; the first of them owns its step.
type claim struct {
	sensor  selectedSensor
	want    featureWant
	sources [4]string // which document set ids, pcap, flows, mps
}

// planFeatures reads each selector's sensors and plans, per sensor whose
// state differs, the feature-config calls that bring it to the documents'
// state. A sensor that two documents select gets one step, unless they
// want different states of the same feature (exit 2).
func planFeatures(ctx context.Context, sc *ssp.Client, docs []*Document, steps map[*Document][]Step) ([]string, error) {
	var warnings []string
	var ps []exit.Problem
	claims := map[string]*claim{}
	owned := map[*Document][]*claim{}
	for _, d := range docs {
		sensors, err := readSelected(ctx, sc, d.features)
		if err != nil {
			return nil, err
		}
		if ids := d.features.filter.SensorIDs; len(ids) > 0 {
			found := map[string]bool{}
			for _, s := range sensors {
				found[strings.ToLower(s.id)] = true
			}
			var missing []string
			for _, id := range ids {
				if !found[strings.ToLower(id)] {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				warnings = append(warnings, fmt.Sprintf("%s: selector.sensor_ids: %d of the sensors are not on the SSP (or do not match the other filters): %s",
					d.Source, len(missing), strings.Join(missing, ", ")))
			}
		}
		for _, s := range sensors {
			key := strings.ToLower(s.id)
			c, ok := claims[key]
			if !ok {
				c = &claim{sensor: s}
				claims[key] = c
				owned[d] = append(owned[d], c)
			}
			ps = append(ps, c.merge(d, s)...)
		}
	}
	if err := exit.Problems(ps); err != nil {
		return nil, err
	}
	for _, d := range docs {
		var out []Step
		unchanged := 0
		for _, c := range owned[d] {
			changes, calls := featureDiff(c.sensor.cur, c.want)
			if len(calls) == 0 {
				unchanged++
				continue
			}
			out = append(out, Step{Source: d.Source, Kind: d.Kind, Name: c.sensor.name, ID: c.sensor.id, Action: Update, Changes: changes, calls: calls, doc: d})
		}
		if unchanged > 0 || len(out) == 0 {
			n := unchanged
			out = append(out, Step{Source: d.Source, Kind: d.Kind, Name: d.Key, Action: Unchanged, Count: &n, doc: d})
		}
		steps[d] = out
	}
	return warnings, nil
}

// merge adds a document's wishes to a sensor's claim and reports a feature
// that an earlier document wants in another state.
func (c *claim) merge(d *Document, s selectedSensor) []exit.Problem {
	var ps []exit.Problem
	w := d.features.want
	fields := []struct {
		name string
		dst  **bool
		v    *bool
	}{{"ids_enabled", &c.want.ids, w.ids}, {"ids_config.pcap_enabled", &c.want.pcap, w.pcap}, {"flows_enabled", &c.want.flows, w.flows}, {"mps_enabled", &c.want.mps, w.mps}}
	for i, f := range fields {
		if f.v == nil {
			continue
		}
		if *f.dst != nil && **f.dst != *f.v {
			ps = append(ps, exit.Problem{Source: d.Source, Field: f.name, Rule: fmt.Sprintf("sensor %s (%s) is also selected by %s, which sets %s: %t",
				s.name, s.id, c.sources[i], f.name, **f.dst)})
			continue
		}
		if *f.dst == nil {
			v := *f.v
			*f.dst, c.sources[i] = &v, d.Source
		}
	}
	return ps
}

// featureDiff compares a sensor's features with the wanted ones and
// returns the differences and the calls that remove them: IDS with or
// without packet capture, or off; flows on or off; MPS on or off.
func featureDiff(cur featureState, w featureWant) ([]Change, []featureCall) {
	var changes []Change
	var calls []featureCall
	if w.ids != nil {
		switch {
		case *w.ids && (!cur.ids || (w.pcap != nil && cur.pcap != *w.pcap)):
			if !cur.ids {
				changes = append(changes, Change{Field: "ids_enabled", Old: false, New: true})
			}
			pcap := w.pcap != nil && *w.pcap
			if cur.pcap != pcap {
				changes = append(changes, Change{Field: "ids_config.pcap_enabled", Old: cur.pcap, New: pcap})
			}
			action := "enable_without_pcap"
			if pcap {
				action = "enable_with_pcap"
			}
			calls = append(calls, featureCall{ssp.FeatureIDS, action})
		case !*w.ids && cur.ids:
			changes = append(changes, Change{Field: "ids_enabled", Old: true, New: false})
			calls = append(calls, featureCall{ssp.FeatureIDS, "disable"})
		}
	}
	onOff := func(field string, want *bool, cur bool, f ssp.Feature) {
		if want == nil || *want == cur {
			return
		}
		changes = append(changes, Change{Field: field, Old: cur, New: *want})
		action := "disable"
		if *want {
			action = "enable"
		}
		calls = append(calls, featureCall{f, action})
	}
	onOff("flows_enabled", w.flows, cur.flows, ssp.FeatureFlows)
	onOff("mps_enabled", w.mps, cur.mps, ssp.FeatureMPS)
	return changes, calls
}
