package ssp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// Token types of `token --type`.
const (
	Sensor    = "sensor"
	Baremetal = "baremetal"
)

// Token statuses (TokenStatus enum).
const (
	StatusAvailable = "AVAILABLE"
	StatusExpired   = "EXPIRED"
	StatusUsed      = "USED"
)

// Limits from the spec: Resource.display_name maxLength 255,
// Resource.description maxLength 1024, Token.passphrase 15..128.
const (
	MaxDisplayName   = 255
	MaxDescription   = 1024
	MinPassphraseLen = 15
	MaxPassphraseLen = 128
)

// SensorTokenRequest is the body of POST /sensors/registration-tokens: the
// fields of SensorRegistrationTokenInfo that a client sets.
type SensorTokenRequest struct {
	DisplayName          string `json:"display_name"`
	Description          string `json:"description,omitempty"`
	AllowedInstanceCount *int64 `json:"allowed_instance_count,omitempty"`
	Passphrase           string `json:"passphrase"`
}

// Validate applies the vendor's documented rules, naming each field, and
// allowed_instance_count >= 1 (see checkAllowedInstances).
func (r *SensorTokenRequest) Validate(source string) []exit.Problem {
	return append(validateToken(source, r.DisplayName, r.Description, r.Passphrase), checkAllowedInstances(source, r.AllowedInstanceCount)...)
}

// checkAllowedInstances requires allowed_instance_count >= 1 when given.
// INFERRED: the spec sets no minimum, but a token no appliance may use
// registers nothing; the sandbox refuses it too (docs/guides label this).
func checkAllowedInstances(source string, n *int64) []exit.Problem {
	if n != nil && *n < 1 {
		return []exit.Problem{{Source: source, Field: "allowed_instance_count", Rule: fmt.Sprintf("must be at least 1 (--allowed-instances), not %d", *n)}}
	}
	return nil
}

func validateToken(source, displayName, description, passphrase string) []exit.Problem {
	var ps []exit.Problem
	add := func(field, rule string) { ps = append(ps, exit.Problem{Source: source, Field: field, Rule: rule}) }
	switch n := utf8.RuneCountInString(displayName); {
	case strings.TrimSpace(displayName) == "":
		add("display_name", "required (--display-name)")
	case n > MaxDisplayName:
		add("display_name", "at most 255 characters")
	}
	if utf8.RuneCountInString(description) > MaxDescription {
		add("description", "at most 1024 characters")
	}
	if passphrase == "" {
		add("passphrase", "required (--passphrase-stdin, --passphrase-file, TOKENCTL_PASSPHRASE, --generate-passphrase or a prompt)")
	} else if rule := CheckPassphrase(passphrase); rule != "" {
		add("passphrase", rule)
	}
	return ps
}

// CheckPassphrase applies Token.passphrase's rule: 15 to 128 characters with
// at least one lower-case letter, one upper-case letter, one digit and one
// special character. It returns "" when the passphrase is acceptable.
func CheckPassphrase(p string) string {
	n := utf8.RuneCountInString(p)
	var lower, upper, digit, special bool
	for _, r := range p {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsSpace(r):
			special = true
		}
	}
	var missing []string
	if !lower {
		missing = append(missing, "a lower-case letter")
	}
	if !upper {
		missing = append(missing, "an upper-case letter")
	}
	if !digit {
		missing = append(missing, "a digit")
	}
	if !special {
		missing = append(missing, "a special character")
	}
	if n >= MinPassphraseLen && n <= MaxPassphraseLen && len(missing) == 0 {
		return ""
	}
	rule := "must be 15 to 128 characters with at least one lower-case letter, one upper-case letter, one digit and one special character"
	if n < MinPassphraseLen || n > MaxPassphraseLen {
		rule += " (it has " + itoa(n) + " characters"
		if len(missing) > 0 {
			rule += " and lacks " + strings.Join(missing, ", ")
		}
		return rule + ")"
	}
	return rule + " (it lacks " + strings.Join(missing, ", ") + ")"
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// passphraseAlphabets: each class is drawn at least once. The specials avoid
// quotes, backslash, '$' and '`', so the passphrase survives shells and YAML.
var passphraseAlphabets = []string{
	"abcdefghijkmnopqrstuvwxyz",
	"ABCDEFGHJKLMNPQRSTUVWXYZ",
	"23456789",
	"!#%+-.:=?@^_~",
}

// GeneratePassphrase returns a random 32-character passphrase that meets
// CheckPassphrase, from crypto/rand.
func GeneratePassphrase() (string, error) {
	const length = 32
	all := strings.Join(passphraseAlphabets, "")
	out := make([]byte, 0, length)
	for _, a := range passphraseAlphabets {
		c, err := pick(a)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	for len(out) < length {
		c, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	// Shuffle so the classes are not in a fixed order.
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func pick(alphabet string) (byte, error) {
	i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
	if err != nil {
		return 0, err
	}
	return alphabet[i.Int64()], nil
}

// TokenInfo is what tokenctl reads from a token of either type (status,
// manifest); the printed object is always the vendor's raw JSON.
type TokenInfo struct {
	ID                   string `json:"id"`
	DisplayName          string `json:"display_name"`
	Status               string `json:"status"`
	RegistrationManifest string `json:"registration_manifest"`
	Expiration           int64  `json:"expiration"`
	ExpirationTimestamp  int64  `json:"expiration_timestamp"`
	UsageCount           *int64 `json:"usage_count"`
	NumberAvailable      *int64 `json:"number_available"`
	DeviceType           string `json:"device_type"`
}

// CreateSensorToken creates a sensor registration token (200 with the full
// SensorRegistrationTokenInfo). The passphrase is registered with the
// redactor first, so --debug never shows it.
func (s *Client) CreateSensorToken(ctx context.Context, req *SensorTokenRequest) (json.RawMessage, error) {
	s.c.Redactor().AddSecret(req.Passphrase)
	const op = "create sensor registration token"
	resp, err := s.c.Do(ctx, client.Call{Operation: op, Method: http.MethodPost, Path: "/sensors/registration-tokens", Body: req})
	if err != nil {
		return nil, err
	}
	return createdBody(op, resp)
}

// GetSensorToken fetches one sensor registration token.
func (s *Client) GetSensorToken(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get sensor registration token "+id, "/sensors/registration-tokens/"+pathID(id))
}

// DeleteSensorToken deletes a sensor registration token. The vendor's delete
// is idempotent (200 whether or not the id exists); a 404 from a server that
// says so anyway also means the token is gone, so gone reports it.
func (s *Client) DeleteSensorToken(ctx context.Context, id string) (gone bool, err error) {
	return s.delete(ctx, "delete sensor registration token "+id, "/sensors/registration-tokens/"+pathID(id))
}

func (s *Client) delete(ctx context.Context, op, path string) (bool, error) {
	_, err := s.c.Do(ctx, client.Call{Operation: op, Method: http.MethodDelete, Path: path})
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return true, nil
	}
	return false, err
}

// ListSensorTokens pages through GET /sensors/registration-tokens;
// status filters by token_status.
func (s *Client) ListSensorTokens(ctx context.Context, q ListQuery, status string, p client.Pager, fn func(json.RawMessage) error) (client.PageResult, error) {
	if status != "" {
		if q.Extra == nil {
			q.Extra = map[string][]string{}
		}
		q.Extra.Set("token_status", status)
	}
	return s.list(ctx, "list sensor registration tokens", "/sensors/registration-tokens", q, p, fn)
}

// createdBody checks a create's 2xx answer: a body that is not the new
// object means the token was most likely made but cannot be shown, an
// unknown outcome (see client.UnknownOutcomeError), not a plain failure.
func createdBody(op string, resp *client.Response) (json.RawMessage, error) {
	var obj struct {
		ID string `json:"id"`
	}
	switch {
	case !json.Valid(resp.Body):
		return nil, client.UnreadableAnswer(op, resp.Status, "not JSON; the body may have been cut off")
	case json.Unmarshal(resp.Body, &obj) != nil || obj.ID == "":
		return nil, client.UnreadableAnswer(op, resp.Status, "the answer is not a token with an id")
	}
	return resp.Body, nil
}
