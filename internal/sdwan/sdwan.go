// Package sdwan is the typed client of the Palo Alto Networks Prisma SD-WAN
// operator auth-token API (specs/sdwan-legacy.yaml, specs/sdwan-unified.yaml)
// in both generations:
//
//   - legacy ("CloudGenix"): /v2.x/api/tenants/{tenant}/operators/{operator}/authtokens,
//     authenticated with a static token in X-Auth-Token (StaticToken);
//   - unified (Prisma SASE): /sdwan/v2.x/api/operators/{operator}/authtokens,
//     authenticated with an OAuth2 client-credentials access token sent as
//     Bearer (OAuth), followed after every new access token by the profile
//     call the vendor requires.
//
// API version v2.1 is the default (the vendor SDKs' default), v2.0 selectable.
// Objects pass through as the vendor's raw JSON; typed structs cover what
// tokenctl sends or reads. The tenant and operator ids come from the caller,
// else from a cache, else from the profile call (Identity).
package sdwan

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// API generations (the profile's api_generation).
const (
	Legacy  = "legacy"
	Unified = "unified"
)

// API versions (the profile's api_version).
const (
	V21 = "v2.1"
	V20 = "v2.0"
)

// DefaultVersion is v2.1, the default of both vendor SDKs for every
// auth-token call.
const DefaultVersion = V21

// Default servers and token endpoint. DefaultUnifiedServer and
// DefaultAuthURL are pan.dev's; the legacy server depends on the region
// (https://api.<region>.cloudgenix.com), so legacy profiles must name one.
const (
	DefaultUnifiedServer = "https://api.sase.paloaltonetworks.com"
	// DefaultAuthURL is the token endpoint pan.dev documents
	// (products/sase/docs/access-tokens.md). The unified SDK posts to
	// /auth/v1/oauth2/access_token on the same host instead; the profile's
	// auth_url can name either.
	DefaultAuthURL = "https://auth.apps.paloaltonetworks.com/oauth2/access_token"
)

// RetryStatuses are the statuses the vendor SDKs retry (status_forcelist
// 413, 429, 502, 503, 504): reads and deletes retry them all, creates only
// 429 (client.Options.RetryStatuses).
var RetryStatuses = []int{413, 429, 502, 503, 504}

// API is the generation and version a client speaks.
type API struct {
	Generation string
	Version    string
}

// ResolveAPI applies the defaults: the generation named, else unified for an
// oauth profile, else legacy; the version named, else v2.1.
func ResolveAPI(generation, version, auth string) (API, error) {
	a := API{Generation: generation, Version: version}
	if a.Generation == "" {
		a.Generation = Legacy
		if auth == "oauth" {
			a.Generation = Unified
		}
	}
	if a.Version == "" {
		a.Version = DefaultVersion
	}
	var ps []exit.Problem
	if a.Generation != Legacy && a.Generation != Unified {
		ps = append(ps, exit.Problem{Field: "api_generation", Rule: fmt.Sprintf("%q: must be legacy or unified", a.Generation)})
	}
	if a.Version != V21 && a.Version != V20 {
		ps = append(ps, exit.Problem{Field: "api_version", Rule: fmt.Sprintf("%q: must be v2.1 or v2.0", a.Version)})
	}
	if len(ps) > 0 {
		return API{}, exit.Problems(ps)
	}
	return a, nil
}

// String names the API for reports, e.g. "legacy v2.1".
func (a API) String() string { return a.Generation + " " + a.Version }

// prefix is the path prefix of the API: /v2.1/api or /sdwan/v2.1/api.
func (a API) prefix() string {
	if a.Generation == Unified {
		return "/sdwan/" + a.Version + "/api"
	}
	return "/" + a.Version + "/api"
}

// ProfilePath is the profile call of the API's generation and version.
func (a API) ProfilePath() string { return a.prefix() + "/profile" }

// tokensPath is the auth-token collection of an operator.
func (a API) tokensPath(ids Identity) string {
	if a.Generation == Unified {
		return a.prefix() + "/operators/" + url.PathEscape(ids.OperatorID) + "/authtokens"
	}
	return a.prefix() + "/tenants/" + url.PathEscape(ids.TenantID) + "/operators/" + url.PathEscape(ids.OperatorID) + "/authtokens"
}

// vendorError is the SD-WAN error body: {"_error": [{"code", "message"}]}.
// The spec's own 400 examples wrap it in a stray "value" key, which is
// tolerated too.
type vendorError struct {
	Error []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"_error"`
	Value *vendorError `json:"value"`
}

// DecodeError summarises every entry of an SD-WAN error body as
// "message (code)", joined with "; ", the way the vendor SDK prints them.
func DecodeError(_ int, body []byte) *client.VendorError {
	var v vendorError
	if err := json.Unmarshal(body, &v); err != nil {
		return nil
	}
	if len(v.Error) == 0 && v.Value != nil {
		v = *v.Value
	}
	if len(v.Error) == 0 {
		return nil
	}
	parts := make([]string, 0, len(v.Error))
	for _, e := range v.Error {
		switch {
		case e.Message != "" && e.Code != "":
			parts = append(parts, e.Message+" ("+e.Code+")")
		case e.Message != "":
			parts = append(parts, e.Message)
		case e.Code != "":
			parts = append(parts, e.Code)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return &client.VendorError{Message: strings.Join(parts, "; ")}
}

// ErrorCodes returns the _error codes of an API error ("" entries dropped).
func ErrorCodes(err error) []string {
	var ae *client.APIError
	if !errors.As(err, &ae) || len(ae.Body) == 0 {
		return nil
	}
	var v vendorError
	if json.Unmarshal(ae.Body, &v) != nil {
		return nil
	}
	if len(v.Error) == 0 && v.Value != nil {
		v = *v.Value
	}
	var codes []string
	for _, e := range v.Error {
		if e.Code != "" {
			codes = append(codes, e.Code)
		}
	}
	return codes
}
