package cmdutil

import (
	"context"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// agentAuth is HTTP Basic with a Bamboo administrator, as the plugin's
// example does (curl -uadmin:admin); errors are Atlassian REST bodies.
func (f *Factory) agentAuth(ctx context.Context, p *config.Resolved, opts *client.Options) (client.Auth, error) {
	if p.Auth != "" && p.Auth != config.AuthBasic {
		return nil, exit.Usagef("%s: auth %q is not an agent auth method (basic)", profileLabel(p), p.Auth)
	}
	opts.DecodeError = agent.DecodeError
	return f.basicAuth(ctx, p, *opts)
}

// AgentClient connects the current agent profile and returns the typed
// client: the profile's api_version forces the API generation, else the
// cache or a probe decides.
func (f *Factory) AgentClient(ctx context.Context) (*agent.Client, *config.Resolved, error) {
	c, p, err := f.APIClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	return NewAgent(c, p), p, nil
}

// NewAgent wraps a connected client of an agent profile.
func NewAgent(c *client.Client, p *config.Resolved) *agent.Client {
	opts := agent.Options{Version: p.APIVersion}
	if dc := discoveryCache(p); dc != nil {
		opts.Cache = dc
	}
	return agent.New(c, opts)
}
