package authtoken

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/sdwan"
)

// CreateOptions are `authtoken create`'s inputs.
type CreateOptions struct {
	cmdutil.Verb

	File        string // -f FILE|-
	Roles       []string
	Expires     string // --expires 24h|30d
	ExpiresAt   string // --expires-at RFC3339
	SessionKeyC string // --session-key-c-file PATH|-
	Concurrency int
	IDs         cmdutil.SDWANIDs

	// Now is the clock expiries are computed and checked with.
	Now func() time.Time
}

// NewCmdCreate builds `authtoken create`; runF replaces the run (tests).
func NewCmdCreate(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{Verb: cmdutil.Verb{Factory: f}, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "create [-f FILE|-]",
		Short: "Create an auth token and show its secret once (sdwan)",
		Long: `Create an operator auth token from flags, or one token per document of a YAML or JSON
manifest (-f FILE, or -f - for stdin). Manifest fields are the vendor's request fields:
roles ([{name: ROLE}], at most 7), custom_roles (name, permissions, disallow_permissions,
custom_permissions, roles), expires_utc_ms (epoch milliseconds) and session_key_c (at most
128 characters). Flags override them. Several documents create several tokens concurrently,
each with its own result. A create from -f prints a result per document, whatever their
number (-o json: [{"source": "FILE#N", "outcome": "created|failed|unknown", "ok": ...,
"result"|"error": ...}]); -o secret and -o id take a manifest of one document only. An
"unknown" outcome (exit 7 for a single create) means the server may have made the token
although its answer was lost: look for it with "tokenctl authtoken list" before creating
again.

The expiry is required: --expires DURATION from now (24h, 90m, 30d, 1d12h) or --expires-at
RFC3339; it must lie in the future. It is sent as epoch milliseconds in expires_utc_ms (the
vendor's spec says seconds; the API takes milliseconds).

Roles are checked before anything is sent, against the 23 documented names:
  ` + strings.Join(sdwan.RoleNames(), ", ") + `

session_key_c is treated as a secret: it comes from the manifest or --session-key-c-file,
never from a plain flag value.

The new token's secret, x_auth_token, appears only here: in the table (with a warning on
stderr to store it now), in -o json and -o yaml, and alone with -o secret (a newline only on a
terminal), so that TOKEN=$(tokenctl authtoken create ... -o secret) works. -o id prints the id
and drops the secret.`,
		Example: `  export TOKEN=$(tokenctl authtoken create --role tenant_viewonly --expires 24h -o secret)
  tokenctl authtoken create --role tenant_network_admin --role tenant_security_admin --expires-at 2027-01-01T00:00:00Z -o json
  tokenctl authtoken create -f tokens.yaml -o json`,
		Args: cmdutil.NoArgs,
		RunE: cmdutil.Run(opts, runF, createRun),
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", "", "manifest file of one or more YAML/JSON documents; - reads stdin")
	fl.StringSliceVar(&opts.Roles, "role", nil, "role name (repeatable, at most 7): replaces the manifest's roles")
	fl.StringVar(&opts.Expires, "expires", "", "lifetime from now: a duration such as 24h or 90m, or days such as 30d")
	fl.StringVar(&opts.ExpiresAt, "expires-at", "", "expiry instant, RFC3339 (e.g. 2027-01-01T00:00:00Z)")
	fl.StringVar(&opts.SessionKeyC, "session-key-c-file", "", "read session_key_c from the first line of this file (- for stdin)")
	fl.IntVar(&opts.Concurrency, "concurrency", bulk.DefaultConcurrency, "how many documents of a manifest are created at once")
	addIDFlags(cmd, &opts.IDs)
	cmdutil.CompleteFlag(cmd, "role", cmdutil.FixedValues(sdwan.RoleNames()...))
	return cmd
}

// flagExpiry turns --expires / --expires-at into epoch milliseconds; nil
// when neither was given.
func (opts *CreateOptions) flagExpiry(now time.Time) (*int64, []exit.Problem) {
	var ps []exit.Problem
	if opts.Expires != "" && opts.ExpiresAt != "" {
		return nil, []exit.Problem{{Field: "--expires", Rule: "give --expires or --expires-at, not both"}}
	}
	switch {
	case opts.Expires != "":
		d, err := sdwan.ParseLifetime(opts.Expires)
		if err != nil {
			return nil, append(ps, exit.Problem{Field: "--expires", Rule: err.Error()})
		}
		ms := now.Add(d).UnixMilli()
		return &ms, nil
	case opts.ExpiresAt != "":
		t, err := time.Parse(time.RFC3339, opts.ExpiresAt)
		if err != nil {
			return nil, append(ps, exit.Problem{Field: "--expires-at", Rule: fmt.Sprintf("%q is not an RFC3339 instant such as 2027-01-01T00:00:00Z", opts.ExpiresAt)})
		}
		if !t.After(now) {
			return nil, append(ps, exit.Problem{Field: "--expires-at", Rule: fmt.Sprintf("%s is not in the future", opts.ExpiresAt)})
		}
		ms := t.UnixMilli()
		return &ms, nil
	}
	return nil, nil
}

// readSessionKeyC reads --session-key-c-file: the first line, without its
// line ending ("-" is stdin).
func (opts *CreateOptions) readSessionKeyC() (*string, error) {
	if opts.SessionKeyC == "" {
		return nil, nil
	}
	var data []byte
	var err error
	if opts.SessionKeyC == "-" {
		data, err = io.ReadAll(io.LimitReader(opts.Factory.IOStreams.In, 64<<10))
	} else {
		data, err = os.ReadFile(opts.SessionKeyC)
	}
	if err != nil {
		return nil, exit.Usagef("--session-key-c-file: %v", err)
	}
	line, _, _ := strings.Cut(string(data), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return nil, exit.Usagef("--session-key-c-file %s: empty", opts.SessionKeyC)
	}
	return &line, nil
}

func createRun(opts *CreateOptions) error {
	f := opts.Factory
	p, err := f.ProfileOn(opts.Cmd, config.SDWAN)
	if err != nil {
		return err
	}
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	if err := o.Check(authTokenKind(true), output.One); err != nil {
		return err
	}
	api, err := sdwan.ResolveAPI(p.APIGeneration, p.APIVersion, p.Auth)
	if err != nil {
		return err
	}
	now := opts.Now()
	var problems []exit.Problem
	problems = append(problems, cmdutil.ConcurrencyProblems(opts.Concurrency)...)
	if opts.File == "-" && opts.SessionKeyC == "-" {
		problems = append(problems, exit.Problem{Field: "--session-key-c-file", Rule: "stdin already carries the manifest (-f -); name a file"})
	}
	expiry, expiryProblems := opts.flagExpiry(now)
	problems = append(problems, expiryProblems...)
	rolesGiven := cmdutil.Changed(opts.Cmd, "role")
	if opts.File == "" && len(problems) == 0 && f.IOStreams.CanPrompt() {
		askRoles := !rolesGiven
		if askRoles || expiry == nil {
			roles, asked, err := askCreate(f, opts, api, now, askRoles)
			if err != nil {
				return err
			}
			if askRoles {
				opts.Roles, rolesGiven = roles, len(roles) > 0
			}
			if asked != nil {
				expiry = asked
			}
		}
	}

	docs, err := f.ReadDocuments(opts.File, o)
	if err != nil {
		return err
	}
	sessionKeyC, err := opts.readSessionKeyC()
	if err != nil {
		return err
	}

	n := max(len(docs), 1)
	reqs := make([]*sdwan.AuthTokenRequest, n)
	sources := make([]string, n)
	for i := range reqs {
		req := &sdwan.AuthTokenRequest{}
		var dps []exit.Problem // the document's own problems: its other checks still run
		if docs != nil {
			sources[i] = docs[i].Source
			if dps = readOnlyFields(docs[i].Decode(req)); manifest.Fatal(dps) {
				problems = append(problems, dps...)
				continue
			}
		}
		if rolesGiven {
			req.Roles = make([]sdwan.AuthRole, 0, len(opts.Roles))
			for _, r := range opts.Roles {
				req.Roles = append(req.Roles, sdwan.AuthRole{Name: strings.TrimSpace(r)})
			}
		}
		if expiry != nil {
			req.ExpiresUTCMs = expiry
		}
		if sessionKeyC != nil {
			req.SessionKeyC = sessionKeyC
		}
		reqs[i] = req
		var checks []exit.Problem
		for _, pr := range flagNames(req.Validate(sources[i], api, now), docs == nil) {
			// A bad --expires/--expires-at is reported once, above.
			if pr.Field == "expires_utc_ms" && len(expiryProblems) > 0 {
				continue
			}
			checks = append(checks, pr)
		}
		problems = append(problems, manifest.Combine(dps, checks)...)
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}

	ctx := cmdutil.Context(opts.Cmd)
	sc, _, err := f.SDWANClient(ctx, opts.IDs)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		if r.SessionKeyC != nil {
			sc.HTTP().Redactor().AddSecret(*r.SessionKeyC)
		}
	}
	kind := authTokenKind(true)
	if docs == nil {
		// From flags alone: the vendor's object.
		raw, err := sc.CreateAuthToken(ctx, reqs[0])
		if err != nil {
			return client.LookFor(err, lookFor)
		}
		return printCreated(f, o, kind, raw)
	}
	results := f.RunCreates(ctx, cmdutil.CreateBatch{
		Sources:     sources,
		Concurrency: opts.Concurrency,
		Create: func(ctx context.Context, i int) (json.RawMessage, error) {
			return sc.CreateAuthToken(ctx, reqs[i])
		},
		LookFor: func(int) string { return lookFor },
		Finish:  "SD-WAN auth tokens have no name to skip them by: to finish, run only the documents that failed (listed above) again; look for those with an unknown outcome first.",
	})
	if cmdutil.SingleValueFormat(o.Format) {
		r := results[0]
		if !r.OK {
			return r.Err
		}
		return printCreated(f, o, kind, r.Value)
	}
	if err := f.PrintBulk(o, kind, results); err != nil {
		return err
	}
	warnSecretShown(f, o)
	return nil
}

// lookFor is where to look for an auth token whose create has an unknown
// outcome: the list shows the operator's tokens (without their secrets).
const lookFor = "a new auth token in `tokenctl authtoken list` (its x_auth_token can never be shown: delete it and create another)"

// readOnlyFields explains the unknown-field problem of the fields a create
// must not set (v2.1 rejects them with AUTH_TOKEN_CANNOT_SET_READONLY_FIELDS),
// which a manifest copied from -o json output carries.
func readOnlyFields(ps []exit.Problem) []exit.Problem {
	for i := range ps {
		switch ps[i].Field {
		case "id", "x_auth_token", "is_system_owned", "_etag", "_schema", "_created_on_utc", "_updated_on_utc":
			ps[i].Rule = "read-only: the server sets it; remove it from the manifest"
		}
	}
	return ps
}

// flagNames renames the fields of problems that flags set, when the
// request came from flags alone, so the message names what to change.
func flagNames(ps []exit.Problem, fromFlags bool) []exit.Problem {
	if !fromFlags {
		return ps
	}
	for i := range ps {
		switch {
		case ps[i].Field == "roles" || strings.HasPrefix(ps[i].Field, "roles["):
			ps[i].Field = "--role (" + ps[i].Field + ")"
		case ps[i].Field == "session_key_c":
			ps[i].Field = "--session-key-c-file (session_key_c)"
		}
	}
	return ps
}

// printCreated prints a new token: -o secret prints x_auth_token alone.
func printCreated(f *cmdutil.Factory, o output.Options, kind output.Kind, raw json.RawMessage) error {
	item, err := output.ParseItem(raw)
	if err != nil {
		return err
	}
	f.Notice("Created auth token %s (expires %s).", item.String("id"), item.MsTime("expires_utc_ms"))
	if o.Format == output.Secret && item.String("x_auth_token") == "" {
		return exit.Errorf(exit.Error, "auth token %s was created, but the answer carries no x_auth_token", item.String("id"))
	}
	if err := f.Printer(o).Object(raw, kind); err != nil {
		return err
	}
	warnSecretShown(f, o)
	return nil
}

// warnSecretShown tells a person that the secret just printed is shown
// only once, or that -o id dropped it.
func warnSecretShown(f *cmdutil.Factory, o output.Options) {
	switch o.Format {
	case output.Secret:
	case output.ID:
		f.Warn("the new token's x_auth_token was not printed (-o id) and can never be shown again; delete the token if you need its secret")
	default:
		f.Warn("store the x_auth_token now: it is shown only once and can never be retrieved again")
	}
}
