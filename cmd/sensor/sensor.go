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

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// NewCmdSensor builds `tokenctl sensor`.
func NewCmdSensor(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sensor <command>",
		Short: "Manage SSP sensors: list, inspect, rename, de-register, features, MPS (ssp)",
		Long: `Manage the NDR sensor appliances registered with an SSP: list them (with health,
version and features in "sensor details"), inspect one, rename it, de-register it, switch
IDS, flow and malware-prevention reporting on many sensors at once, and set which file
types sensors extract for malware analysis. SSP profiles only.`,
		Args: cobra.ArbitraryArgs,
		RunE: cmdutil.GroupRunE,
	}
	cmd.AddCommand(
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
	return cmd
}

// sspOnly resolves the profile and rejects every platform but SSP.
func sspOnly(f *cmdutil.Factory, cmd *cobra.Command) error {
	p, err := f.Profile()
	if err != nil {
		return err
	}
	if p.Platform != config.SSP {
		return cmdutil.Unsupported(cmd, p.Platform, config.SSP)
	}
	return nil
}

// outputFor validates -o for a kind before anything is sent: -o id,
// manifest and secret need the field the kind prints for them.
func outputFor(f *cmdutil.Factory, kind output.Kind) (output.Options, error) {
	o, err := f.OutputOptions()
	if err != nil {
		return o, err
	}
	field := map[string]string{output.ID: kind.IDField, output.Manifest: kind.ManifestField, output.Secret: kind.SecretField}
	if name, special := field[o.Format]; special && name == "" && !o.DropEnvFormat() {
		return o, exit.Usagef("-o %s does not apply to a %s; use -o table, json or yaml", o.Format, kind.Noun)
	}
	return o, nil
}

// connect connects the profile (starting the built-in sandbox if needed).
func connect(f *cmdutil.Factory, cmd *cobra.Command) (context.Context, *ssp.Client, error) {
	ctx := cmdutil.Context(cmd)
	c, _, err := f.APIClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	return ctx, ssp.New(c), nil
}

// oneID reads the single ID argument ("-" reads it from stdin).
func oneID(f *cmdutil.Factory, cmd *cobra.Command, args []string) (string, error) {
	ids, err := f.ReadIDs(args)
	if err != nil {
		return "", err
	}
	if len(ids) != 1 {
		return "", exit.Usagef("%s takes one ID; stdin had %d", cmd.CommandPath(), len(ids))
	}
	return ids[0], nil
}

// getOne is the run of the single-sensor reads (get, status, signatures,
// features ID): validate, connect, fetch, print.
func getOne(f *cmdutil.Factory, cmd *cobra.Command, id string, kind output.Kind,
	fetch func(ctx context.Context, sc *ssp.Client, id string) (json.RawMessage, error)) error {
	if err := sspOnly(f, cmd); err != nil {
		return err
	}
	o, err := outputFor(f, kind)
	if err != nil {
		return err
	}
	ctx, sc, err := connect(f, cmd)
	if err != nil {
		return err
	}
	raw, err := fetch(ctx, sc, id)
	if err != nil {
		return err
	}
	return f.Printer(o).Object(raw, kind)
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
		return humanDuration(time.Duration(ms) * time.Millisecond)
	}}
}

// humanDuration renders d as days, hours and minutes: 3d4h, 5h12m, 42m, 15s.
func humanDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), (d%(24*time.Hour))/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return fmt.Sprintf("%ds", d/time.Second)
	}
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
			output.Field("NAME", "display_name"),
			output.Field("ID", "id"),
			output.Field("TOKEN", "token_id"),
			output.Field("REVISION", "_revision"),
			output.TimeField("REGISTERED", "_create_time"),
			output.TimeField("MODIFIED", "_last_modified_time"),
		},
	}
}

func detailKind() output.Kind {
	return output.Kind{
		Noun:    "sensor",
		IDField: "sensor_info.id",
		Columns: []output.Column{
			output.Field("NAME", "sensor_info.display_name"),
			output.Field("ID", "sensor_info.id"),
			output.Field("HEALTH", "sensor_status.health"),
			output.Field("REGISTRATION", "sensor_status.registration_status"),
			output.Field("VERSION", "appliance_info.software_version"),
			idsColumn("IDS", "sensor_feature_config.ids_enabled", "sensor_feature_config.ids_config.pcap_enabled"),
			onOff("FLOWS", "sensor_feature_config.flows_enabled"),
			onOff("MPS", "sensor_feature_config.mps_enabled"),
			output.Field("SIGNATURES", "appliance_ids_signature_info.ids_signature_bundle_version"),
			output.Field("HOST", "appliance_networking_info.host_name"),
		},
	}
}

func statusKind() output.Kind {
	return output.Kind{
		Noun: "sensor status",
		Columns: []output.Column{
			output.Field("REGISTRATION", "registration_status"),
			output.Field("HEALTH", "health"),
			output.Field("SNIFFING", "sniffing_health"),
			output.Field("UPLOADING", "uploading_health"),
			output.Field("RAPID", "rapid_health"),
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
			output.Field("SIGNATURES", "number_of_signatures"),
			output.Field("BUNDLE ID", "bundle_id"),
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
