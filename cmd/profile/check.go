package profile

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// CheckReport is `profile check`'s result.
type CheckReport struct {
	Profile     string     `json:"profile"`
	Platform    string     `json:"platform"`
	Server      string     `json:"server"`
	TLS         *TLSReport `json:"tls,omitempty"`
	Auth        string     `json:"auth"`
	Credentials string     `json:"credentials"`
	Identity    string     `json:"identity,omitempty"`
	// Permissions says what the account may do, found with reads only.
	Permissions string            `json:"permissions,omitempty"`
	APIVersions map[string]string `json:"api_versions,omitempty"`
	Notes       []string          `json:"notes,omitempty"`
}

// TLSReport describes the server's certificate.
type TLSReport struct {
	Version     string `json:"version"`
	Subject     string `json:"subject"`
	Issuer      string `json:"issuer"`
	NotAfter    string `json:"not_after"`
	Thumbprint  string `json:"thumbprint_sha256"`
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
	Pinned      bool   `json:"pinned"`
	PinMatches  *bool  `json:"pin_matches,omitempty"`
}

// checkResult is what a platform's probe found.
type checkResult struct {
	identity    string
	permissions string
	versions    map[string]string
	notes       []string
	// credentials replaces "ok" when the server knew the user but the
	// check still failed (an agent-config user who is no administrator).
	credentials string
}

// NewCmdCheck builds `profile check`.
func NewCmdCheck(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "check [NAME]",
		Short: "Connect with a profile and report TLS, credentials, identity and API versions",
		Example: `  tokenctl profile check
  tokenctl profile check prod -o json`,
		Long: `Connect with the profile (the current one by default) and report the server's TLS
certificate and its SHA-256 thumbprint, whether the credentials work, the identity the server
sees, and the API versions detected. The exit code says what failed, as everywhere.`,
		Args:              cmdutil.MaxArgs(1, "NAME"),
		ValidArgsFunction: cmdutil.FirstArg(f.CompleteProfiles),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				f.UseProfile(args[0])
			}
			return checkRun(f, cmd)
		},
	}
}

func checkRun(f *cmdutil.Factory, cmd *cobra.Command) error {
	o, err := f.OutputFor(checkKind, output.One)
	if err != nil {
		return err
	}
	ctx := cmdutil.Context(cmd)
	c, p, err := f.APIClient(ctx)
	if err != nil {
		return err
	}
	rep := &CheckReport{Profile: p.Name, Platform: p.Platform, Server: p.Server, Auth: p.Auth}
	if rep.Auth == "" {
		rep.Auth = effectiveAuth(&p.Profile)
	}
	if strings.HasPrefix(p.Server, "https://") {
		rep.TLS, err = probeTLS(ctx, p)
		if err != nil {
			rep.Credentials = "not checked"
			printCheck(f, o, rep)
			return exit.WithCode(exit.Network, fmt.Errorf("TLS connection to %s: %w", p.Server, err))
		}
	}
	res, cerr := checkPlatform(ctx, c, p)
	switch {
	case res != nil:
		rep.Credentials = "ok"
		if res.credentials != "" {
			rep.Credentials = res.credentials
		}
		rep.Identity, rep.Permissions, rep.APIVersions, rep.Notes = res.identity, res.permissions, res.versions, res.notes
	case cerr != nil:
		rep.Credentials = "failed: " + firstLine(cerr.Error())
	}
	if err := printCheck(f, o, rep); err != nil {
		return err
	}
	return cerr
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func probeTLS(ctx context.Context, p *config.Resolved) (*TLSReport, error) {
	info, err := client.ProbeTLS(ctx, p.Server, client.TLSOptions{CAFile: p.CAFile, CertFile: p.CertFile, KeyFile: p.KeyFile}, 10*time.Second)
	if err != nil {
		return nil, err
	}
	r := &TLSReport{
		Version: info.Version, Subject: info.Subject, Issuer: info.Issuer,
		NotAfter: info.NotAfter.Format(time.RFC3339), Thumbprint: info.Thumbprint,
		Verified: info.Verified, VerifyError: info.VerifyError, Pinned: p.Thumbprint != "",
	}
	if r.Pinned {
		want, _ := client.NormalizeThumbprint(p.Thumbprint)
		got, _ := client.NormalizeThumbprint(info.Thumbprint)
		m := want == got
		r.PinMatches = &m
	}
	return r, nil
}

// checkPlatform makes one authenticated read call of the platform.
func checkPlatform(ctx context.Context, c *client.Client, p *config.Resolved) (*checkResult, error) {
	switch p.Platform {
	case config.SSP:
		return checkSSP(ctx, c, p)
	case config.SDWAN:
		return checkSDWAN(ctx, c, p)
	case config.NSX:
		return checkNSX(ctx, c, p)
	case config.Agent:
		return checkAgent(ctx, c, p)
	}
	return nil, exit.Usagef("profile check does not support %s profiles yet", p.Platform)
}

// checkKind prints a check report: a key/value view in tables.
var checkKind = output.Kind{Noun: "profile check report"}

func printCheck(f *cmdutil.Factory, o output.Options, r *CheckReport) error {
	if !o.IsTable() {
		return f.Printer(o).Object(cmdutil.RawOf(r), checkKind)
	}
	name := r.Profile
	if name == "" {
		name = "(--server)"
	}
	pairs := [][2]string{{"profile", name}, {"platform", r.Platform}, {"server", r.Server}}
	if t := r.TLS; t != nil {
		pairs = append(pairs,
			[2]string{"tls", t.Version},
			[2]string{"certificate", t.Subject},
			[2]string{"issuer", t.Issuer},
			[2]string{"expires", t.NotAfter},
			[2]string{"sha-256", t.Thumbprint})
		switch {
		case t.PinMatches != nil && *t.PinMatches:
			pairs = append(pairs, [2]string{"trust", "pinned thumbprint matches"})
		case t.PinMatches != nil:
			pairs = append(pairs, [2]string{"trust", "PINNED THUMBPRINT DOES NOT MATCH"})
		case t.Verified:
			pairs = append(pairs, [2]string{"trust", "verified by a trusted CA"})
		default:
			pairs = append(pairs, [2]string{"trust", "NOT TRUSTED: " + t.VerifyError})
		}
	}
	pairs = append(pairs, [2]string{"auth", r.Auth}, [2]string{"credentials", r.Credentials})
	if r.Identity != "" {
		pairs = append(pairs, [2]string{"identity", r.Identity})
	}
	if r.Permissions != "" {
		pairs = append(pairs, [2]string{"permissions", r.Permissions})
	}
	for _, k := range sortedKeys(r.APIVersions) {
		pairs = append(pairs, [2]string{"api " + k, r.APIVersions[k]})
	}
	for _, n := range r.Notes {
		pairs = append(pairs, [2]string{"note", n})
	}
	return output.KeyValues(f.IOStreams.Out, pairs)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkSSP proves the credentials with a read every SSP role may make
// (ListSensorDetails: enterprise_admin, auditor, security_engineer,
// security_op, support_bundle_collector, sensor), then finds out, with
// another read, whether the account may manage tokens
// (GetAllRegistrationTokens: enterprise_admin, security_engineer). A
// read-only account passes the check; its permissions say what it cannot do.
func checkSSP(ctx context.Context, c *client.Client, p *config.Resolved) (*checkResult, error) {
	one := map[string][]string{"page_size": {"1"}}
	_, err := c.Do(ctx, client.Call{Operation: "list sensor details", Method: http.MethodGet, Path: "/sensors/appliances/details", Query: one})
	if err != nil {
		return nil, err
	}
	res := &checkResult{
		identity: p.Username + " (HTTP Basic)",
		versions: map[string]string{"ssp": "sensor API answered (SSP publishes no version call)"},
	}
	_, err = c.Do(ctx, client.Call{Operation: "list sensor registration tokens", Method: http.MethodGet, Path: "/sensors/registration-tokens", Query: one})
	var ae *client.APIError
	switch {
	case err == nil:
		res.permissions = "can list sensors and manage tokens"
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		res.permissions = "read-only: can list sensors, cannot manage tokens (the token list answered 403)"
	default:
		res.permissions = "can list sensors; token access unknown: " + firstLine(err.Error())
	}
	return res, nil
}
