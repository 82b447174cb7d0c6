package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestEachItemPassesItemsThroughRaw(t *testing.T) {
	body := ` { "offset": -1, "meta": {"a": [1, {"b": "]}"}], "c": null},
		"results" : [ {"id":"a","s":"quote \" and \\\\ and \\\" end","n":-1.5e+3,"t":true,"f":false,"z":null},
		[1,2,[3]] , "x\u0041" , 7 ],
		"total_result_count": 42, "tail": "}" } `
	var got []string
	env, err := EachItem([]byte(body), "results", func(raw json.RawMessage) error {
		got = append(got, string(raw))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"id":"a","s":"quote \" and \\\\ and \\\" end","n":-1.5e+3,"t":true,"f":false,"z":null}`, `[1,2,[3]]`, `"x\u0041"`, `7`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("items\n got %q\nwant %q", got, want)
	}
	if env.Count != 4 || env.Total != 42 {
		t.Fatalf("envelope %+v", env)
	}
}

func TestEachItemEmptyAndNull(t *testing.T) {
	for _, body := range []string{`{"results":[]}`, `{"results":null}`, `{}`, `{"results": [ ] ,"x":1}`} {
		env, err := EachItem([]byte(body), "results", func(json.RawMessage) error { t.Fatalf("%s: item", body); return nil })
		if err != nil || env.Count != 0 {
			t.Errorf("%s: %+v %v", body, env, err)
		}
	}
}

func TestEachItemRejectsBrokenJSON(t *testing.T) {
	for _, body := range []string{
		``, `[]`, `{"results":[{"a":1}`, `{"results":[{"a":"x}]}`, `{"results":[{"a":1]]}`, `{"results":{"a":1}}`,
		`{"results":[1 2]}`, `{"results":[tru]}`, `{"a" 1}`, `{"a":1 "results":[]}`, `{"results":[@]}`, `{"results":["\`,
	} {
		if _, err := EachItem([]byte(body), "results", func(json.RawMessage) error { return nil }); err == nil {
			t.Errorf("%q: accepted", body)
		}
	}
}

func TestEachItemStopsOnCallbackError(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	_, err := EachItem([]byte(`{"results":[1,2,3]}`), "results", func(json.RawMessage) error {
		n++
		if n == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 2 {
		t.Fatalf("%v after %d items", err, n)
	}
}

// FuzzEachItem checks the hand-written scanner against encoding/json: on
// valid JSON it finds exactly the items json.Unmarshal finds, byte for
// byte after compaction, and it never panics on anything.
func FuzzEachItem(f *testing.F) {
	f.Add([]byte(`{"results":[{"id":"a"},{"id":"b\"]"}],"total_result_count":2}`))
	f.Add([]byte(`{"results":null,"x":{"results":[1]}}`))
	f.Add([]byte(`{"a":"\\","results":[[[]],{},"",0,-0.5E-7,true,false,null]}`))
	f.Add([]byte(`{"results":[{"a":1]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var got []json.RawMessage
		env, err := EachItem(body, "results", func(raw json.RawMessage) error {
			got = append(got, append(json.RawMessage(nil), raw...))
			return nil
		})
		if !json.Valid(body) {
			return // any answer but a panic will do; printing re-validates items
		}
		var doc map[string]json.RawMessage
		if json.Unmarshal(body, &doc) != nil || doc == nil { // not an object (null decodes to a nil map)
			if err == nil {
				t.Fatalf("not an object, accepted: %q", body)
			}
			return
		}
		var want []json.RawMessage
		if r, ok := doc["results"]; ok && string(r) != "null" {
			if json.Unmarshal(r, &want) != nil {
				if err == nil {
					t.Fatalf("results not an array, accepted: %q", body)
				}
				return
			}
		}
		if bytes.Count(body, []byte(`"results"`)) > 1 {
			return // a repeated key: encoding/json keeps the last, the scanner walks each
		}
		if err != nil {
			t.Fatalf("valid body rejected: %v: %q", err, body)
		}
		if len(got) != len(want) || env.Count != len(want) {
			t.Fatalf("%d items, want %d: %q", len(got), len(want), body)
		}
		for i := range got {
			var a, b bytes.Buffer
			json.Compact(&a, got[i])
			json.Compact(&b, want[i])
			if a.String() != b.String() {
				t.Fatalf("item %d: %s, want %s", i, got[i], want[i])
			}
		}
	})
}

func TestEachItemRejectsTrailingData(t *testing.T) {
	for _, body := range []string{`{"results":[]}garbage`, `{"results":[{"id":"a"}]} {"results":[]}`, `{"results":[]},`} {
		if _, err := EachItem([]byte(body), "results", func(json.RawMessage) error { return nil }); err == nil {
			t.Errorf("%q accepted", body)
		}
	}
	if _, err := EachItem([]byte("{\"results\":[]}\n  "), "results", func(json.RawMessage) error { return nil }); err != nil {
		t.Errorf("trailing white space refused: %v", err)
	}
}

func TestEachFieldWalksMembersRaw(t *testing.T) {
	obj := []byte(` {"id":"a\"b", "n" : -1.5e3,"o":{"x":[1,"}"]},"k\u0065y":true,"z":null} `)
	var got []string
	if err := EachField(obj, func(k, v []byte) bool {
		got = append(got, string(k)+"="+string(v))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{`id="a\"b"`, `n=-1.5e3`, `o={"x":[1,"}"]}`, `key=true`, `z=null`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	n := 0
	if err := EachField(obj, func(k, v []byte) bool { n++; return string(k) != "n" }); err != nil || n != 2 {
		t.Fatalf("stopping early: %d fields, %v", n, err)
	}
	for _, bad := range []string{``, `[]`, `{"a"}`, `{"a":1,}`, `{"a":1 "b":2}`, `{"a":`, `{"a":1`} {
		if err := EachField([]byte(bad), func(k, v []byte) bool { return true }); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
