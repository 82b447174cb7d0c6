package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// tokenTypes are the values of --type (ssp).
var tokenTypes = []string{ssp.Sensor, ssp.Baremetal}

// sspType resolves --type: the flag, else the profile's token_type, else
// sensor. explicit is false when neither flag nor profile named one, so ID
// verbs look the id up as a sensor token, then as a baremetal token.
func sspType(flag string, p *config.Resolved) (typ string, explicit bool, err error) {
	typ, explicit = flag, flag != ""
	if typ == "" && p.TokenType != "" {
		typ = p.TokenType
	}
	if typ == "" {
		typ = ssp.Sensor
	}
	if typ != ssp.Sensor && typ != ssp.Baremetal {
		return "", false, exit.Usagef("--type %q: must be sensor or baremetal", typ)
	}
	return typ, explicit, nil
}

// Table columns: NAME, then ID, then state, then the rest; -o wide adds
// the columns marked WideOnly and shows times as local times.

// sensorTokenKind prints sensor registration tokens.
func sensorTokenKind() output.Kind {
	return output.Kind{
		Noun:          "sensor registration token",
		IDField:       "id",
		ManifestField: "registration_manifest",
		Columns: []output.Column{
			output.TextField("NAME", "display_name"),
			output.Field("ID", "id"),
			output.StateField("STATUS", "status"),
			{Header: "USED", SortKey: "usage_count", Value: func(it output.Item) string {
				return it.String("usage_count") + "/" + it.String("allowed_instance_count")
			}},
			output.TimeField("EXPIRES", "expiration"),
			output.Field("AVAILABLE", "number_available").WideOnly(),
			output.TimeField("CREATED", "_create_time").WideOnly(),
			output.TextField("DESCRIPTION", "description").WideOnly(),
		},
	}
}

// sensorStatusKind prints the status view of sensor tokens.
func sensorStatusKind() output.Kind {
	return output.Kind{
		Noun:          "sensor registration token",
		IDField:       "id",
		ManifestField: "registration_manifest",
		Columns: []output.Column{
			output.TextField("NAME", "display_name"),
			output.Field("ID", "id"),
			output.StateField("STATUS", "status"),
			output.Field("USED", "usage_count"),
			output.Field("LEFT", "number_available"),
			output.TimeField("EXPIRES", "expiration"),
		},
	}
}

// baremetalState is a baremetal token's status, joined from the statuses
// list into the token list's table.
type baremetalState struct {
	Status     string `json:"status"`
	Remaining  *int64 `json:"remaining_instance_count"`
	Expiration int64  `json:"expiration_timestamp"`
}

// baremetalTokenKind prints baremetal registration tokens. A
// RegistrationToken has no status: with states (the statuses list read
// into a map by token id, see listSSP) the table shows each token's
// STATUS, REMAINING and EXPIRES from it; without, the token's own fields.
func baremetalTokenKind(states map[string]baremetalState) output.Kind {
	k := output.Kind{
		Noun:    "baremetal registration token",
		IDField: "id",
		Columns: []output.Column{
			output.TextField("NAME", "display_name"),
			output.Field("ID", "id"),
		},
	}
	lifetime := output.Column{Header: "EXPIRY", SortKey: "expiry_time_since_creation_mins", Value: func(it output.Item) string {
		if m := it.String("expiry_time_since_creation_mins"); m != "" {
			return m + "m"
		}
		return ""
	}}
	if states == nil {
		k.Columns = append(k.Columns,
			output.Field("ALLOWED", "allowed_instance_count"),
			lifetime,
			output.TimeField("CREATED", "_create_time"),
			output.TextField("DESCRIPTION", "description").WideOnly(),
		)
		return k
	}
	state := func(it output.Item) (baremetalState, bool) {
		st, ok := states[it.String("id")]
		return st, ok
	}
	k.Columns = append(k.Columns,
		output.Column{Header: "STATUS", State: true, Value: func(it output.Item) string {
			st, _ := state(it)
			return st.Status
		}},
		output.Column{Header: "REMAINING", Value: func(it output.Item) string {
			st, ok := state(it)
			if !ok || st.Remaining == nil {
				return ""
			}
			return strconv.FormatInt(*st.Remaining, 10) + "/" + it.String("allowed_instance_count")
		}},
		output.TimeColumn("EXPIRES", func(it output.Item) (int64, bool) {
			st, ok := state(it)
			return st.Expiration, ok
		}),
		lifetime.WideOnly(),
		output.TimeField("CREATED", "_create_time").WideOnly(),
		output.TextField("DESCRIPTION", "description").WideOnly(),
	)
	return k
}

// baremetalStatusKind prints TokenStatusInfo, the baremetal status view
// (-o install-script is printed by the command from it).
func baremetalStatusKind() output.Kind {
	return output.Kind{
		Noun:          "baremetal registration token",
		IDField:       "id",
		ManifestField: "registration_manifest",
		Extra:         []string{output.InstallScript},
		Columns: []output.Column{
			output.TextField("NAME", "display_name"),
			output.Field("ID", "id"),
			output.StateField("STATUS", "status"),
			{Header: "REMAINING", SortKey: "remaining_instance_count", Value: func(it output.Item) string {
				return it.String("remaining_instance_count") + "/" + it.String("allowed_instance_count")
			}},
			output.TimeField("EXPIRES", "expiration_timestamp"),
		},
	}
}

// createdKind says what a create of a token type prints: a sensor token
// itself; a baremetal token, which comes back without status or manifest,
// also its manifest and install script, from its status.
func createdKind(typ string) output.Kind {
	if typ == ssp.Baremetal {
		k := baremetalTokenKind(nil)
		k.ManifestField = "registration_manifest"
		k.Extra = []string{output.InstallScript}
		return k
	}
	return sensorTokenKind()
}

// sspKind is the output kind of a token type (baremetal: without states).
func sspKind(typ string) output.Kind {
	if typ == ssp.Baremetal {
		return baremetalTokenKind(nil)
	}
	return sensorTokenKind()
}

// isNotFound reports a 404 answer.
func isNotFound(err error) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// sspToken is a token found by id, with its type.
type sspToken struct {
	id  string
	typ string
	raw []byte
}

// findSSPToken fetches id as the given type, or, when the type was not
// given, as a sensor token and then as a baremetal token.
func findSSPToken(ctx context.Context, sc *ssp.Client, id, typ string, explicit bool) (*sspToken, error) {
	return findSSPTokenWith(ctx, sc, id, typ, explicit, getSSPToken)
}

// findSSPTokenWith is findSSPToken with another fetch per type (the status
// calls).
func findSSPTokenWith(ctx context.Context, sc *ssp.Client, id, typ string, explicit bool,
	get func(ctx context.Context, sc *ssp.Client, typ, id string) ([]byte, error)) (*sspToken, error) {
	types := []string{typ}
	if !explicit {
		types = []string{ssp.Sensor, ssp.Baremetal}
	}
	var lastErr error
	for _, t := range types {
		raw, err := get(ctx, sc, t, id)
		if err == nil {
			return &sspToken{id: id, typ: t, raw: raw}, nil
		}
		if !isNotFound(err) {
			return nil, err
		}
		lastErr = err
	}
	if !explicit {
		return nil, exit.Errorf(exit.NotFound, "no sensor or baremetal registration token has id %s", id)
	}
	return nil, lastErr
}

func getSSPToken(ctx context.Context, sc *ssp.Client, typ, id string) ([]byte, error) {
	if typ == ssp.Baremetal {
		return sc.GetBaremetalToken(ctx, id)
	}
	return sc.GetSensorToken(ctx, id)
}

// statusSSPToken fetches a token's status view: a sensor token's GET (its
// status fields are in it), a baremetal token's status call.
func statusSSPToken(ctx context.Context, sc *ssp.Client, typ, id string) ([]byte, error) {
	if typ == ssp.Baremetal {
		return sc.GetBaremetalTokenStatus(ctx, id)
	}
	return sc.GetSensorToken(ctx, id)
}

// liveManifest returns the manifest of an AVAILABLE token, or exit 5.
func liveManifest(info *ssp.TokenInfo, noun string) (string, error) {
	if info.Status != ssp.StatusAvailable {
		return "", exit.Errorf(exit.Conflict, "%s %s is %s: it can no longer register anything; create a new token", noun, info.ID, info.Status)
	}
	if info.RegistrationManifest == "" {
		return "", fmt.Errorf("%s %s has no registration_manifest", noun, info.ID)
	}
	return info.RegistrationManifest, nil
}

// sspTokenLookup resolves token arguments that are not UUIDs as
// display_names (DESIGN.md, names as IDs) with one list scan: of the sensor
// tokens, and of the baremetal statuses list only for names no sensor token
// has (as an id is looked up as a sensor token, then as a baremetal token);
// only the type's list when --type or the profile names it. The pool rule
// picks a name's only AVAILABLE token. token get, status and delete use it,
// and so can any verb that takes an SSP token (token wait).
func sspTokenLookup(sc *ssp.Client, typ string, explicit bool) cmdutil.NameLookup {
	return cmdutil.NameLookup{
		Noun: "registration token",
		Scan: func(ctx context.Context, names []string, add func(cmdutil.Named)) error {
			types := []string{ssp.Sensor, ssp.Baremetal}
			if explicit {
				types = []string{typ}
			}
			left := map[string]bool{}
			for _, n := range names {
				left[n] = true
			}
			for _, t := range types {
				q := ssp.ListQuery{}
				if len(left) == 1 {
					for n := range left {
						q.DisplayName = n // the server filters; the match is exact regardless
					}
				}
				found := map[string]bool{}
				each := func(raw json.RawMessage) error {
					var info ssp.TokenInfo
					if err := json.Unmarshal(raw, &info); err != nil {
						return fmt.Errorf("unexpected response: a token is not the documented JSON: %w", err)
					}
					if left[info.DisplayName] {
						found[info.DisplayName] = true
						add(cmdutil.Named{ID: info.ID, Name: info.DisplayName, Status: info.Status, Type: t, Raw: append(json.RawMessage(nil), raw...)})
					}
					return nil
				}
				var err error
				if t == ssp.Baremetal {
					// The statuses list, which has each token's status.
					_, err = sc.ListBaremetalTokenStatuses(ctx, q, "", client.Pager{}, each)
				} else {
					_, err = sc.ListSensorTokens(ctx, q, "", client.Pager{}, each)
				}
				if err != nil {
					return err
				}
				for n := range found {
					delete(left, n)
				}
				if len(left) == 0 {
					return nil
				}
			}
			return nil
		},
	}
}

// lookupSSPToken finds the token an argument names, an id or a
// display_name (see sspTokenLookup), with get (getSSPToken,
// statusSSPToken): as typ when explicit or when the name's lookup found the
// type, else as a sensor token, then as a baremetal token (findSSPTokenWith).
func lookupSSPToken(ctx context.Context, f *cmdutil.Factory, sc *ssp.Client, arg, typ string, explicit bool,
	get func(ctx context.Context, sc *ssp.Client, typ, id string) ([]byte, error)) (*sspToken, error) {
	n, err := f.ResolveID(ctx, arg, sspTokenLookup(sc, typ, explicit))
	if err != nil {
		return nil, err
	}
	if n.Type != "" {
		typ, explicit = n.Type, true
	}
	return findSSPTokenWith(ctx, sc, n.ID, typ, explicit, get)
}
