package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/tokenctl/tokenctl/internal/client"
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

// sensorTokenKind prints sensor registration tokens.
func sensorTokenKind() output.Kind {
	return output.Kind{
		Noun:          "sensor registration token",
		IDField:       "id",
		ManifestField: "registration_manifest",
		Columns: []output.Column{
			output.Field("ID", "id"),
			output.Field("DISPLAY NAME", "display_name"),
			output.Field("STATUS", "status"),
			{Header: "USED", Value: func(it output.Item) string {
				return it.String("usage_count") + "/" + it.String("allowed_instance_count")
			}},
			output.Field("AVAILABLE", "number_available"),
			output.TimeField("EXPIRES", "expiration"),
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
			output.Field("ID", "id"),
			output.Field("DISPLAY NAME", "display_name"),
			output.Field("STATUS", "status"),
			output.Field("USAGE", "usage_count"),
			output.Field("AVAILABLE", "number_available"),
			output.TimeField("EXPIRES", "expiration"),
		},
	}
}

// isNotFound reports a 404 answer.
func isNotFound(err error) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

// definitelyNotCreated reports a failed create after which the server
// cannot have made the token: a 4xx answer, or a refused connection.
func definitelyNotCreated(err error) bool {
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Status >= 400 && ae.Status < 500
	}
	var ne *client.NetworkError
	return errors.As(err, &ne) && ne.Hint == ""
}

// sspToken is a token found by id, with its type.
type sspToken struct {
	typ string
	raw []byte
}

// findSSPToken fetches id as the given type, or, when the type was not
// given, as a sensor token and then as a baremetal token.
func findSSPToken(ctx context.Context, sc *ssp.Client, id, typ string, explicit bool) (*sspToken, error) {
	types := []string{typ}
	if !explicit {
		types = []string{ssp.Sensor, ssp.Baremetal}
	}
	var lastErr error
	for _, t := range types {
		raw, err := getSSPToken(ctx, sc, t, id)
		if err == nil {
			return &sspToken{typ: t, raw: raw}, nil
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
	switch typ {
	case ssp.Sensor:
		return sc.GetSensorToken(ctx, id)
	default:
		return nil, exit.Usagef("--type %s is not supported yet", typ)
	}
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
