package ssp_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/specs"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// newContractClient runs the SSP client against the sandbox through a
// recorder, so every request the client sends and every response it reads
// can be validated against the vendor's spec.
func newContractClient(t *testing.T, user string) (*ssp.Client, *specs.Recorder) {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	rec := &specs.Recorder{}
	c, err := client.New(client.Options{BaseURL: hs.URL, Transport: rec}, &client.BasicAuth{Username: user, Password: "tokenctl-sandbox"})
	if err != nil {
		t.Fatal(err)
	}
	return ssp.New(c), rec
}

// validateAll checks every recorded exchange against ssp-sensors.yaml. The
// spec's three baremetal schemas put additionalProperties: false beside allOf,
// which under strict JSON Schema rejects every property; they are relaxed
// (specs/README.md).
func validateAll(t *testing.T, rec *specs.Recorder) map[string]int {
	t.Helper()
	doc := specs.Load(t, "ssp-sensors.yaml")
	specs.RelaxAdditionalProperties(t, doc, "RegistrationToken", "RegistrationTokenResponseList", "RegistrationTokenStatusesList")
	v := specs.NewValidator(t, doc)
	seen := map[string]int{}
	for _, x := range rec.Exchanges() {
		op, err := v.Operation(x.Request)
		if err != nil {
			t.Errorf("client called a path the spec lacks: %v", err)
			continue
		}
		seen[op]++
		if err := v.Validate(context.Background(), x); err != nil {
			t.Errorf("%s %s (%s): %v", x.Request.Method, x.Request.URL.Path, op, err)
		}
	}
	return seen
}

func TestSensorTokenClientContract(t *testing.T) {
	sc, rec := newContractClient(t, "admin")
	ctx := context.Background()
	n := int64(3)
	raw, err := sc.CreateSensorToken(ctx, &ssp.SensorTokenRequest{DisplayName: "contract", Description: "made by the contract test", AllowedInstanceCount: &n, Passphrase: "Contract-Test-Pass-1!"})
	if err != nil {
		t.Fatal(err)
	}
	var tok ssp.TokenInfo
	if err := json.Unmarshal(raw, &tok); err != nil || tok.ID == "" {
		t.Fatalf("create returned %s (%v)", raw, err)
	}
	if _, err := sc.GetSensorToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	asc := true
	count := 0
	_, err = sc.ListSensorTokens(ctx, ssp.ListQuery{SortBy: "display_name", Ascending: &asc, DisplayName: "contract"}, ssp.StatusAvailable, client.Pager{PageSize: 1, All: true}, func(json.RawMessage) error { count++; return nil })
	if err != nil || count != 1 {
		t.Fatalf("list: %d items, %v", count, err)
	}
	if _, err := sc.GetSensorToken(ctx, "no-such-token"); err == nil {
		t.Fatal("get of an unknown id succeeded")
	}
	if gone, err := sc.DeleteSensorToken(ctx, tok.ID); err != nil || gone {
		t.Fatalf("delete: gone=%v err=%v", gone, err)
	}
	seen := validateAll(t, rec)
	for _, op := range []string{"CreateSensorRegistrationToken", "GetRegistrationTokenById", "GetAllRegistrationTokens", "DeleteSensorRegistrationToken"} {
		if seen[op] == 0 {
			t.Errorf("the test never exercised %s", op)
		}
	}
}

func TestSensorTokenErrorsContract(t *testing.T) {
	sc, rec := newContractClient(t, "auditor")
	_, err := sc.CreateSensorToken(context.Background(), &ssp.SensorTokenRequest{DisplayName: "x", Passphrase: "Contract-Test-Pass-1!"})
	var ae *client.APIError
	if !asAPIError(err, &ae) || ae.Status != 403 {
		t.Fatalf("auditor create: %v, want 403", err)
	}
	validateAll(t, rec)
}

func asAPIError(err error, target **client.APIError) bool {
	e, ok := err.(*client.APIError)
	if ok {
		*target = e
	}
	return ok
}
