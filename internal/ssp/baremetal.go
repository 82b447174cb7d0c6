package ssp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// Baremetal display names: the create schema (Resource) allows up to 255
// characters, but the same token's TokenStatusInfo, which is where its
// manifest comes from, allows only 3 to 64. A name outside 3..64 would make
// a token whose status breaks the vendor's schema, so both limits apply.
const (
	MinBaremetalDisplayName = 3
	MaxBaremetalDisplayName = 64
)

// BaremetalTokenRequest is the body of POST /baremetal/registration-tokens:
// the fields of RegistrationToken that a client sets. The schema admits no
// other properties.
type BaremetalTokenRequest struct {
	DisplayName          string `json:"display_name"`
	Description          string `json:"description,omitempty"`
	AllowedInstanceCount *int64 `json:"allowed_instance_count,omitempty"`
	Passphrase           string `json:"passphrase"`
	// ExpiryTimeSinceCreationMins is the token's life in minutes; the
	// vendor's default is 30.
	ExpiryTimeSinceCreationMins *int64 `json:"expiry_time_since_creation_mins,omitempty"`
}

// Validate applies the vendor's documented rules, naming each field: the
// Token rules (display_name and passphrase required, passphrase 15..128 with
// the four character classes, description up to 1024), display_name 3..64
// (see MinBaremetalDisplayName), allowed_instance_count >= 1, and a positive
// expiry: the spec gives neither field bounds (INFERRED: a token that no
// appliance may use, or that expires when it is made, registers nothing;
// the sandbox refuses both too).
func (r *BaremetalTokenRequest) Validate(source string) []exit.Problem {
	ps := validateToken(source, r.DisplayName, r.Description, r.Passphrase)
	if n := utf8.RuneCountInString(r.DisplayName); strings.TrimSpace(r.DisplayName) != "" && (n < MinBaremetalDisplayName || n > MaxBaremetalDisplayName) {
		// Replace validateToken's 255 rule with the tighter one.
		kept := ps[:0]
		for _, p := range ps {
			if p.Field != "display_name" {
				kept = append(kept, p)
			}
		}
		ps = append([]exit.Problem{{Source: source, Field: "display_name", Rule: fmt.Sprintf("must be %d to %d characters for a baremetal token (it has %d)", MinBaremetalDisplayName, MaxBaremetalDisplayName, n)}}, kept...)
	}
	ps = append(ps, checkAllowedInstances(source, r.AllowedInstanceCount)...)
	if r.ExpiryTimeSinceCreationMins != nil && *r.ExpiryTimeSinceCreationMins < 1 {
		ps = append(ps, exit.Problem{Source: source, Field: "expiry_time_since_creation_mins", Rule: "must be a positive number of minutes (--expiry-minutes)"})
	}
	return ps
}

// CreateBaremetalToken creates a baremetal registration token (201 with the
// RegistrationToken, which carries no status or manifest: those come from
// GetBaremetalTokenStatus). The passphrase is registered with the redactor
// first.
func (s *Client) CreateBaremetalToken(ctx context.Context, req *BaremetalTokenRequest) (json.RawMessage, error) {
	s.c.Redactor().AddSecret(req.Passphrase)
	const op = "create baremetal registration token"
	resp, err := s.c.Do(ctx, client.Call{Operation: op, Method: http.MethodPost, Path: "/baremetal/registration-tokens", Body: req})
	if err != nil {
		return nil, err
	}
	return createdBody(op, resp)
}

// GetBaremetalToken fetches one RegistrationToken.
func (s *Client) GetBaremetalToken(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get baremetal registration token "+id, "/baremetal/registration-tokens/"+pathID(id))
}

// DeleteBaremetalToken deletes a baremetal registration token (202;
// idempotent). gone reports a 404.
func (s *Client) DeleteBaremetalToken(ctx context.Context, id string) (gone bool, err error) {
	return s.delete(ctx, "delete baremetal registration token "+id, "/baremetal/registration-tokens/"+pathID(id))
}

// GetBaremetalTokenStatus fetches TokenStatusInfo: status, remaining
// instances, expiration and the registration manifest.
func (s *Client) GetBaremetalTokenStatus(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get baremetal registration token status "+id, "/baremetal/registration-tokens/"+pathID(id)+"/status")
}

// ListBaremetalTokens pages through GET /baremetal/registration-tokens.
func (s *Client) ListBaremetalTokens(ctx context.Context, q ListQuery, p client.Pager, fn func(json.RawMessage) error) (client.PageResult, error) {
	return s.list(ctx, "list baremetal registration tokens", "/baremetal/registration-tokens", q, p, fn)
}

// BaremetalStatusValues are the documented values of tokens_status.
var BaremetalStatusValues = []string{StatusAvailable, StatusExpired}

// ListBaremetalTokenStatuses pages through GET
// /baremetal/registration-tokens/statuses (TokenStatusInfo items); status
// filters by tokens_status (AVAILABLE or EXPIRED).
func (s *Client) ListBaremetalTokenStatuses(ctx context.Context, q ListQuery, status string, p client.Pager, fn func(json.RawMessage) error) (client.PageResult, error) {
	if status != "" {
		if q.Extra == nil {
			q.Extra = map[string][]string{}
		}
		q.Extra.Set("tokens_status", status)
	}
	return s.list(ctx, "list baremetal registration token statuses", "/baremetal/registration-tokens/statuses", q, p, fn)
}
