// Package specs gives tests the vendors' OpenAPI documents and a validator for
// recorded HTTP exchanges. The documents are never copied into the project:
// they are read from $TOKENCTL_SPECS_DIR, else from <module root>/../shared/api/specs
// (see DESIGN.md, "Tests and specs"). When the folder is absent a test skips
// with a message, unless CI is set, where it fails: CI must run the contract
// tests.
package specs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// EnvDir names the environment variable that points at the specs folder.
const EnvDir = "TOKENCTL_SPECS_DIR"

// Dir returns the folder holding the vendor specs. It skips the test when the
// folder is absent, or fails it when CI is set.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := find()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("vendor specs not found (CI is set, so this fails): %v", err)
		}
		t.Skipf("vendor specs not found, skipping: %v (set %s)", err, EnvDir)
	}
	return dir
}

func find() (string, error) {
	if dir := os.Getenv(EnvDir); dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return "", fmt.Errorf("%s=%s is not a directory", EnvDir, dir)
		}
		return dir, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(filepath.Dir(root), "shared", "api", "specs")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%s does not exist", dir)
	}
	return dir, nil
}

// moduleRoot walks up from the working directory (a test's package folder)
// to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Load reads the named spec (e.g. "ssp-sensors.yaml") from Dir and validates
// it. Examples are not validated: the vendors' own examples break their
// schemas (see specs/README.md). Every call returns a fresh document, so a
// test may adjust it.
func Load(t testing.TB, name string) *openapi3.T {
	t.Helper()
	path := filepath.Join(Dir(t), name)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	if err := doc.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("validating %s: %v", path, err)
	}
	return doc
}

// LoadSwagger2 reads a Swagger 2.0 spec (the NSX manager's) from Dir and
// converts it to OpenAPI 3. Its basePath is folded into every path, so that
// NewValidator, which routes by path alone, matches the real URLs
// (/api/v1/aaa/...).
func LoadSwagger2(t testing.TB, name string) *openapi3.T {
	t.Helper()
	path := filepath.Join(Dir(t), name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(data, &doc2); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		t.Fatalf("converting %s: %v", path, err)
	}
	base := strings.TrimRight(doc2.BasePath, "/")
	paths := openapi3.NewPaths()
	for k, v := range doc.Paths.Map() {
		paths.Set(base+k, v)
	}
	doc.Paths = paths
	doc.Servers = nil
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("validating %s: %v", path, err)
	}
	return doc
}

// RelaxAdditionalProperties drops `additionalProperties: false` from the named
// component schemas. Some vendor schemas put it beside an allOf with no
// sibling properties, which under strict JSON Schema rejects every property;
// the caller names those and says why.
func RelaxAdditionalProperties(t testing.TB, doc *openapi3.T, names ...string) {
	t.Helper()
	for _, name := range names {
		ref, ok := doc.Components.Schemas[name]
		if !ok || ref.Value == nil {
			t.Fatalf("schema %s not in the spec", name)
		}
		ref.Value.AdditionalProperties = openapi3.AdditionalProperties{}
	}
}

// Validator checks recorded request/response pairs against one spec.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	// Auth decides the spec's security requirements. The default accepts any
	// request carrying an Authorization header: the specs declare apiKey
	// headers where the servers really take Basic or Bearer credentials, and
	// whether the credentials are right is the server's business, not the
	// contract's.
	Auth openapi3filter.AuthenticationFunc
}

// NewValidator builds a Validator. It routes by path only: it clears
// doc.Servers, because the vendors' servers name placeholder hosts
// (https://{api_host}) that a loopback test server never matches.
func NewValidator(t testing.TB, doc *openapi3.T) *Validator {
	t.Helper()
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("building the spec router: %v", err)
	}
	return &Validator{doc: doc, router: router, Auth: AuthorizationHeaderPresent}
}

// AuthorizationHeaderPresent accepts a request that carries an Authorization header.
func AuthorizationHeaderPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.RequestValidationInput.Request.Header.Get("Authorization") == "" {
		return errors.New("no Authorization header")
	}
	return nil
}

// Exchange is one recorded HTTP call.
type Exchange struct {
	// Request is the request as sent; its Body is ignored (see RequestBody).
	Request     *http.Request
	RequestBody []byte
	Status      int
	Header      http.Header
	Body        []byte
}

// Operation returns the spec operation id the request routes to.
func (v *Validator) Operation(req *http.Request) (string, error) {
	route, _, err := v.router.FindRoute(req)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return route.Operation.OperationID, nil
}

// ValidateRequest checks only the request side of x.
func (v *Validator) ValidateRequest(ctx context.Context, x Exchange) error {
	in, err := v.input(x)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(ctx, in)
}

// ValidateResponse checks only the response side of x (for calls whose
// request is deliberately invalid, to see the server's error answer).
func (v *Validator) ValidateResponse(ctx context.Context, x Exchange) error {
	in, err := v.input(x)
	if err != nil {
		return err
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 x.Status,
		Header:                 x.Header,
		Options:                in.Options,
	}
	out.SetBodyBytes(x.Body)
	return openapi3filter.ValidateResponse(ctx, out)
}

// Validate checks both sides of x.
func (v *Validator) Validate(ctx context.Context, x Exchange) error {
	if err := v.ValidateRequest(ctx, x); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	if err := v.ValidateResponse(ctx, x); err != nil {
		return fmt.Errorf("response: %w", err)
	}
	return nil
}

func (v *Validator) input(x Exchange) (*openapi3filter.RequestValidationInput, error) {
	// A copy: validation reads (and may rewrite) the body and must not
	// disturb the caller's request.
	req := x.Request.Clone(context.Background())
	req.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	req.ContentLength = int64(len(x.RequestBody))
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	return &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: v.Auth,
			MultiError:         true,
		},
	}, nil
}

// Recorder is an http.RoundTripper that records every exchange a client
// makes, so a contract test can validate the client's own traffic.
type Recorder struct {
	Next      http.RoundTripper
	mu        sync.Mutex
	exchanges []Exchange
}

// RoundTrip implements http.RoundTripper.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	next := r.Next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	r.mu.Lock()
	r.exchanges = append(r.exchanges, Exchange{Request: req.Clone(context.Background()), RequestBody: body, Status: resp.StatusCode, Header: resp.Header.Clone(), Body: respBody})
	r.mu.Unlock()
	return resp, nil
}

// Exchanges returns what was recorded so far.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.exchanges...)
}
