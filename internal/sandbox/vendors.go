package sandbox

import (
	"github.com/tokenctl/tokenctl/internal/sandbox/agent"
	"github.com/tokenctl/tokenctl/internal/sandbox/nsx"
	"github.com/tokenctl/tokenctl/internal/sandbox/sdwan"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/sandbox/ssp"
)

// vendors lists the emulated APIs. Each one adds a line here.
func vendors(env *sim.Env) []sim.Vendor {
	return []sim.Vendor{
		nsx.New(env),
		agent.New(env),
		sdwan.New(env),
		ssp.New(env),
	}
}
