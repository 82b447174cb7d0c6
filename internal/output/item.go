package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Item is a decoded JSON object for table columns and field lookups.
type Item map[string]any

// ParseItem decodes a raw JSON object, keeping numbers exact.
func ParseItem(raw json.RawMessage) (Item, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("server sent invalid JSON: %w", err)
	}
	return Item(m), nil
}

// Get looks up a dotted path such as "sensor_status.health".
func (it Item) Get(path string) (any, bool) {
	var cur any = map[string]any(it)
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[k]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// String renders a field for a table cell or -o id ("" when absent).
func (it Item) String(path string) string {
	v, ok := it.Get(path)
	if !ok || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				if n, ok := m["name"].(string); ok {
					parts = append(parts, n)
					continue
				}
			}
			parts = append(parts, fmt.Sprint(e))
		}
		return strings.Join(parts, ",")
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// Int returns an integer field.
func (it Item) Int(path string) (int64, bool) {
	v, ok := it.Get(path)
	if !ok {
		return 0, false
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

// Bool returns a boolean field.
func (it Item) Bool(path string) (bool, bool) {
	v, ok := it.Get(path)
	if !ok {
		return false, false
	}
	b, ok := v.(bool)
	return b, ok
}

// TimeFormat is how tables show instants: local time, minute precision.
const TimeFormat = "2006-01-02 15:04 MST"

// MsTime renders an epoch-milliseconds field as local time for tables.
func (it Item) MsTime(path string) string {
	ms, ok := it.Int(path)
	if !ok || ms <= 0 {
		return ""
	}
	return time.UnixMilli(ms).Local().Format(TimeFormat)
}

// Field is a column showing a field as is.
func Field(header, path string) Column {
	return Column{Header: header, Value: func(it Item) string { return it.String(path) }}
}

// TimeField is a column showing an epoch-ms field as local time.
func TimeField(header, path string) Column {
	return Column{Header: header, Value: func(it Item) string { return it.MsTime(path) }}
}
