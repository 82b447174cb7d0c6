package sdwan_test

// The client's contract test: the SD-WAN client runs against the sandbox
// through a specs.Recorder, and every exchange it makes is validated against
// the vendor's spec subsets (sdwan-legacy.yaml for /v2.x, sdwan-unified.yaml
// for /sdwan/v2.x). The OAuth token endpoint is in neither document; it is
// checked by the OAuth tests instead. The specs declare no security scheme,
// so the validator's authentication hook never runs.

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	sdwansandbox "github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sdwan"
	"github.com/tokenctl/tokenctl/internal/specs"
)

type contractRig struct {
	url string
	rec *specs.Recorder
	// cache is shared by the unified clients: the second one reuses the
	// first one's access token, so its own profile call (v2.0) is made.
	cache *memCache
}

func newContractRig(t *testing.T) *contractRig {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &contractRig{url: hs.URL, rec: &specs.Recorder{}, cache: newMemCache()}
}

func (r *contractRig) options() client.Options {
	return client.Options{BaseURL: r.url, Transport: r.rec, DecodeError: sdwan.DecodeError, RetryStatuses: sdwan.RetryStatuses}
}

func (r *contractRig) client(t *testing.T, api sdwan.API) *sdwan.Client {
	t.Helper()
	var auth client.Auth = &sdwan.StaticToken{Token: sdwansandbox.StaticAuthToken}
	opts := r.options()
	if api.Generation == sdwan.Unified {
		opts.Redactor = client.NewRedactor()
		o, err := sdwan.NewOAuth(sdwan.OAuthConfig{AuthURL: r.url + "/oauth2/access_token", ClientID: sdwansandbox.OAuthClientID,
			ClientSecret: sdwansandbox.DefaultOAuthClientSecret, TSGID: sdwansandbox.TSGID, HTTP: opts, Cache: r.cache, CacheServer: r.url})
		if err != nil {
			t.Fatal(err)
		}
		auth = o
	}
	c, err := client.New(opts, auth)
	if err != nil {
		t.Fatal(err)
	}
	return sdwan.New(c, sdwan.Options{API: api})
}

// validate checks every recorded exchange of the SD-WAN API against its
// generation's spec and returns the operations seen.
func (r *contractRig) validate(t *testing.T) map[string]int {
	t.Helper()
	legacy := specs.NewValidator(t, specs.Load(t, "sdwan-legacy.yaml"))
	unified := specs.NewValidator(t, specs.Load(t, "sdwan-unified.yaml"))
	seen := map[string]int{}
	for _, x := range r.rec.Exchanges() {
		v := legacy
		switch {
		case strings.HasPrefix(x.Request.URL.Path, "/sdwan/"):
			v = unified
		case strings.Contains(x.Request.URL.Path, "oauth2/access_token"):
			continue
		}
		op, err := v.Operation(x.Request)
		if err != nil {
			t.Errorf("the client called a path the spec lacks: %v", err)
			continue
		}
		seen[op]++
		if err := v.Validate(context.Background(), x); err != nil {
			t.Errorf("%s %s (%s): %v", x.Request.Method, x.Request.URL.Path, op, err)
		}
	}
	return seen
}

func TestClientContract(t *testing.T) {
	r := newContractRig(t)
	ctx := context.Background()
	expires := time.Now().Add(time.Hour).UnixMilli()
	for _, api := range []sdwan.API{
		{Generation: sdwan.Legacy, Version: sdwan.V21}, {Generation: sdwan.Legacy, Version: sdwan.V20},
		{Generation: sdwan.Unified, Version: sdwan.V21}, {Generation: sdwan.Unified, Version: sdwan.V20},
	} {
		sc := r.client(t, api)
		if _, _, err := sc.Profile(ctx); err != nil {
			t.Fatalf("%s profile: %v", api, err)
		}
		perm := sdwan.CustomPermission{Value: ptr("custom-1")}
		if api.Generation == sdwan.Legacy {
			perm.TenantID = ptr(sdwansandbox.TenantID)
		}
		req := &sdwan.AuthTokenRequest{
			Roles: []sdwan.AuthRole{{Name: "tenant_viewonly"}, {Name: "tenant_network_admin"}},
			CustomRoles: []sdwan.CustomRole{{Name: "auditors", Permissions: []sdwan.AuthPermission{{Value: ptr("read")}},
				DisallowPermissions: []sdwan.AuthPermission{{Value: ptr("write")}}, CustomPermissions: []sdwan.CustomPermission{perm},
				Roles: []sdwan.AuthRole{{Name: "tenant_viewonly"}}}},
			ExpiresUTCMs: &expires,
			SessionKeyC:  ptr("session-key-c"),
		}
		if ps := req.Validate("", api, time.Now()); len(ps) > 0 {
			t.Fatalf("%s: %v", api, ps)
		}
		raw, err := sc.CreateAuthToken(ctx, req)
		if err != nil {
			t.Fatalf("%s create: %v", api, err)
		}
		var tok struct {
			ID string `json:"id"`
		}
		json.Unmarshal(raw, &tok)
		n, err := sc.ListAuthTokens(ctx, func(json.RawMessage) error { return nil })
		if err != nil || n < 2 {
			t.Fatalf("%s list: %d %v", api, n, err)
		}
		if _, err := sc.GetAuthToken(ctx, tok.ID); err != nil {
			t.Fatalf("%s get: %v", api, err)
		}
		if _, gone, err := sc.DeleteAuthToken(ctx, tok.ID); err != nil || gone {
			t.Fatalf("%s delete: %v %v", api, gone, err)
		}
		// The documented 400 of a system-owned token, in the Error shape.
		if _, _, err := sc.DeleteAuthToken(ctx, sdwansandbox.SystemTokenID); len(sdwan.ErrorCodes(err)) == 0 {
			t.Fatalf("%s delete system token: %v", api, err)
		}
	}
	seen := r.validate(t)
	var missing []string
	for _, doc := range []string{"sdwan-legacy.yaml", "sdwan-unified.yaml"} {
		for _, item := range specs.Load(t, doc).Paths.Map() {
			for _, op := range item.Operations() {
				if seen[op.OperationID] == 0 {
					missing = append(missing, op.OperationID)
				}
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("operations the client never exercised: %v", missing)
	}
}
