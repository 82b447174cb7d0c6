// Package sensor is `tokenctl sensor`: the SSP sensor operations (the 17 of
// the vendor's "Sensor Operations" less the four token ones, which are
// `tokenctl token`, plus the version summary). Sensors exist only on SSP, so
// every verb fails with exit 2 on another platform's profile.
package sensor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// NewCmdSensor builds `tokenctl sensor`.
func NewCmdSensor(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group(&cobra.Command{
		Use:   "sensor <command>",
		Short: "Manage SSP sensors: list, inspect, rename, de-register, features, MPS (ssp)",
		Example: `  tokenctl sensor list
  tokenctl sensor details --health degraded
  tokenctl sensor features set --flows enable 8c147e21-7410-4f77-a3a6-e7aa6034992f`,
		Long: `Manage the NDR sensor appliances registered with an SSP: list them (with health,
version and features in "sensor details"), inspect one, rename it, de-register it, switch
IDS, flow and malware-prevention reporting on many sensors at once, and set which file
types sensors extract for malware analysis. SSP profiles only.`,
	},
		NewCmdList(f, nil),
		NewCmdDetails(f, nil),
		NewCmdGet(f, nil),
		NewCmdUpdate(f, nil),
		NewCmdDelete(f, nil),
		NewCmdStatus(f, nil),
		NewCmdSignatures(f, nil),
		NewCmdFeatures(f, nil),
		NewCmdMPS(f),
		NewCmdVersions(f, nil),
	)
}

// sensorLookup resolves sensor arguments that are not UUIDs as display
// names, with one scan of the sensor list (DESIGN.md, names as IDs).
func sensorLookup(sc *ssp.Client) cmdutil.NameLookup {
	return cmdutil.NameLookup{
		Noun: "sensor",
		Scan: func(ctx context.Context, names []string, add func(cmdutil.Named)) error {
			q := ssp.ListQuery{}
			if len(names) == 1 {
				q.DisplayName = names[0] // the server filters; the match is exact regardless
			}
			_, err := sc.ListSensors(ctx, q, client.Pager{}, func(raw json.RawMessage) error {
				var s struct {
					ID          string `json:"id"`
					DisplayName string `json:"display_name"`
				}
				if err := json.Unmarshal(raw, &s); err != nil {
					return fmt.Errorf("unexpected response: a sensor is not the documented JSON: %w", err)
				}
				add(cmdutil.Named{ID: s.ID, Name: s.DisplayName})
				return nil
			})
			return err
		},
	}
}

// showSensor is the run of the one-sensor reads (get, status, signatures,
// features ID): the argument is an id or a display name.
func showSensor(kind output.Kind, get func(sc *ssp.Client, ctx context.Context, id string) (json.RawMessage, error)) func(*cmdutil.IDOptions) error {
	return func(opts *cmdutil.IDOptions) error {
		return opts.Factory.ShowSSPByID(opts.Cmd, kind, opts.ID, nil, sensorLookup, cmdutil.SSPGet(get))
	}
}

// onOff shows a boolean field as on/off ("" when absent).
func onOff(header, path string) output.Column {
	return output.Column{Header: header, Value: func(it output.Item) string {
		b, ok := it.Bool(path)
		switch {
		case !ok:
			return ""
		case b:
			return "on"
		default:
			return "off"
		}
	}}
}

// idsColumn shows IDS with its PCAP switch: on+pcap, on or off.
func idsColumn(header, idsPath, pcapPath string) output.Column {
	return output.Column{Header: header, Value: func(it output.Item) string {
		on, ok := it.Bool(idsPath)
		switch {
		case !ok:
			return ""
		case !on:
			return "off"
		}
		if pcap, _ := it.Bool(pcapPath); pcap {
			return "on+pcap"
		}
		return "on"
	}}
}

// durationColumn shows milliseconds as a rounded duration (uptime).
func durationColumn(header, path string) output.Column {
	return output.Column{Header: header, Value: func(it output.Item) string {
		ms, ok := it.Int(path)
		if !ok {
			return ""
		}
		return output.Duration(time.Duration(ms) * time.Millisecond)
	}}
}

// mpsTypesColumn lists the file types switched on in an mps_config object.
func mpsTypesColumn(header, prefix string) output.Column {
	return output.Column{Header: header, Value: func(it output.Item) string {
		var on []string
		for _, ft := range ssp.MPSFileTypes {
			if b, ok := it.Bool(prefix + ft); ok && b {
				on = append(on, shortFileType(ft))
			}
		}
		switch len(on) {
		case 0:
			return "none"
		case len(ssp.MPSFileTypes):
			return "all"
		}
		return strings.Join(on, ",")
	}}
}

// shortFileType is "document" for "document_file_type".
func shortFileType(field string) string { return strings.TrimSuffix(field, "_file_type") }

// Output kinds.

func sensorKind() output.Kind {
	return output.Kind{
		Noun:    "sensor",
		IDField: "id",
		Columns: []output.Column{
			output.TextField("NAME", "display_name"),
			output.Field("ID", "id"),
			output.TimeField("REGISTERED", "_create_time"),
			output.TimeField("MODIFIED", "_last_modified_time"),
			output.Field("TOKEN", "token_id").WideOnly(),
			output.Field("REVISION", "_revision").WideOnly(),
			output.TextField("DESCRIPTION", "description").WideOnly(),
		},
	}
}

// detailKind prints SensorDetail: name, id and the two states fit 80
// columns; -o wide adds version, features, signatures and host.
func detailKind() output.Kind {
	return output.Kind{
		Noun:    "sensor",
		IDField: "sensor_info.id",
		Columns: []output.Column{
			output.TextField("NAME", "sensor_info.display_name"),
			output.Field("ID", "sensor_info.id"),
			output.StateField("REGISTRATION", "sensor_status.registration_status"),
			output.StateField("HEALTH", "sensor_status.health"),
			output.Field("VERSION", "appliance_info.software_version").WideOnly(),
			idsColumn("IDS", "sensor_feature_config.ids_enabled", "sensor_feature_config.ids_config.pcap_enabled").WideOnly(),
			onOff("FLOWS", "sensor_feature_config.flows_enabled").WideOnly(),
			onOff("MPS", "sensor_feature_config.mps_enabled").WideOnly(),
			output.Field("SIGNATURES", "appliance_ids_signature_info.ids_signature_bundle_version").WideOnly(),
			output.TextField("HOST", "appliance_networking_info.host_name").WideOnly(),
		},
	}
}

func statusKind() output.Kind {
	return output.Kind{
		Noun: "sensor status",
		Columns: []output.Column{
			output.StateField("REGISTRATION", "registration_status"),
			output.StateField("HEALTH", "health"),
			output.StateField("SNIFFING", "sniffing_health"),
			output.StateField("UPLOADING", "uploading_health"),
			output.StateField("RAPID", "rapid_health"),
			durationColumn("UPTIME", "uptime"),
			output.TimeField("UPDATED", "_last_modified_time"),
		},
	}
}

func signaturesKind() output.Kind {
	return output.Kind{
		Noun:    "sensor IDS signature bundle",
		IDField: "bundle_id",
		Columns: []output.Column{
			output.Field("VERSION", "ids_signature_bundle_version"),
			output.Field("BUNDLE ID", "bundle_id"),
			output.Field("SIGNATURES", "number_of_signatures"),
			output.TimeField("CREATED", "bundle_creation_time"),
			output.TimeField("UPDATED", "_last_modified_time"),
		},
	}
}

func featuresKind() output.Kind {
	return output.Kind{
		Noun: "sensor feature configuration",
		Columns: []output.Column{
			idsColumn("IDS", "ids_enabled", "ids_config.pcap_enabled"),
			onOff("FLOWS", "flows_enabled"),
			onOff("MPS", "mps_enabled"),
			mpsTypesColumn("MPS FILE TYPES", "mps_config."),
		},
	}
}

func mpsKind() output.Kind {
	cols := make([]output.Column, len(ssp.MPSFileTypes))
	for i, ft := range ssp.MPSFileTypes {
		cols[i] = onOff(strings.ToUpper(shortFileType(ft)), ft)
	}
	return output.Kind{Noun: "MPS global configuration", Columns: cols}
}

func versionsKind() output.Kind {
	return output.Kind{
		Noun:    "sensor version",
		IDField: "software_version",
		Columns: []output.Column{
			output.Field("VERSION", "software_version"),
			output.Field("SENSORS", "count"),
		},
	}
}
