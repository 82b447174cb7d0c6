package cmdutil

import (
	"context"
	"strings"
	"time"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/nsx"
)

// nsxAuth picks the profile's NSX auth method: HTTP Basic (the default),
// a session (created on the first call, destroyed when the command ends),
// or a principal identity's client certificate. NSX errors are the
// ApiError shape the client decodes by default.
func (f *Factory) nsxAuth(ctx context.Context, p *config.Resolved, opts *client.Options) (client.Auth, error) {
	switch p.Auth {
	case "", config.AuthBasic:
		return f.basicAuth(ctx, p, *opts)
	case config.AuthSession:
		b, err := f.basicAuth(ctx, p, *opts)
		if err != nil {
			return nil, err
		}
		if opts.Redactor == nil {
			opts.Redactor = client.NewRedactor()
		}
		opts.Redactor.AddSecret(b.Password)
		s := &nsx.SessionAuth{Username: b.Username, Password: b.Password}
		f.AddCleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// A session left behind idles out on the manager; failing to
			// end it is not the command's failure.
			_ = s.Close(ctx)
		})
		return s, nil
	case config.AuthCert:
		if !strings.HasPrefix(p.Server, "https://") {
			return nil, exit.Usagef("%s: cert auth presents a TLS client certificate, so the server must be https:// (it is %s)", profileLabel(p), p.Server)
		}
		if p.CertFile == "" || p.KeyFile == "" {
			return nil, exit.Usagef("%s: cert auth needs cert_file and key_file: `tokenctl profile set %s --cert-file CERT.pem --key-file KEY.pem`", profileLabel(p), profileRef(p))
		}
		return nsx.CertAuth{}, nil
	}
	return nil, exit.Usagef("%s: auth %q is not an NSX auth method (basic, session or cert)", profileLabel(p), p.Auth)
}

// NSXClient connects the current NSX profile and returns the typed client,
// with the run-time cache of what the manager supports.
func (f *Factory) NSXClient(ctx context.Context) (*nsx.Client, *config.Resolved, error) {
	c, p, err := f.APIClient(ctx)
	if err != nil {
		return nil, nil, err
	}
	return NewNSX(c, p), p, nil
}

// NewNSX wraps a connected client of an NSX profile.
func NewNSX(c *client.Client, p *config.Resolved) *nsx.Client {
	var cache nsx.Cache
	if dc := discoveryCache(p); dc != nil {
		cache = dc
	}
	return nsx.New(c, cache)
}

// discoveryCache is the run-time cache ($XDG_STATE_HOME/tokenctl/cache.json),
// or nil for the built-in sandbox, whose port changes every run and would
// only leave stale entries behind.
func discoveryCache(p *config.Resolved) *config.Cache {
	if p.Sandbox {
		return nil
	}
	c, err := config.OpenCache()
	if err != nil {
		return nil
	}
	return c
}
