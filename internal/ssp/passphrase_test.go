package ssp

import (
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
)

func TestCheckPassphrase(t *testing.T) {
	good := []string{"Abcdefghijk1mn!", "Sensor-Pass-Phrase-Aa1!", "Ünïcode-Lower-1x", strings.Repeat("a", 124) + "A1!x"}
	for _, p := range good {
		if r := CheckPassphrase(p); r != "" {
			t.Errorf("%q rejected: %s", p, r)
		}
	}
	bad := map[string]string{
		"Abcdefghij1mn!":                 "it has 14 characters",
		strings.Repeat("a", 126) + "A1!": "it has 129 characters",
		"abcdefghijklmn1!":               "lacks an upper-case letter",
		"ABCDEFGHIJKLMN1!":               "lacks a lower-case letter",
		"Abcdefghijklmno!":               "lacks a digit",
		"Abcdefghijklmno1":               "lacks a special character",
		"Abcdefg hijklmno1":              "lacks a special character",
	}
	for p, want := range bad {
		if r := CheckPassphrase(p); !strings.Contains(r, want) {
			t.Errorf("%q: %q, want %q", p, r, want)
		}
	}
}

func TestGeneratePassphraseMeetsRules(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 500; i++ {
		p, err := GeneratePassphrase()
		if err != nil {
			t.Fatal(err)
		}
		if r := CheckPassphrase(p); r != "" {
			t.Fatalf("generated %q: %s", p, r)
		}
		if strings.ContainsAny(p, "'\"\\$` ") {
			t.Fatalf("generated %q has a character shells or YAML mangle", p)
		}
		if seen[p] {
			t.Fatalf("generated %q twice", p)
		}
		seen[p] = true
	}
}

func TestSensorTokenRequestValidate(t *testing.T) {
	r := &SensorTokenRequest{DisplayName: strings.Repeat("n", 256), Description: strings.Repeat("d", 1025), Passphrase: "short"}
	ps := r.Validate("m.yaml#2")
	if len(ps) != 3 {
		t.Fatalf("problems %v", ps)
	}
	for i, field := range []string{"display_name", "description", "passphrase"} {
		if ps[i].Field != field || ps[i].Source != "m.yaml#2" {
			t.Errorf("problem %d = %+v, want field %s", i, ps[i], field)
		}
	}
	ok := &SensorTokenRequest{DisplayName: strings.Repeat("n", 255), Description: strings.Repeat("d", 1024), Passphrase: "Sensor-Pass-Phrase-Aa1!"}
	if ps := ok.Validate(""); len(ps) != 0 {
		t.Fatalf("limits rejected: %v", ps)
	}
}

func TestAllowedInstancesAtLeastOne(t *testing.T) {
	for _, n := range []int64{0, -1} {
		s := &SensorTokenRequest{DisplayName: "x", Passphrase: "Sensor-Pass-Phrase-Aa1!", AllowedInstanceCount: &n}
		b := &BaremetalTokenRequest{DisplayName: "rack", Passphrase: "Sensor-Pass-Phrase-Aa1!", AllowedInstanceCount: &n}
		for name, ps := range map[string][]exit.Problem{"sensor": s.Validate("d#1"), "baremetal": b.Validate("d#1")} {
			if len(ps) != 1 || ps[0].Field != "allowed_instance_count" || ps[0].Source != "d#1" {
				t.Errorf("%s, %d instances: %v", name, n, ps)
			}
		}
	}
	one := int64(1)
	if ps := (&SensorTokenRequest{DisplayName: "x", Passphrase: "Sensor-Pass-Phrase-Aa1!", AllowedInstanceCount: &one}).Validate(""); len(ps) != 0 {
		t.Errorf("1 instance refused: %v", ps)
	}
}
