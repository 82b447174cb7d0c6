package token

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

func createSSP(opts *CreateOptions, p *config.Resolved) error {
	f := opts.Factory
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	typ, _, err := sspType(opts.Type, p)
	if err != nil {
		return err
	}
	var problems []exit.Problem
	if opts.Concurrency < 1 {
		problems = append(problems, exit.Problem{Field: "--concurrency", Rule: "must be at least 1"})
	}
	if o.Format == output.Secret && !o.DropEnvFormat() {
		problems = append(problems, exit.Problem{Field: "--output", Rule: "SSP tokens have no one-time secret to print; use -o manifest or -o json"})
	}
	if typ != ssp.Baremetal && cmdutil.Changed(opts.Cmd, "expiry-minutes") {
		problems = append(problems, exit.Problem{Field: "--expiry-minutes", Rule: "applies to --type baremetal only (a sensor token lives 30 minutes)"})
	}
	problems = append(problems, opts.Passphrase.Validate(f)...)
	if opts.File == "-" && opts.Passphrase.Stdin {
		problems = append(problems, exit.Problem{Field: "--passphrase-stdin", Rule: "stdin already carries the manifest (-f -); use --passphrase-file or a passphrase field"})
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}

	var docs []manifest.Document
	if opts.File != "" {
		if docs, err = manifest.Read(opts.File, f.IOStreams.In); err != nil {
			return err
		}
	}
	if o.Format == output.Manifest && len(docs) > 1 {
		return exit.Usagef("-o manifest prints one registration manifest; %s has %d documents", opts.File, len(docs))
	}
	flagPassphrase, err := opts.Passphrase.Resolve(f)
	if err != nil {
		return err
	}

	n := max(len(docs), 1)
	reqs := make([]sspRequest, n)
	sources := make([]string, n)
	for i := range reqs {
		req := newSSPRequest(typ)
		if docs != nil {
			sources[i] = docs[i].Source
			if ps := docs[i].Decode(req); len(ps) > 0 {
				problems = append(problems, ps...)
				continue
			}
		}
		applySSPFlags(opts, req)
		_, _, _, passphrase := tokenFields(req)
		if flagPassphrase != "" {
			*passphrase = flagPassphrase
		}
		if *passphrase == "" {
			if *passphrase, err = Fallback(f); err != nil {
				return err
			}
			flagPassphrase = *passphrase // ask once for all documents
		}
		reqs[i] = req
		problems = append(problems, req.Validate(sources[i])...)
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}

	ctx := cmdutil.Context(opts.Cmd)
	c, _, err := f.APIClient(ctx)
	if err != nil {
		return err
	}
	sc := ssp.New(c)
	if err := opts.Passphrase.Persist(); err != nil {
		return err
	}
	kind := sspKind(typ)
	if docs == nil || len(docs) == 1 {
		raw, err := createSSPToken(ctx, sc, reqs[0])
		opts.Passphrase.Done(f, err == nil, definitelyNotCreated(err))
		if err != nil {
			return err
		}
		return printCreatedSSP(ctx, f, sc, o, typ, raw)
	}
	results := f.RunBulk(ctx, "created", sources, opts.Concurrency, func(ctx context.Context, i int, _ *cmdutil.Progress) (json.RawMessage, error) {
		return createSSPToken(ctx, sc, reqs[i])
	})
	created := 0
	for _, r := range results {
		if r.OK {
			created++
		}
	}
	opts.Passphrase.Done(f, created > 0, created == 0)
	f.Summary("created", results)
	return f.PrintBulk(o, kind, results)
}

// sspRequest is the create body of either token type
// (*ssp.SensorTokenRequest or *ssp.BaremetalTokenRequest).
type sspRequest interface {
	Validate(source string) []exit.Problem
}

func newSSPRequest(typ string) sspRequest {
	if typ == ssp.Baremetal {
		return &ssp.BaremetalTokenRequest{}
	}
	return &ssp.SensorTokenRequest{}
}

// tokenFields points at the fields both token types share.
func tokenFields(req sspRequest) (displayName, description *string, allowed **int64, passphrase *string) {
	switch r := req.(type) {
	case *ssp.BaremetalTokenRequest:
		return &r.DisplayName, &r.Description, &r.AllowedInstanceCount, &r.Passphrase
	case *ssp.SensorTokenRequest:
		return &r.DisplayName, &r.Description, &r.AllowedInstanceCount, &r.Passphrase
	}
	panic(fmt.Sprintf("token: unknown SSP request %T", req))
}

// createSSPToken sends the create call of the request's type.
func createSSPToken(ctx context.Context, sc *ssp.Client, req sspRequest) (json.RawMessage, error) {
	if r, ok := req.(*ssp.BaremetalTokenRequest); ok {
		return sc.CreateBaremetalToken(ctx, r)
	}
	return sc.CreateSensorToken(ctx, req.(*ssp.SensorTokenRequest))
}

// applySSPFlags lets flags override manifest fields.
func applySSPFlags(opts *CreateOptions, req sspRequest) {
	displayName, description, allowed, _ := tokenFields(req)
	if cmdutil.Changed(opts.Cmd, "display-name") {
		*displayName = opts.DisplayName
	}
	if cmdutil.Changed(opts.Cmd, "description") {
		*description = opts.Description
	}
	if cmdutil.Changed(opts.Cmd, "allowed-instances") {
		n := opts.AllowedInstances
		*allowed = &n
	}
	if r, ok := req.(*ssp.BaremetalTokenRequest); ok && cmdutil.Changed(opts.Cmd, "expiry-minutes") {
		n := opts.ExpiryMinutes
		r.ExpiryTimeSinceCreationMins = &n
	}
}

// printCreatedSSP prints a new token; -o manifest prints only its
// registration manifest, exactly. A baremetal token is created without one
// (RegistrationToken has no manifest), so its status is fetched for it.
func printCreatedSSP(ctx context.Context, f *cmdutil.Factory, sc *ssp.Client, o output.Options, typ string, raw json.RawMessage) error {
	kind := sspKind(typ)
	var info ssp.TokenInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return err
	}
	f.Notice("Created %s %s (%s).", kind.Noun, info.ID, info.DisplayName)
	if o.Format != output.Manifest {
		return f.Printer(o).Object(raw, kind)
	}
	if typ == ssp.Baremetal {
		st, err := sc.GetBaremetalTokenStatus(ctx, info.ID)
		if err != nil {
			return fmt.Errorf("the token was created, but its manifest could not be fetched (retry with `tokenctl token status %s -o manifest`): %w", info.ID, err)
		}
		return printManifestOf(f, o, st, kind.Noun)
	}
	return printManifestOf(f, o, raw, kind.Noun)
}
