package client

import (
	"context"

	"github.com/go-resty/resty/v2"
)

// BasicAuth is HTTP Basic authentication (SSP, NSX, agent-config).
type BasicAuth struct {
	Username string
	Password string
}

// Apply implements Auth.
func (b *BasicAuth) Apply(_ context.Context, _ *Client, r *resty.Request) error {
	r.SetBasicAuth(b.Username, b.Password)
	return nil
}

// Renew implements Auth: a rejected password stays rejected.
func (b *BasicAuth) Renew(context.Context, *Client, *Response) (bool, error) { return false, nil }
