package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

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

// sensorKind is the sensor list's table: name, id and two times read from
// each item (wide adds three more).
var sensorKind = Kind{Noun: "sensor", IDField: "id", Columns: []Column{
	TextField("NAME", "display_name"), Field("ID", "id"),
	TimeField("REGISTERED", "_create_time"), TimeField("MODIFIED", "_last_modified_time"),
	Field("TOKEN", "token_id").WideOnly(), Field("REVISION", "_revision").WideOnly(), TextField("DESCRIPTION", "description").WideOnly(),
}}

// BenchmarkList streams 1000 sensor-sized items in each list format, the
// per-page output work of `sensor list --all -o FORMAT`. BenchmarkJSONList
// is the json case under its old name.
func BenchmarkList(b *testing.B) {
	for _, format := range []string{JSON, JSONL, ID, Table, Wide} {
		b.Run(format, func(b *testing.B) { benchmarkList(b, format) })
	}
}

// processCPU is the process's user and system CPU time so far: on a busy
// machine wall time per op mostly measures the other processes, CPU time
// (cpu-ns/op, garbage collection included) what printing costs.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkJSONList streams 1000 sensor-sized items as a JSON array.
func BenchmarkJSONList(b *testing.B) { benchmarkList(b, JSON) }

func benchmarkList(b *testing.B, format string) {
	items := make([]json.RawMessage, 1000)
	size := 0
	for i := range items {
		items[i] = sensorLike(i)
		size += len(items[i])
	}
	ios, _, _, _ := iostreams.Test()
	ios.Out = io.Discard
	p := New(ios, Options{Format: format, Width: 120})
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpu0 := processCPU()
	defer func() { b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op") }()
	for b.Loop() {
		l := p.List(sensorKind)
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
