package manifest

import (
	"strings"
	"testing"
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

func FuzzParseDecode(f *testing.F) {
	f.Add([]byte("display_name: a\n---\nallowed_instance_count: 2\n"))
	f.Add([]byte(`{"display_name":"x","roles":[{"name":"r"}]}`))
	f.Add([]byte("- 1\n- 2\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Parse("fuzz", data)
		if err != nil {
			return
		}
		for _, d := range docs {
			var r req
			_ = d.Decode(&r)
		}
	})
}
