package sensor

import (
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/output/outputtest"
)

// TestSensorDetailsTable: the sensor details table at 60, 80 and 200
// columns, with and without colour, and -o wide
// (testdata/sensor-details-*.golden).
func TestSensorDetailsTable(t *testing.T) {
	outputtest.Tables(t, "sensor-details", detailKind(), outputtest.Items(t, "sensor-details.json"), time.UnixMilli(1796022931445))
}
