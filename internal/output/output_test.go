package output

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/iostreams"
)

var kind = Kind{
	Noun:          "token",
	IDField:       "id",
	SecretField:   "token",
	ManifestField: "registration_manifest",
	Columns:       []Column{Field("ID", "id"), Field("NAME", "display_name"), Field("ROLES", "roles")},
}

const a = `{"id":"a1","display_name":"first","zeta":1,"alpha":{"b":true},"roles":[{"name":"r1"},{"name":"r2"}],"registration_manifest":"bWFu","token":"s3cr3t","big":1795618411501}`
const b = `{"id":"b2","display_name":"second"}`

func run(t *testing.T, o Options, tty bool, f func(*Printer) error) (string, string) {
	t.Helper()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	ios, _, out, errOut := iostreams.Test()
	ios.SetTTY(false, tty, false)
	if err := f(New(ios, o)); err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String()
}

func list(items ...string) func(*Printer) error {
	return func(p *Printer) error {
		l := p.List(kind)
		for _, it := range items {
			if err := l.Add(json.RawMessage(it)); err != nil {
				return err
			}
		}
		return l.Close()
	}
}

func TestJSONListKeepsVendorFieldsAndOrder(t *testing.T) {
	out, _ := run(t, Options{Format: JSON}, false, list(a, b))
	var items []map[string]any
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 2 {
		t.Fatalf("not a JSON array of 2: %v\n%s", err, out)
	}
	if strings.Index(out, `"zeta"`) > strings.Index(out, `"alpha"`) {
		t.Fatalf("vendor key order lost:\n%s", out)
	}
	if !strings.Contains(out, "1795618411501") {
		t.Fatalf("big integer changed:\n%s", out)
	}
	if out, _ := run(t, Options{Format: JSON}, false, list()); out != "[]\n" {
		t.Fatalf("empty list = %q", out)
	}
}

func TestYAML(t *testing.T) {
	out, _ := run(t, Options{Format: YAML}, false, list(a, b))
	if !strings.HasPrefix(out, "- id: a1\n  display_name: first\n  zeta: 1\n  alpha:\n    b: true\n") || !strings.Contains(out, "- id: b2\n") {
		t.Fatalf("yaml:\n%s", out)
	}
	if out, _ := run(t, Options{Format: YAML}, false, list()); out != "[]\n" {
		t.Fatalf("empty yaml list = %q", out)
	}
}

func TestTable(t *testing.T) {
	out, errOut := run(t, Options{}, false, list(a, b))
	want := "ID  NAME    ROLES\na1  first   r1,r2\nb2  second\n"
	if out != want {
		t.Fatalf("table:\n%q\nwant\n%q", out, want)
	}
	out, errOut = run(t, Options{}, false, list())
	if out != "" || !strings.Contains(errOut, "No tokens found") {
		t.Fatalf("empty table: out %q err %q", out, errOut)
	}
}

func TestIDSecretManifest(t *testing.T) {
	out, _ := run(t, Options{Format: ID}, false, list(a, b))
	if out != "a1\nb2\n" {
		t.Fatalf("ids %q", out)
	}
	obj := func(p *Printer) error { return p.Object(json.RawMessage(a), kind) }
	if out, _ := run(t, Options{Format: Secret}, false, obj); out != "s3cr3t" {
		t.Fatalf("secret off a terminal %q", out)
	}
	if out, _ := run(t, Options{Format: Secret}, true, obj); out != "s3cr3t\n" {
		t.Fatalf("secret on a terminal %q", out)
	}
	if out, _ := run(t, Options{Format: Manifest}, false, obj); out != "bWFu" {
		t.Fatalf("manifest %q", out)
	}
	ios, _, _, _ := iostreams.Test()
	if err := New(ios, Options{Format: Secret}).List(kind).Close(); err == nil {
		t.Fatal("-o secret of a list was accepted")
	}
}

func TestJQ(t *testing.T) {
	out, _ := run(t, Options{JQ: ".[] | .display_name"}, false, list(a, b))
	if out != "first\nsecond\n" {
		t.Fatalf("jq strings %q", out)
	}
	out, _ = run(t, Options{JQ: "map(.big) | .[0]"}, false, list(a, b))
	if out != "1795618411501\n" {
		t.Fatalf("jq number %q", out)
	}
	out, _ = run(t, Options{JQ: "length"}, false, list())
	if out != "0\n" {
		t.Fatalf("jq over empty list %q", out)
	}
	for _, bad := range []Options{{JQ: ".[] |"}, {JQ: ".", Format: YAML}, {Format: "xml"}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
