package sandbox

import (
	"github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// vendors lists the emulated APIs. Each one adds a line here.
func vendors(env *sim.Env) []sim.Vendor {
	return []sim.Vendor{
		sdwan.New(env),
	}
}
