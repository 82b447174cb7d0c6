package wait

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// MaxNameFilter bounds the display_name filter of the status-detail query:
// with more of the token's servers than this, the query scans every server
// instead of naming them (a body of a few kilobytes either way).
const MaxNameFilter = 1000

// Baremetal watches a baremetal registration token. A round is the token's
// status call, and for registered and healthy one scan of GET
// /baremetal/servers (all pages; no filter takes a token id, so servers are
// matched on registration_token_id here) and, when the token has servers,
// one POST /baremetal/servers-status-detail query (all pages) for their lcm
// status, lcm_error, connectivity and agent health.
type Baremetal struct {
	Client  *ssp.Client
	TokenID string
	// PageSize of the scans; 0 leaves the server's default (1000).
	PageSize int
}

// Round implements Source.
func (b *Baremetal) Round(ctx context.Context, cond string) (Snapshot, error) {
	raw, err := b.Client.GetBaremetalTokenStatus(ctx, b.TokenID)
	if err != nil {
		return Snapshot{}, err
	}
	var st struct {
		Status    string `json:"status"`
		Allowed   *int64 `json:"allowed_instance_count"`
		Remaining *int64 `json:"remaining_instance_count"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{TokenStatus: st.Status, Usage: -1, Remaining: -1}
	if st.Remaining != nil {
		snap.Remaining = *st.Remaining
		if st.Allowed != nil {
			snap.Usage = *st.Allowed - *st.Remaining
		}
	}
	if cond == Used {
		return snap, nil
	}
	index := map[string]int{}
	_, err = b.Client.ListBaremetalServers(ctx, ssp.ListQuery{}, client.Pager{PageSize: b.PageSize}, func(raw json.RawMessage) error {
		var s ssp.Server
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		if s.RegistrationTokenID != b.TokenID || s.State == ssp.ServerTerminating || s.State == ssp.ServerTerminated {
			return nil
		}
		if _, dup := index[s.ID]; dup {
			return nil
		}
		index[s.ID] = len(snap.Hosts)
		snap.Hosts = append(snap.Hosts, Host{ID: s.ID, DisplayName: s.DisplayName, State: s.State, Registered: true})
		return nil
	})
	if err != nil || len(snap.Hosts) == 0 {
		return snap, err
	}
	req := ssp.ServerDetailsRequest{}
	names := map[string]bool{}
	for _, h := range snap.Hosts {
		if h.DisplayName == "" {
			names = nil // a server without a name cannot be named: scan all
			break
		}
		if !names[h.DisplayName] {
			names[h.DisplayName] = true
			req.DisplayName = append(req.DisplayName, h.DisplayName)
		}
	}
	if names == nil || len(req.DisplayName) > MaxNameFilter {
		req.DisplayName = nil
	}
	_, err = b.Client.QueryBaremetalServerDetails(ctx, req, client.Pager{PageSize: b.PageSize}, func(raw json.RawMessage) error {
		var s ssp.ServerStatus
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		i, ok := index[s.ID]
		if !ok {
			return nil
		}
		h := &snap.Hosts[i]
		h.LCMStatus, h.LCMOperation, h.LCMError = s.LCMStatus, s.LCMOperation, s.LCMError
		h.Connectivity, h.Health = s.ConnectivityStatus, s.OverallHealth()
		h.Failed = s.LCMStatus == ssp.LCMFailed || s.LCMStatus == ssp.LCMAborted
		h.Installed = s.LCMStatus == ssp.LCMSuccess
		h.Healthy = h.Installed && s.ConnectivityStatus == ssp.ConnectivityUp && s.OverallHealth() == ssp.HealthOK
		return nil
	})
	return snap, err
}

// Sensor watches a sensor registration token. A round is the token's GET
// (status, usage_count, number_available), and for registered and healthy
// one scan of GET /sensors/appliances/details (all pages), matched on
// sensor_info.token_id.
type Sensor struct {
	Client   *ssp.Client
	TokenID  string
	PageSize int
}

// Round implements Source.
func (s *Sensor) Round(ctx context.Context, cond string) (Snapshot, error) {
	raw, err := s.Client.GetSensorToken(ctx, s.TokenID)
	if err != nil {
		return Snapshot{}, err
	}
	var tok struct {
		Status          string `json:"status"`
		UsageCount      *int64 `json:"usage_count"`
		NumberAvailable *int64 `json:"number_available"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{TokenStatus: tok.Status, Usage: -1, Remaining: -1}
	if tok.UsageCount != nil {
		snap.Usage = *tok.UsageCount
	}
	if tok.NumberAvailable != nil {
		snap.Remaining = *tok.NumberAvailable
	}
	if cond == Used {
		return snap, nil
	}
	_, err = s.Client.ListSensorDetails(ctx, ssp.ListQuery{}, ssp.DetailsFilter{}, client.Pager{PageSize: s.PageSize}, func(raw json.RawMessage) error {
		var d struct {
			Info struct {
				ID          string `json:"id"`
				DisplayName string `json:"display_name"`
				TokenID     string `json:"token_id"`
			} `json:"sensor_info"`
			Status struct {
				Registration string `json:"registration_status"`
				Health       string `json:"health"`
			} `json:"sensor_status"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			return err
		}
		if d.Info.TokenID != s.TokenID {
			return nil
		}
		reg := strings.ToUpper(d.Status.Registration)
		h := Host{ID: d.Info.ID, DisplayName: d.Info.DisplayName, State: d.Status.Registration, Health: d.Status.Health,
			Registered: reg == "REGISTERED", Failed: reg == "FAILED"}
		h.Installed = h.Registered
		h.Healthy = h.Registered && strings.EqualFold(d.Status.Health, "OK")
		snap.Hosts = append(snap.Hosts, h)
		return nil
	})
	return snap, err
}
