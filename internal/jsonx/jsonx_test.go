package jsonx

import (
	"bytes"
	"encoding/json"
	"testing"
)

var samples = []string{
	`{}`, `[]`, `{"a":1}`, `[1,2,3]`, `"x"`, `12.5e3`, `null`, `true`,
	` { "a" : [ 1 , { "b" : "c\"d\\" } , [ ] , { } ] , "e" : null } `,
	`{"s":"with, commas: and ] brackets } inside","u":"\u00e9\n","n":-0.5,"big":1795618411501}`,
	`[{"nested":{"deep":[[[]]],"x":{}}},"tail"]`,
}

func TestIndentMatchesEncodingJSON(t *testing.T) {
	for _, s := range samples {
		// The walkers hand out values without surrounding space, which
		// json.Indent would keep at the end.
		s = string(bytes.TrimSpace([]byte(s)))
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(s), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		got := AppendIndent(nil, []byte(s), "  ", "  ")
		if string(got) != want.String() {
			t.Errorf("%s:\n got %q\nwant %q", s, got, want.String())
		}
	}
}

func TestWalkers(t *testing.T) {
	var keys []string
	err := Object([]byte(samples[8]), func(k, v []byte) error {
		keys = append(keys, string(k)+"="+string(v))
		return nil
	})
	if err != nil || len(keys) != 2 || keys[1] != "e=null" {
		t.Fatalf("object: %v %v", keys, err)
	}
	var elems []string
	if err := Array([]byte(samples[10]), func(e []byte) error { elems = append(elems, string(e)); return nil }); err != nil || len(elems) != 2 || elems[1] != `"tail"` {
		t.Fatalf("array: %v %v", elems, err)
	}
	for _, bad := range []string{`{"a":1`, `{"a" 1}`, `[1 2]`, `{"a":"x}`, `[1,]`, `{"a":1}x`, `{]`, `["a\nb"]`} {
		err1 := Object([]byte(bad), func(k, v []byte) error { return nil })
		err2 := Array([]byte(bad), func(e []byte) error { return nil })
		if err1 == nil && err2 == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzIndent(f *testing.F) {
	for _, s := range samples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Walkers never panic on anything.
		_ = Object(b, func(k, v []byte) error { return nil })
		_ = Array(b, func(e []byte) error { return nil })
		b = bytes.TrimSpace(b)
		if !json.Valid(b) {
			return
		}
		var want bytes.Buffer
		json.Indent(&want, b, "", "\t")
		if got := AppendIndent(nil, b, "", "\t"); string(got) != want.String() {
			t.Fatalf("%q:\n got %q\nwant %q", b, got, want.String())
		}
	})
}
