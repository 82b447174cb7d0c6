package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
)

// Item is one JSON object as the vendor sent it, with an index of its
// top-level members, for table columns and -o id. Fields are read from the
// raw bytes (client.EachField, the page scanner) instead of decoding the
// item into maps: a table of 100,000 sensors reads ten fields of each, and
// a generic decode cost more than fetching them. An Item aliases the bytes
// it was parsed from.
type Item struct {
	fields []member
}

type member struct{ key, value []byte }

// ParseItem indexes a raw JSON object.
func ParseItem(raw json.RawMessage) (Item, error) {
	var it Item
	err := it.parse(raw)
	return it, err
}

// parse indexes raw into it, reusing its index's memory.
func (it *Item) parse(raw []byte) error {
	it.fields = it.fields[:0]
	err := client.EachField(raw, func(k, v []byte) bool {
		it.fields = append(it.fields, member{k, v})
		return true
	})
	if err != nil {
		return fmt.Errorf("server sent invalid JSON: %w", err)
	}
	return nil
}

// rawPath returns the raw JSON value at a dotted path such as
// "sensor_status.health".
func (it Item) rawPath(path string) ([]byte, bool) {
	first, rest, nested := strings.Cut(path, ".")
	var v []byte
	found := false
	for _, m := range it.fields {
		if string(m.key) == first {
			v, found = m.value, true // a repeated key: the last wins, as in encoding/json
		}
	}
	if !found {
		return nil, false
	}
	if !nested {
		return v, true
	}
	return lookup(v, rest)
}

// lookup finds a dotted path in a raw JSON value without an index.
func lookup(v []byte, path string) ([]byte, bool) {
	for path != "" {
		var key string
		key, path, _ = strings.Cut(path, ".")
		if len(v) == 0 || v[0] != '{' {
			return nil, false
		}
		var next []byte
		found := false
		if client.EachField(v, func(k, val []byte) bool {
			if string(k) == key {
				next, found = val, true
			}
			return true
		}) != nil || !found {
			return nil, false
		}
		v = next
	}
	return v, true
}

// Get returns the raw JSON value at a dotted path.
func (it Item) Get(path string) (json.RawMessage, bool) {
	v, ok := it.rawPath(path)
	return json.RawMessage(v), ok
}

// String renders a field for a table cell or -o id ("" when absent or
// null): strings unquoted, numbers and booleans as written, a list of
// objects by their "name" fields joined with commas.
func (it Item) String(path string) string {
	v, ok := it.rawPath(path)
	if !ok {
		return ""
	}
	return rawString(v)
}

// rawString renders a raw JSON value as String does.
func rawString(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		return unquote(v)
	case 'n':
		return ""
	case '[':
		var elems []json.RawMessage
		if json.Unmarshal(v, &elems) != nil {
			return string(v)
		}
		parts := make([]string, 0, len(elems))
		for _, e := range elems {
			if len(e) > 0 && e[0] == '{' {
				if n, ok := lookup(e, "name"); ok && len(n) > 0 && n[0] == '"' {
					parts = append(parts, unquote(n))
					continue
				}
			}
			parts = append(parts, rawString(e))
		}
		return strings.Join(parts, ",")
	case '{':
		var buf bytes.Buffer
		if json.Compact(&buf, v) != nil {
			return string(v)
		}
		return buf.String()
	default: // a number, true or false: as the server wrote it
		return string(v)
	}
}

// unquote decodes a raw JSON string; one without escapes is sliced.
func unquote(v []byte) string {
	if len(v) >= 2 && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1])
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return string(v)
	}
	return s
}

// Int returns an integer field.
func (it Item) Int(path string) (int64, bool) {
	v, ok := it.rawPath(path)
	if !ok || len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return 0, false
	}
	i, err := strconv.ParseInt(string(v), 10, 64)
	return i, err == nil
}

// Bool returns a boolean field.
func (it Item) Bool(path string) (bool, bool) {
	v, ok := it.rawPath(path)
	if !ok {
		return false, false
	}
	switch string(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// TimeFormat is how tables show instants: local time, minute precision.
const TimeFormat = "2006-01-02 15:04 MST"

// MsTime renders an epoch-milliseconds field as local time.
func (it Item) MsTime(path string) string {
	ms, ok := it.Int(path)
	if !ok || ms <= 0 {
		return ""
	}
	return time.UnixMilli(ms).Local().Format(TimeFormat)
}
