package cmdutil

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/nsx"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// APIClient connects the current profile: it starts the emulator for the
// built-in sandbox profile, resolves the credentials (prompting only when a
// person is at a terminal), and returns the platform's HTTP client.
func (f *Factory) APIClient(ctx context.Context) (*client.Client, *config.Resolved, error) {
	p, err := f.Profile()
	if err != nil {
		return nil, nil, err
	}
	if p.Sandbox {
		if err := f.startSandbox(p); err != nil {
			return nil, nil, err
		}
	}
	opts, err := f.ClientOptions(p)
	if err != nil {
		return nil, nil, err
	}
	var auth client.Auth
	switch p.Platform {
	case config.SSP:
		auth, err = f.basicAuth(ctx, p, opts)
	case config.SDWAN:
		auth, err = f.sdwanAuth(ctx, p, &opts)
	case config.NSX:
		auth, err = f.nsxAuth(ctx, p, &opts)
	case config.Agent:
		auth, err = f.agentAuth(ctx, p, &opts)
	default:
		return nil, nil, exit.Usagef("platform %q is not supported yet", p.Platform)
	}
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(opts, auth)
	if err != nil {
		return nil, nil, err
	}
	f.WarnPlainHTTP(p.Server, credentialsOf(auth))
	f.serverNow = c.ServerNow
	if b, ok := auth.(*client.BasicAuth); ok {
		c.Redactor().AddSecret(b.Password)
	}
	// Concurrent requests can leave a connection dialled but never used;
	// closing them at the end lets the built-in sandbox, which stops after
	// this (cleanups run last registered first), shut down at once rather
	// than wait 5s for them.
	f.AddCleanup(c.R.GetClient().CloseIdleConnections)
	return c, p, nil
}

// basicAuth resolves a username and password for HTTP Basic.
func (f *Factory) basicAuth(ctx context.Context, p *config.Resolved, opts client.Options) (*client.BasicAuth, error) {
	if p.Username == "" {
		if p.Name == "" {
			return nil, exit.Usagef("the --server connection has no username: set TOKENCTL_USERNAME, or save a profile with `tokenctl profile set NAME --username USER`")
		}
		return nil, exit.Usagef("%s has no username: set it with `tokenctl profile set %s --username USER` or TOKENCTL_USERNAME", profileLabel(p), profileRef(p))
	}
	password, err := f.Password(ctx, p)
	if err != nil {
		return nil, err
	}
	return &client.BasicAuth{Username: p.Username, Password: password}, nil
}

// Password returns the profile's password, asking for it at a terminal when
// the profile has none.
func (f *Factory) Password(ctx context.Context, p *config.Resolved) (string, error) {
	password, ok, err := p.Password(ctx)
	if err != nil {
		return "", err
	}
	if ok {
		return password, nil
	}
	if !f.IOStreams.CanPrompt() {
		return "", exit.Usagef("%s has no password: set TOKENCTL_PASSWORD, or password_env / password_command in the profile (`tokenctl profile set %s --password-env VAR`), or run in a terminal to be asked", profileLabel(p), profileRef(p))
	}
	password, err = f.Prompter.Password(fmt.Sprintf("Password for %s at %s", p.Username, p.Server))
	if err != nil {
		return "", err
	}
	p.SetPassword(password)
	return password, nil
}

// profileRef is the profile's name for a `profile set` hint ("NAME" for an
// ad-hoc --server connection).
func profileRef(p *config.Resolved) string {
	if p.Name == "" {
		return "NAME"
	}
	return p.Name
}

func profileLabel(p *config.Resolved) string {
	if p.Name == "" {
		return "the --server connection"
	}
	return fmt.Sprintf("profile %q", p.Name)
}

// credentialsOf names what an auth method sends, for the plain-HTTP warning.
func credentialsOf(a client.Auth) string {
	switch a.(type) {
	case *client.BasicAuth:
		return "your user name and password (HTTP Basic)"
	case *nsx.SessionAuth:
		return "your password and session cookie"
	case *sdwan.StaticToken:
		return "your static X-Auth-Token"
	case *sdwan.OAuth:
		return "your OAuth access token"
	}
	return "your credentials"
}

// WarnPlainHTTP warns, once per run, that credentials go to a plain
// http:// server other than a loopback one, where anyone on the path can
// read them (--insecure warns too; this is worse).
func (f *Factory) WarnPlainHTTP(server, what string) {
	u, err := url.Parse(server)
	if err != nil || u.Scheme != "http" || isLoopback(u.Hostname()) || f.plainHTTPWarned[u.Host] {
		return
	}
	if f.plainHTTPWarned == nil {
		f.plainHTTPWarned = map[string]bool{}
	}
	f.plainHTTPWarned[u.Host] = true
	f.Warn("%s is plain HTTP: %s will cross the network unencrypted; use https://", config.RedactURL(u.Scheme+"://"+u.Host), what)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
