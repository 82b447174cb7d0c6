package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// poolToken is what a pool needs to know of one existing token.
type poolToken struct {
	ID          string
	DisplayName string
	Description string
	Status      string
	Remaining   int64
	Allowed     int64
	Expiration  int64  // epoch ms
	ExpiryMins  *int64 // baremetal, read only when a document sets it
}

// readPools lists the tokens of a type once, keeping those whose
// display_name is a document's: one list scan, however many documents.
// (The vendor's display_name filter may not be an exact match, so names
// are compared here.)
func readPools(ctx context.Context, sc *ssp.Client, typ string, docs []*Document) (map[string][]poolToken, error) {
	names := map[string]bool{}
	needExpiry := false
	for _, d := range docs {
		names[d.pool.displayName] = true
		if d.pool.expiryMins != nil {
			needExpiry = true
		}
	}
	out := map[string][]poolToken{}
	all := client.Pager{} // every page
	if typ == ssp.Sensor {
		_, err := sc.ListSensorTokens(ctx, ssp.ListQuery{}, "", all, func(raw json.RawMessage) error {
			var t struct {
				ID                   string `json:"id"`
				DisplayName          string `json:"display_name"`
				Description          string `json:"description"`
				Status               string `json:"status"`
				AllowedInstanceCount int64  `json:"allowed_instance_count"`
				UsageCount           *int64 `json:"usage_count"`
				NumberAvailable      *int64 `json:"number_available"`
				Expiration           int64  `json:"expiration"`
			}
			if err := json.Unmarshal(raw, &t); err != nil {
				return fmt.Errorf("list sensor registration tokens: unexpected response (not the documented JSON): %w", err)
			}
			if !names[t.DisplayName] {
				return nil
			}
			remaining := t.AllowedInstanceCount
			switch {
			case t.NumberAvailable != nil:
				remaining = *t.NumberAvailable
			case t.UsageCount != nil:
				remaining = max(0, t.AllowedInstanceCount-*t.UsageCount)
			}
			out[t.DisplayName] = append(out[t.DisplayName], poolToken{ID: t.ID, DisplayName: t.DisplayName, Description: t.Description,
				Status: t.Status, Remaining: remaining, Allowed: t.AllowedInstanceCount, Expiration: t.Expiration})
			return nil
		})
		return out, err
	}
	// Baremetal: status, remaining and expiry are in TokenStatusInfo (the
	// statuses list); expiry_time_since_creation_mins only in
	// RegistrationToken (the tokens list).
	_, err := sc.ListBaremetalTokenStatuses(ctx, ssp.ListQuery{}, "", all, func(raw json.RawMessage) error {
		var t struct {
			ID                     string `json:"id"`
			DisplayName            string `json:"display_name"`
			Description            string `json:"description"`
			Status                 string `json:"status"`
			AllowedInstanceCount   int64  `json:"allowed_instance_count"`
			RemainingInstanceCount int64  `json:"remaining_instance_count"`
			ExpirationTimestamp    int64  `json:"expiration_timestamp"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("list baremetal registration token statuses: unexpected response (not the documented JSON): %w", err)
		}
		if names[t.DisplayName] {
			out[t.DisplayName] = append(out[t.DisplayName], poolToken{ID: t.ID, DisplayName: t.DisplayName, Description: t.Description,
				Status: t.Status, Remaining: t.RemainingInstanceCount, Allowed: t.AllowedInstanceCount, Expiration: t.ExpirationTimestamp})
		}
		return nil
	})
	if err != nil || !needExpiry {
		return out, err
	}
	expiry := map[string]int64{}
	_, err = sc.ListBaremetalTokens(ctx, ssp.ListQuery{}, all, func(raw json.RawMessage) error {
		var t struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
			ExpiryMins  *int64 `json:"expiry_time_since_creation_mins"`
		}
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("list baremetal registration tokens: unexpected response (not the documented JSON): %w", err)
		}
		if names[t.DisplayName] && t.ExpiryMins != nil {
			expiry[t.ID] = *t.ExpiryMins
		}
		return nil
	})
	for name, toks := range out {
		for i := range toks {
			if m, ok := expiry[toks[i].ID]; ok {
				out[name][i].ExpiryMins = &m
			}
		}
	}
	return out, err
}

func planPools(ctx context.Context, sc *ssp.Client, typ string, docs []*Document, opts PlanOptions, steps map[*Document][]Step) error {
	tokens, err := readPools(ctx, sc, typ, docs)
	if err != nil {
		return err
	}
	now := opts.Now()
	for _, d := range docs {
		steps[d] = planPool(d, tokens[d.pool.displayName], now, opts.Prune)
	}
	return nil
}

// judged is a token with what keeps it from being the pool's current one.
type judged struct {
	poolToken
	// unusable: why it cannot register what the document asks for.
	unusable []string
	// changes: the document's fields it does not have.
	changes []Change
}

// planPool decides a pool: the current token is the usable one that has
// the document's fields with most remaining instances, then latest expiry.
// (Choosing among the tokens that match the document keeps a second run
// from replacing again a token that was just created, while an older one
// with other fields still has more instances left.) None usable, or none
// with the document's fields: replace (create when the name has no token
// at all). --prune deletes every other token of the name.
func planPool(d *Document, tokens []poolToken, now time.Time, prune bool) []Step {
	p := d.pool
	base := Step{Source: d.Source, Kind: d.Kind, Name: p.displayName, doc: d}
	if len(tokens) == 0 {
		s := base
		s.Action = Create
		return []Step{s}
	}
	js := make([]judged, len(tokens))
	for i, t := range tokens {
		js[i] = judge(p, t, now)
	}
	sort.SliceStable(js, func(i, j int) bool { return better(js[i].poolToken, js[j].poolToken) })
	current := -1
	for i, j := range js {
		if len(j.unusable) == 0 && len(j.changes) == 0 {
			current = i
			break
		}
	}
	var main Step
	switch {
	case current >= 0:
		main = base
		main.Action, main.ID = Unchanged, js[current].ID
	default:
		// Replace the best usable token (its fields differ), else the best
		// of all (none is usable).
		cand := 0
		for i, j := range js {
			if len(j.unusable) == 0 {
				cand = i
				break
			}
		}
		main = base
		main.Action, main.ID = Replace, js[cand].ID
		main.Reasons, main.Changes = append([]string(nil), js[cand].unusable...), js[cand].changes
		for _, ch := range js[cand].changes {
			main.Reasons = append(main.Reasons, ch.Field+" differs")
		}
	}
	out := []Step{main}
	if !prune {
		return out
	}
	for i, j := range js {
		if i == current {
			continue
		}
		s := base
		s.Action, s.ID = Delete, j.ID
		s.Reasons = append([]string(nil), j.unusable...)
		for _, ch := range j.changes {
			s.Reasons = append(s.Reasons, ch.Field+" differs")
		}
		if len(s.Reasons) == 0 {
			s.Reasons = []string{"superseded"}
		}
		if current < 0 && i == indexOf(js, main.ID) {
			s.Reasons = append(s.Reasons, "replaced")
		}
		out = append(out, s)
	}
	return out
}

func indexOf(js []judged, id string) int {
	for i, j := range js {
		if j.ID == id {
			return i
		}
	}
	return -1
}

// better orders a pool's tokens: most remaining instances, then latest
// expiry, then id (so plans are stable).
func better(a, b poolToken) bool {
	if a.Remaining != b.Remaining {
		return a.Remaining > b.Remaining
	}
	if a.Expiration != b.Expiration {
		return a.Expiration > b.Expiration
	}
	return a.ID < b.ID
}

// judge says what keeps a token from being the pool's current one.
func judge(p *poolSpec, t poolToken, now time.Time) judged {
	j := judged{poolToken: t}
	switch t.Status {
	case ssp.StatusAvailable:
		if t.Remaining < p.minRemaining {
			j.unusable = append(j.unusable, fmt.Sprintf("too few remaining: %d, min_remaining %d", t.Remaining, p.minRemaining))
		}
		if p.minLifetime > 0 {
			left := time.UnixMilli(t.Expiration).Sub(now)
			if left < p.minLifetime {
				j.unusable = append(j.unusable, fmt.Sprintf("too short a life: %s left, min_lifetime %s", formatLeft(left), p.minLifetime))
			}
		}
	case "":
		j.unusable = append(j.unusable, "no status")
	default:
		// EXPIRED, USED (and EXHAUSTED, which the Terraform provider's docs
		// name and which means USED).
		j.unusable = append(j.unusable, t.Status)
	}
	if p.description != nil && *p.description != t.Description {
		j.changes = append(j.changes, Change{Field: "description", Old: t.Description, New: *p.description})
	}
	if p.allowed != nil && *p.allowed != t.Allowed {
		j.changes = append(j.changes, Change{Field: "allowed_instance_count", Old: t.Allowed, New: *p.allowed})
	}
	if p.expiryMins != nil && t.ExpiryMins != nil && *p.expiryMins != *t.ExpiryMins {
		j.changes = append(j.changes, Change{Field: "expiry_time_since_creation_mins", Old: *t.ExpiryMins, New: *p.expiryMins})
	}
	return j
}

func formatLeft(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return d.Round(time.Second).String()
}
