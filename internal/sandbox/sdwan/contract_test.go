package sdwan_test

// The contract check: every request the tests send to the SD-WAN API and
// every response they get back is validated against the vendor's OpenAPI
// (specs/sdwan-legacy.yaml for /v2.x, specs/sdwan-unified.yaml for
// /sdwan/v2.x) with kin-openapi. Choices, per specs/README.md:
//   - the documents are validated with examples validation off (the vendor's
//     400 examples wrap _error in a stray "value" key);
//   - routes are found by rewriting the request to the spec's server host, so
//     the documents stay as the vendor wrote them;
//   - the spec declares no security scheme, so no authentication function is
//     needed; the OAuth token endpoint is in neither document and is checked
//     by the tests' own assertions only;
//   - statuses the spec does not list (401, 403, 404, 405 and some 400s) pass
//     kin-openapi by default, so their bodies are checked here against the
//     spec's Error schema and must carry a non-empty _error list;
//   - a 405 is expected exactly where the spec has the path but not the method;
//   - a test that sends a body the spec itself rejects says so, and the check
//     then asserts that kin-openapi rejects it too.
//
// The specs are read from $TOKENCTL_SPECS_DIR, else <module root>/../shared/api/specs.
// When they are absent the checks are skipped (logged), and the tests fail
// instead when CI is set. This is a local helper on purpose; a shared
// internal/specs package may replace it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// specsDir finds the vendor specs; ok is false when the folder is absent.
func specsDir(t *testing.T) (string, bool) {
	t.Helper()
	dir := os.Getenv("TOKENCTL_SPECS_DIR")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			t.Fatalf("finding the module root: %v", err)
		}
		dir = filepath.Join(root, "..", "shared", "api", "specs")
	}
	if _, err := os.Stat(filepath.Join(dir, "sdwan-legacy.yaml")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("vendor specs not found in %s (set TOKENCTL_SPECS_DIR): %v", dir, err)
		}
		return dir, false
	}
	return dir, true
}

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

// requireSpecs skips a test that is only about the contract when the specs
// are absent (and fails it under CI, in specsDir).
func requireSpecs(t *testing.T) {
	t.Helper()
	if dir, ok := specsDir(t); !ok {
		t.Skipf("vendor specs not found in %s; set TOKENCTL_SPECS_DIR to run the contract test", dir)
	}
}

type specDoc struct {
	doc    *openapi3.T
	router routers.Router
	host   string
	errSch *openapi3.Schema
}

// contract validates traffic against both documents and records which
// operations answered 200.
type contract struct {
	legacy, unified *specDoc

	mu   sync.Mutex
	seen map[string]bool
}

func loadContract(t *testing.T) *contract {
	t.Helper()
	dir, ok := specsDir(t)
	c := &contract{seen: map[string]bool{}}
	if !ok {
		t.Logf("vendor specs not found in %s: requests and responses are not validated against them", dir)
		return c
	}
	c.legacy = loadSpec(t, filepath.Join(dir, "sdwan-legacy.yaml"))
	c.unified = loadSpec(t, filepath.Join(dir, "sdwan-unified.yaml"))
	return c
}

func loadSpec(t *testing.T, path string) *specDoc {
	t.Helper()
	ctx := context.Background()
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	if err := doc.Validate(ctx, openapi3.DisableExamplesValidation()); err != nil {
		t.Fatalf("validating %s: %v", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router for %s: %v", path, err)
	}
	u, err := url.Parse(doc.Servers[0].URL)
	if err != nil {
		t.Fatalf("server URL of %s: %v", path, err)
	}
	errRef := doc.Components.Schemas["Error"]
	if errRef == nil || errRef.Value == nil {
		t.Fatalf("%s has no Error schema", path)
	}
	return &specDoc{doc: doc, router: router, host: u.Host, errSch: errRef.Value}
}

// operations lists "doc: operationId" for every operation of both documents.
func (c *contract) operations() []string {
	var ops []string
	for _, d := range []*specDoc{c.legacy, c.unified} {
		for _, item := range d.doc.Paths.Map() {
			for _, op := range item.Operations() {
				ops = append(ops, op.OperationID)
			}
		}
	}
	sort.Strings(ops)
	return ops
}

// check validates one exchange. invalid says the test sent a request the spec
// rejects on purpose.
func (c *contract) check(t *testing.T, req *http.Request, reqBody []byte, invalid bool, resp *http.Response, respBody []byte) {
	t.Helper()
	var d *specDoc
	switch {
	case strings.HasPrefix(req.URL.Path, "/sdwan/"):
		d = c.unified
	case strings.HasPrefix(req.URL.Path, "/v2."):
		d = c.legacy
	}
	if d == nil {
		return
	}
	what := req.Method + " " + req.URL.Path
	ctx := context.Background()

	rr := httptest.NewRequest(req.Method, "https://"+d.host+req.URL.RequestURI(), bytes.NewReader(reqBody))
	rr.Header = req.Header.Clone()
	route, params, err := d.router.FindRoute(rr)
	if err != nil {
		if resp.StatusCode == http.StatusMethodNotAllowed && errors.Is(err, routers.ErrMethodNotAllowed) {
			c.checkErrorBody(t, d, what, respBody)
			return
		}
		t.Errorf("contract: %s is not in the spec (status %d): %v", what, resp.StatusCode, err)
		return
	}
	opts := &openapi3filter.Options{MultiError: true}
	in := &openapi3filter.RequestValidationInput{Request: rr, PathParams: params, Route: route, Options: opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	switch {
	case invalid && reqErr == nil:
		t.Errorf("contract: %s: the test marked this request as breaking the spec, but kin-openapi accepts it: %s", what, reqBody)
	case !invalid && reqErr != nil:
		t.Errorf("contract: request %s breaks the spec: %v", what, reqErr)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("contract: response %d to %s breaks the spec: %v\nbody: %s", resp.StatusCode, what, err, respBody)
	}
	if resp.StatusCode >= 400 {
		c.checkErrorBody(t, d, what, respBody)
	}
	if resp.StatusCode == http.StatusOK {
		c.mu.Lock()
		c.seen[route.Operation.OperationID] = true
		c.mu.Unlock()
	}
}

// checkErrorBody validates an error body against the spec's Error schema and
// insists on at least one {code, message}.
func (c *contract) checkErrorBody(t *testing.T, d *specDoc, what string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("contract: error body of %s is not JSON: %v: %s", what, err, body)
		return
	}
	if err := d.errSch.VisitJSON(v); err != nil {
		t.Errorf("contract: error body of %s breaks the Error schema: %v", what, err)
	}
	var e struct {
		Error []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"_error"`
	}
	_ = json.Unmarshal(body, &e)
	if len(e.Error) == 0 {
		t.Errorf("contract: error body of %s has no _error entries: %s", what, body)
	}
	for _, x := range e.Error {
		if x.Code == "" || x.Message == "" {
			t.Errorf("contract: error body of %s has an entry without code or message: %s", what, body)
		}
	}
}
