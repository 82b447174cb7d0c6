package token

import (
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/output/outputtest"
)

// fixtureNow is the clock of the fixtures' times (the sandbox's, when
// testdata/token-list.json was captured from it).
var fixtureNow = time.UnixMilli(1796022931445)

// TestTokenListTable: the sensor token table at 60, 80 and 200 columns,
// with and without colour, and -o wide (testdata/token-list-*.golden).
func TestTokenListTable(t *testing.T) {
	outputtest.Tables(t, "token-list", sensorTokenKind(), outputtest.Items(t, "token-list.json"), fixtureNow)
}
