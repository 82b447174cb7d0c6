package manifest

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sdwan"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

type req struct {
	DisplayName string `json:"display_name"`
	Count       *int64 `json:"allowed_instance_count,omitempty"`
	Enabled     bool   `json:"enabled"`
	Roles       []struct {
		Name string `json:"name"`
	} `json:"roles"`
}

func TestParseDocuments(t *testing.T) {
	docs, err := Parse("m.yaml", []byte("display_name: a\n---\n---\n{\"display_name\": \"b\", \"allowed_instance_count\": 3}\n---\ndisplay_name: c\nroles:\n  - name: r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 || docs[0].Source != "m.yaml#1" || docs[2].Source != "m.yaml#3" {
		t.Fatalf("docs %+v", docs)
	}
	var r req
	if ps := docs[1].Decode(&r); len(ps) > 0 || r.DisplayName != "b" || r.Count == nil || *r.Count != 3 {
		t.Fatalf("json document: %+v %v", r, ps)
	}
	r = req{}
	if ps := docs[2].Decode(&r); len(ps) > 0 || len(r.Roles) != 1 || r.Roles[0].Name != "r" {
		t.Fatalf("nested: %+v %v", r, ps)
	}
}

func TestDecodeProblems(t *testing.T) {
	cases := map[string]string{
		"dispay_name: a\ncolor: red\n":              `dispay_name: unknown field (did you mean "display_name"?)`,
		"allowed_instance_count: lots\n":            "allowed_instance_count: must be an integer, not string",
		"enabled: maybe\n":                          "enabled: must be true or false",
		"- a\n- b\n":                                "(document): must be a mapping",
		"display_name: x\nzzzzzzzzzzzzzzzzzzz: 1\n": "unknown field; accepted: allowed_instance_count, display_name, enabled, roles",
		// nested objects are strict too: the decoder's rule, not the types'
		"display_name: x\nroles:\n  - name: r\n    nmae: s\n": `(nested object): unknown field "nmae"`,
	}
	for in, want := range cases {
		docs, err := Parse("f", []byte(in))
		if err != nil {
			t.Fatal(err)
		}
		var r req
		ps := docs[0].Decode(&r)
		if len(ps) == 0 || !strings.Contains(ps[0].String(), want) || ps[0].Source != "f#1" {
			t.Errorf("%q: %v, want %q", in, ps, want)
		}
	}
	ps := func() []string {
		docs, _ := Parse("f", []byte("dispay_name: a\ncolor: red\n"))
		var r req
		var out []string
		for _, p := range docs[0].Decode(&r) {
			out = append(out, p.Field)
		}
		return out
	}()
	if strings.Join(ps, ",") != "dispay_name,color" {
		t.Errorf("every unknown field is listed: %v", ps)
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse("e", []byte("")); err == nil || !strings.Contains(err.Error(), "no documents") {
		t.Errorf("empty: %v", err)
	}
	if _, err := Parse("e", []byte("a: [\n")); err == nil || !strings.Contains(err.Error(), "e#1: not valid YAML") {
		t.Errorf("broken: %v", err)
	}
	if _, err := Read("/no/such/file.yaml", nil); err == nil || !strings.Contains(err.Error(), "-f /no/such/file.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// FuzzParseDecode feeds arbitrary manifests through parsing, decoding into
// the vendors' request types and their validation. No input may panic or
// hang; every problem names its document; and whatever validation accepts
// obeys the vendor's rules (the oracle is checked independently here).
//
// A fuzzing run that shows "0 execs/sec" for a while is minimising a new
// input (up to -fuzzminimizetime, 60s by default), not stuck: the slowest
// corpus entry parses and decodes in about a millisecond, and yaml.v3
// refuses alias bombs ("document contains excessive aliasing").
func FuzzParseDecode(f *testing.F) {
	f.Add([]byte("display_name: a\n---\nallowed_instance_count: 2\n"))
	f.Add([]byte(`{"display_name":"x","roles":[{"name":"r"}]}`))
	f.Add([]byte("- 1\n- 2\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("display_name: edge-01\npassphrase: Abcdefgh1234567!\nallowed_instance_count: 3\n"))
	f.Add([]byte("display_name: bm\npassphrase: 'Abcdefgh 1234567!'\nexpiry_time_since_creation_mins: 0\ndescription: d\n"))
	f.Add([]byte("x: &a [1,1]\ny: &b [*a,*a]\nz: [*b,*b]\n"))
	f.Add([]byte("name: build-agent\nread: true\nchange: false\n"))
	f.Add([]byte("roles:\n  - name: tenant_super\nexpires_utc_ms: 1900000000000\nsession_key_c: k\n"))
	f.Add([]byte("custom_roles:\n  - name: c\n    custom_permissions:\n      - value: v\n        tenant_id: '1'\n    permissions: [{value: p}]\nexpires_utc_ms: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		for _, d := range docs {
			var r req
			_ = d.Decode(&r)

			var st ssp.SensorTokenRequest
			ps := d.Decode(&st)
			if len(ps) == 0 {
				ps = st.Validate(d.Source)
				if len(ps) == 0 {
					checkTokenRules(t, st.DisplayName, st.Description, st.Passphrase, ssp.MaxDisplayName)
				}
			}
			checkSources(t, d.Source, ps)

			var bm ssp.BaremetalTokenRequest
			ps = d.Decode(&bm)
			if len(ps) == 0 {
				ps = bm.Validate(d.Source)
				if len(ps) == 0 {
					checkTokenRules(t, bm.DisplayName, bm.Description, bm.Passphrase, ssp.MaxBaremetalDisplayName)
					if n := utf8.RuneCountInString(bm.DisplayName); n < ssp.MinBaremetalDisplayName {
						t.Fatalf("baremetal display_name of %d characters accepted", n)
					}
					if bm.ExpiryTimeSinceCreationMins != nil && *bm.ExpiryTimeSinceCreationMins < 1 {
						t.Fatalf("expiry %d accepted", *bm.ExpiryTimeSinceCreationMins)
					}
				}
			}
			checkSources(t, d.Source, ps)

			var ag agent.TokenRequest
			if ps = d.Decode(&ag); len(ps) == 0 {
				if ps = ag.Validate(d.Source); len(ps) == 0 && strings.TrimSpace(ag.Name) == "" {
					t.Fatal("agent token without a name accepted")
				}
			}
			checkSources(t, d.Source, ps)

			for _, gen := range []string{sdwan.Legacy, sdwan.Unified} {
				var at sdwan.AuthTokenRequest
				if ps = d.Decode(&at); len(ps) == 0 {
					if ps = at.Validate(d.Source, sdwan.API{Generation: gen, Version: "v2.1"}, fuzzNow); len(ps) == 0 {
						checkAuthTokenRules(t, &at, gen)
					}
				}
				checkSources(t, d.Source, ps)
			}
		}
	})
}

// fuzzNow is the fixed "now" of SD-WAN expiry checks.
var fuzzNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// checkAuthTokenRules is the oracle for an accepted SD-WAN auth token
// request: at most 7 documented roles, an expiry after now, session_key_c
// of at most 128 characters, custom permissions with a value.
func checkAuthTokenRules(t *testing.T, r *sdwan.AuthTokenRequest, gen string) {
	t.Helper()
	if len(r.Roles) > 7 {
		t.Fatalf("%d roles accepted", len(r.Roles))
	}
	for _, role := range r.Roles {
		if !sdwan.IsRole(role.Name) {
			t.Fatalf("role %q accepted", role.Name)
		}
	}
	if r.ExpiresUTCMs == nil || *r.ExpiresUTCMs <= fuzzNow.UnixMilli() {
		t.Fatalf("expiry %v accepted", r.ExpiresUTCMs)
	}
	if r.SessionKeyC != nil && utf8.RuneCountInString(*r.SessionKeyC) > 128 {
		t.Fatal("long session_key_c accepted")
	}
	for _, cr := range r.CustomRoles {
		for _, p := range cr.CustomPermissions {
			if p.Value == nil || *p.Value == "" || (gen == sdwan.Legacy && (p.TenantID == nil || *p.TenantID == "")) {
				t.Fatalf("custom permission %+v accepted on %s", p, gen)
			}
		}
	}
}

// checkTokenRules is the oracle for an accepted SSP token request: the
// spec's Token rules, checked without the code under test.
func checkTokenRules(t *testing.T, name, description, passphrase string, maxName int) {
	t.Helper()
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > maxName {
		t.Fatalf("display_name %q accepted", name)
	}
	if utf8.RuneCountInString(description) > ssp.MaxDescription {
		t.Fatalf("description of %d characters accepted", utf8.RuneCountInString(description))
	}
	n := utf8.RuneCountInString(passphrase)
	var lower, upper, digit, other bool
	for _, r := range passphrase {
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		case !unicode.IsSpace(r):
			other = true
		}
	}
	if n < 15 || n > 128 || !lower || !upper || !digit || !other {
		t.Fatalf("passphrase %q accepted", passphrase)
	}
}

func checkSources(t *testing.T, source string, ps []exit.Problem) {
	t.Helper()
	for _, p := range ps {
		if p.Source != source || p.Field == "" || p.Rule == "" {
			t.Fatalf("problem %+v does not name its document %s and field", p, source)
		}
	}
}

// BenchmarkManifestDecode reads a 1,000-document manifest and decodes and
// validates every document as an SSP sensor token request: the local work
// of creating 1,000 tokens from one file.
func BenchmarkManifestDecode(b *testing.B) {
	var m strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&m, "---\ndisplay_name: edge-%04d\ndescription: bulk token %d\nallowed_instance_count: 2\npassphrase: Bench-Passphrase-%04d!\n", i, i, i)
	}
	data := []byte(m.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		docs, err := Parse("bench.yaml", data)
		if err != nil || len(docs) != 1000 {
			b.Fatalf("%d docs, %v", len(docs), err)
		}
		for _, d := range docs {
			var r ssp.SensorTokenRequest
			if ps := d.Decode(&r); len(ps) > 0 {
				b.Fatal(ps)
			}
			if ps := r.Validate(d.Source); len(ps) > 0 {
				b.Fatal(ps)
			}
		}
	}
}
