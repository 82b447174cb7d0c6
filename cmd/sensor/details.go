package sensor

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// DetailsOptions are `sensor details`'s inputs.
type DetailsOptions struct {
	cmdutil.Verb

	cmdutil.ListFlags
	DisplayName        string
	RegistrationStatus string
	Health             string
	FlowsEnabled       bool
	IDSEnabled         bool
	MPSEnabled         bool
	PCAPEnabled        bool
	SensorIDs          []string
	SoftwareVersions   []string
}

// NewCmdDetails builds `sensor details` (GET /sensors/appliances/details).
func NewCmdDetails(f *cmdutil.Factory, runF func(*DetailsOptions) error) *cobra.Command {
	opts := &DetailsOptions{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "details",
		Short: "List sensors with health, version, features and networking (ssp)",
		Long: `List sensors with everything the SSP knows about each (ListSensorDetails): registration
status, health, software version, IDS/PCAP, flow and MPS reporting, IDS signature bundle
and networking. Every vendor filter is a flag; the filters combine with AND, and the
values of a repeated --sensor-ids or --software-versions combine with OR.

--software-versions takes the vendor's patterns: a wildcard (5.*, 5.2.*), an exact dotted
version (5.2.0.0.0.25398843) or a comparison (<5.2, >5.1.1); comparisons pad missing parts
with 0, so >5.2 means above 5.2.0.0.0.0.

The table shows name, id, registration status and health (fits 80 columns); -o wide adds
software version, IDS, flows, MPS, signature bundle and host name. JSON output is an array
of the vendor's SensorDetail objects, streamed; -o id prints sensor ids. Sortable by the
server (--sort-by): ` + strings.Join(ssp.SensorDetailSortFields, ", ") + `; by tokenctl, after
reading every sensor: a column (name, registration, health, version, ...).`,
		Example: `  tokenctl sensor details --health degraded
  tokenctl sensor details -o wide --sort-by version
  tokenctl sensor details --software-versions '<5.2' -o id
  tokenctl sensor details --ids-enabled=false --registration-status registered
  tokenctl sensor details --sensor-ids ID1 --sensor-ids ID2 -o json`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, detailsRun),
	}
	opts.ListFlags.Register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&opts.DisplayName, "display-name", "", "only sensors with this display_name")
	fl.StringVar(&opts.RegistrationStatus, "registration-status", "", "registration_status: "+strings.Join(ssp.RegistrationStatusValues, ", "))
	fl.StringVar(&opts.Health, "health", "", "health: "+strings.Join(ssp.HealthValues, ", "))
	fl.BoolVar(&opts.FlowsEnabled, "flows-enabled", false, "flows_enabled: only sensors with flow reporting on (=false: off)")
	fl.BoolVar(&opts.IDSEnabled, "ids-enabled", false, "ids_enabled: only sensors with IDS event reporting on (=false: off)")
	fl.BoolVar(&opts.MPSEnabled, "mps-enabled", false, "mps_enabled: only sensors with malware-prevention reporting on (=false: off)")
	fl.BoolVar(&opts.PCAPEnabled, "pcap-enabled", false, "pcap_enabled: only sensors capturing packets for IDS events (=false: not)")
	fl.StringSliceVar(&opts.SensorIDs, "sensor-ids", nil, "sensor_ids: only these sensors (repeat the flag or separate with commas)")
	fl.StringSliceVar(&opts.SoftwareVersions, "software-versions", nil, "software_versions: 5.*, 5.2.*, an exact version, <5.2 or >5.1 (repeatable; ORed)")
	cmdutil.CompleteSortBy(cmd, ssp.SensorDetailSortFields, detailKind())
	cmdutil.CompleteFlag(cmd, "registration-status", cmdutil.FixedValues(ssp.RegistrationStatusValues...))
	cmdutil.CompleteFlag(cmd, "health", cmdutil.FixedValues(ssp.HealthValues...))
	return cmd
}

func detailsRun(opts *DetailsOptions) error {
	kind := detailKind()
	filter, problems := opts.filter()
	ctx, sc, o, err := opts.StartSSP(opts.Factory, opts.Cmd, kind, ssp.SensorDetailSortFields, problems)
	if err != nil {
		return err
	}
	q := opts.SSPQuery(opts.Cmd, opts.DisplayName)
	return opts.Stream(opts.Factory, o, kind, func(p client.Pager, add func(json.RawMessage) error) (client.PageResult, error) {
		return sc.ListSensorDetails(ctx, q, filter, p, add)
	})
}

// filter turns the flags into the vendor's filters, checking the documented
// values. Enum values are matched case-insensitively and sent in the lower
// case the filter docs use. Boolean filters are sent only when given, so
// --ids-enabled=false filters on false.
func (opts *DetailsOptions) filter() (ssp.DetailsFilter, []exit.Problem) {
	var ps []exit.Problem
	var df ssp.DetailsFilter
	enum := func(flag, value string, allowed []string) string {
		if value == "" {
			return ""
		}
		v := strings.ToLower(value)
		if !slices.Contains(allowed, v) {
			ps = append(ps, exit.Problem{Field: "--" + flag, Rule: fmt.Sprintf("%q is not one of %s", value, strings.Join(allowed, ", "))})
		}
		return v
	}
	df.RegistrationStatus = enum("registration-status", opts.RegistrationStatus, ssp.RegistrationStatusValues)
	df.Health = enum("health", opts.Health, ssp.HealthValues)
	for _, b := range []struct {
		flag  string
		value bool
		dst   **bool
	}{
		{"flows-enabled", opts.FlowsEnabled, &df.FlowsEnabled},
		{"ids-enabled", opts.IDSEnabled, &df.IDSEnabled},
		{"mps-enabled", opts.MPSEnabled, &df.MPSEnabled},
		{"pcap-enabled", opts.PCAPEnabled, &df.PCAPEnabled},
	} {
		if cmdutil.Changed(opts.Cmd, b.flag) {
			v := b.value
			*b.dst = &v
		}
	}
	for _, id := range opts.SensorIDs {
		if id = strings.TrimSpace(id); id == "" {
			ps = append(ps, exit.Problem{Field: "--sensor-ids", Rule: "an empty id was given"})
			continue
		}
		df.SensorIDs = append(df.SensorIDs, id)
	}
	for _, v := range opts.SoftwareVersions {
		v = strings.TrimSpace(v)
		if rule := ssp.CheckVersionFilter(v); rule != "" {
			ps = append(ps, exit.Problem{Field: "--software-versions", Rule: fmt.Sprintf("%q: %s", v, rule)})
			continue
		}
		df.SoftwareVersions = append(df.SoftwareVersions, v)
	}
	return df, ps
}
