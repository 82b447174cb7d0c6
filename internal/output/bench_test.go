package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/client"
)

// page builds an SSP-like page of n sensor-sized items.
func page(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"offset":-1,"total_result_count":100000,"results":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"_create_time":1735689600000,"_create_user":"ndr-sensor","_revision":1,"id":"%08x-6a06-4c46-8de1-476ec7858c64","display_name":"ams-dc1-ndr-%05d","description":"seeded sensor","token_id":"5aaf7cf0-fda2-441a-a7c4-daa0a599b78b","certificate":"-----BEGIN CERTIFICATE-----\nMIIEpDCCAowCCQC7\n-----END CERTIFICATE-----\n","algorithm":"RSA","key_size":3072}`, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkPagePassThrough is the hot path of `sensor list --all -o json`:
// split a page into items and stream them re-indented.
func BenchmarkPagePassThrough(b *testing.B) {
	body := page(1000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l := &jsonList{w: io.Discard}
		if _, err := client.EachItem(body, "results", func(raw json.RawMessage) error { return l.Add(raw) }); err != nil {
			b.Fatal(err)
		}
		l.Close()
	}
}
