package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/iostreams"
)

// sensorLike is an item shaped like an SSP Sensor: a dozen fields and a
// PEM certificate of about 1.8 KB with escaped newlines.
func sensorLike(i int) json.RawMessage {
	pem := strings.Repeat(strings.Repeat("MIIEZDCCAsygAwIBAgIBATANBgkqhkiG9w0BAQsFADBJMRkwFwYDVQQKExB0b2tl", 1)+`\n`, 28)
	return json.RawMessage(fmt.Sprintf(`{"_create_time":1751030010039,"_create_user":"ndr-sensor","_last_modified_time":1751030010279,"_revision":1,`+
		`"id":"aad3ff20-ad06-49bb-ad0a-%012d","display_name":"dal-dc2-ndr-%06d","description":"NDR sensor, Dallas data center 2",`+
		`"token_id":"7be4d7db-3909-4691-8d38-7d0c3b0b71ef","certificate":"-----BEGIN CERTIFICATE-----\n%s-----END CERTIFICATE-----\n",`+
		`"deployment_type":"VM","tags":[{"scope":"site","tag":"dal"}],"enabled":true,"parent":null}`, i, i, pem))
}

// BenchmarkJSONList streams 1000 sensor-sized items as a JSON array, the
// per-page output work of `sensor list --all -o json`.
func BenchmarkJSONList(b *testing.B) {
	items := make([]json.RawMessage, 1000)
	size := 0
	for i := range items {
		items[i] = sensorLike(i)
		size += len(items[i])
	}
	ios, _, _, _ := iostreams.Test()
	ios.Out = io.Discard
	p := New(ios, Options{Format: JSON})
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		l := p.List(Kind{})
		for _, it := range items {
			if err := l.Add(it); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
