package sandbox

import (
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

// vendors lists the emulated APIs. Each one adds a line here.
func vendors(env *sim.Env) []sim.Vendor {
	return []sim.Vendor{
		ssp.New(env),
	}
}
