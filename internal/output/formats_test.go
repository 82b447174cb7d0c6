package output

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

func TestFormatsFollowFromTheKind(t *testing.T) {
	plain := Kind{Noun: "sensor status"}
	withID := Kind{Noun: "sensor", IDField: "id"}
	token := Kind{Noun: "token", IDField: "id", ManifestField: "registration_manifest"}
	secret := Kind{Noun: "agent token", IDField: "uuid", SecretField: "uuid"}
	script := Kind{Noun: "baremetal token", IDField: "id", ManifestField: "m", Extra: []string{"install-script"}}
	for _, c := range []struct {
		kind  Kind
		shape Shape
		want  string
	}{
		{plain, One, "table wide json jsonl yaml"},
		{plain, Many, "table wide json jsonl yaml"},
		{withID, Many, "table wide json jsonl yaml id"},
		{token, One, "table wide json jsonl yaml id manifest"},
		{token, Many, "table wide json jsonl yaml id"},
		{secret, One, "table wide json jsonl yaml id secret"},
		{secret, Many, "table wide json jsonl yaml id"},
		{script, One, "table wide json jsonl yaml id manifest install-script"},
		{script, Many, "table wide json jsonl yaml id"},
	} {
		if got := strings.Join(c.kind.Formats(c.shape), " "); got != c.want {
			t.Errorf("%s %v: %s, want %s", c.kind.Noun, c.shape, got, c.want)
		}
		for _, f := range append(slices.Clone(AllFormats), "install-script") {
			o := Options{Format: f}
			err := o.Check(c.kind, c.shape)
			if supported := strings.Contains(" "+c.want+" ", " "+f+" "); supported != (err == nil) {
				t.Errorf("%s %v -o %s: %v", c.kind.Noun, c.shape, f, err)
			}
			if err != nil && exit.CodeOf(err) != exit.Usage {
				t.Errorf("-o %s refused with exit %d", f, exit.CodeOf(err))
			}
		}
	}
	o := Options{Format: Secret}
	err := o.Check(token, Many)
	if err == nil || err.Error() != "-o secret does not apply to a list of tokens (it prints a field of one object); use -o table, wide, json, jsonl, yaml or id" {
		t.Fatalf("message: %v", err)
	}
	o = Options{Format: Manifest}
	if err := o.Check(secret, One); err == nil || !strings.Contains(err.Error(), "an agent token (it has no registration manifest)") {
		t.Fatalf("message: %v", err)
	}
}

func TestJSONLPrintsOneCompactItemPerLine(t *testing.T) {
	in := []string{"{ \"id\" : \"a1\",\n \"n\": [1, 2],\"s\":\"x\\ny \\u001b\" }", `{"id":"b2"}`}
	out, _ := run(t, Options{Format: JSONL}, false, list(in...))
	want := "{\"id\":\"a1\",\"n\":[1,2],\"s\":\"x\\ny \\u001b\"}\n{\"id\":\"b2\"}\n"
	if out != want {
		t.Fatalf("jsonl %q, want %q", out, want)
	}
	if out, _ := run(t, Options{Format: JSONL}, false, list()); out != "" {
		t.Fatalf("empty jsonl %q", out)
	}
	obj := func(p *Printer) error { return p.Object(json.RawMessage(in[0]), kind) }
	if out, _ := run(t, Options{Format: JSONL}, false, obj); out != strings.SplitAfter(want, "\n")[0] {
		t.Fatalf("jsonl object %q", out)
	}
	for _, bad := range []string{`{"a":1,}`, "{\"a\":\"raw\nnewline\"}", `{"a" "b"}`} {
		ios, _, _, _ := iostreams.Test()
		if err := New(ios, Options{Format: JSONL}).List(kind).Add(json.RawMessage(bad)); err == nil {
			t.Errorf("%q printed as a JSON line", bad)
		}
	}
}

func TestIDReadsTheRawItem(t *testing.T) {
	items := []string{
		`{"sensor_info":{"display_name":"x","id":"s1"},"id":"top"}`,
		`{"sensor_info":{"id":"s\u0032"}}`,
		`{"sensor_info":{"id":"evil\nrm -rf\u001b"}}`,
		`{"sensor_info":{}}`,
	}
	k := Kind{IDField: "sensor_info.id"}
	out, _ := run(t, Options{Format: ID}, false, func(p *Printer) error {
		l := p.List(k)
		for _, it := range items {
			if err := l.Add(json.RawMessage(it)); err != nil {
				return err
			}
		}
		return l.Close()
	})
	if want := "s1\ns2\nevil\\nrm -rf\\x1b\n\n"; out != want {
		t.Fatalf("ids %q, want %q", out, want)
	}
}

func TestSortedSortsClientSide(t *testing.T) {
	items := []string{
		`{"id":"c","display_name":"beta","expiration":300}`,
		`{"id":"a","display_name":"alpha","expiration":1000}`,
		`{"id":"n"}`,
		`{"id":"b","display_name":"Gamma","expiration":20}`,
	}
	k := Kind{Noun: "token", IDField: "id", Columns: []Column{TextField("NAME", "display_name"), TimeField("EXPIRES", "expiration")}}
	sorted := func(path string, asc bool) string {
		out, _ := run(t, Options{Format: ID}, false, func(p *Printer) error {
			l := Sorted(p.List(k), path, asc, 0)
			for _, it := range items {
				if err := l.Add(json.RawMessage(it)); err != nil {
					return err
				}
			}
			return l.Close()
		})
		return strings.ReplaceAll(out, "\n", " ")
	}
	if got := sorted("expiration", true); got != "b c a n " {
		t.Errorf("by expiration: %s", got)
	}
	if got := sorted("expiration", false); got != "a c b n " {
		t.Errorf("by expiration, descending: %s", got)
	}
	if got := sorted("display_name", true); got != "b a c n " {
		t.Errorf("by name: %s", got)
	}
	for name, want := range map[string]string{"name": "display_name", "expires": "expiration", "expiration": "expiration", "NAME": "display_name"} {
		if got, ok := k.SortKey(name); !ok || got != want {
			t.Errorf("SortKey(%q) = %q, %v", name, got, ok)
		}
	}
	if _, ok := k.SortKey("bogus"); ok {
		t.Error("SortKey accepted bogus")
	}
}

func TestItemReadsFieldsWithoutDecoding(t *testing.T) {
	it, err := ParseItem(json.RawMessage(`{"s":"a\"b","n":-12,"f":1.5,"t":true,"z":null,"o":{"k":{"x":"deep"}},` +
		`"roles":[{"name":"r1"},{"name":"r2"}],"list":["a",1],"dup":1,"dup":2}`))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"s": `a"b`, "n": "-12", "f": "1.5", "t": "true", "z": "", "o.k.x": "deep",
		"roles": "r1,r2", "list": "a,1", "o.k": `{"x":"deep"}`, "missing": "", "s.x": "", "dup": "2"} {
		if got := it.String(path); got != want {
			t.Errorf("String(%q) = %q, want %q", path, got, want)
		}
	}
	if n, ok := it.Int("n"); !ok || n != -12 {
		t.Errorf("Int = %d, %v", n, ok)
	}
	if _, ok := it.Int("f"); ok {
		t.Error("Int of 1.5")
	}
	if b, ok := it.Bool("t"); !ok || !b {
		t.Error("Bool")
	}
	if _, err := ParseItem(json.RawMessage(`[1]`)); err == nil {
		t.Error("an array parsed as an item")
	}
}

func TestYAMLCarriesNoRawControlCharacters(t *testing.T) {
	hostile := `{"display_name":"evil\u001b[2J\u001b]0;pwned\u0007 \u009b31m","description":"cr\rdel\u007f","note":"two\nlines","raw":"c1 ` + "\u009b\x7f" + `"}`
	out, _ := run(t, Options{Format: YAML}, false, list(hostile))
	for i, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) {
			t.Fatalf("raw control character %U at %d in\n%q", r, i, out)
		}
	}
	var back []map[string]string
	if err := yaml.Unmarshal([]byte(out), &back); err != nil || len(back) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	var want map[string]string
	_ = json.Unmarshal([]byte(hostile), &want)
	for k, v := range want {
		if back[0][k] != v {
			t.Errorf("%s: %q, want %q", k, back[0][k], v)
		}
	}
	if !bytes.Contains([]byte(out), []byte(`\e[2J`)) {
		t.Errorf("escape not written as \\e:\n%s", out)
	}
}
