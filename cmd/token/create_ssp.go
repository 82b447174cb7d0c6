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
	if o.Format == output.InstallScript && typ != ssp.Baremetal {
		problems = append(problems, exit.Problem{Field: "--output", Rule: "-o install-script is for baremetal tokens (--type baremetal)"})
	} else if p := o.FormatProblem(createdKind(typ), output.One); p != nil {
		problems = append(problems, *p)
	}
	if o.Format == output.InstallScript && opts.Passphrase.Generate && opts.Passphrase.File == "" {
		problems = append(problems, exit.Problem{Field: "--generate-passphrase", Rule: "with -o install-script needs --passphrase-file PATH: the passphrase is needed again for the pool's other hosts"})
	}
	problems = append(problems, opts.Script.Problems(opts.Cmd, o.Format)...)
	waiting := opts.Wait != ""
	spec := waitSpec{For: opts.Wait, Count: opts.Count, CountGiven: cmdutil.Changed(opts.Cmd, "count"), WaitFlags: opts.WaitFlags}
	if waiting {
		problems = append(problems, spec.problems(opts.Cmd, "--wait")...)
	} else {
		problems = append(problems, opts.WaitFlags.Validate(opts.Cmd, false)...)
		if cmdutil.Changed(opts.Cmd, "count") {
			problems = append(problems, exit.Problem{Field: "--count", Rule: "applies only with --wait"})
		}
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
	if (o.Format == output.Manifest || o.Format == output.InstallScript) && len(docs) > 1 {
		what := map[string]string{output.Manifest: "registration manifest", output.InstallScript: "token's install script"}[o.Format]
		return exit.Usagef("-o %s prints one %s; %s has %d documents", o.Format, what, opts.File, len(docs))
	}
	if waiting && len(docs) > 1 {
		return exit.Usagef("--wait waits for one token; %s has %d documents", opts.File, len(docs))
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
		_, _, _, passphrase := tokenFields(reqs[0])
		id, err := printCreatedSSP(ctx, f, sc, o, typ, raw, *passphrase, opts.Script)
		if err != nil || !waiting {
			return err
		}
		// The output is complete: let a pipe's reader (sh, ssh) go ahead.
		if err := f.IOStreams.CloseOut(); err != nil {
			return err
		}
		return waitForHosts(ctx, f, sc, typ, id, spec, nil)
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

// printCreatedSSP prints a new token and returns its id; -o manifest prints
// only its registration manifest, exactly, and -o install-script the host
// script with the passphrase just used. A baremetal token is created
// without a manifest (RegistrationToken has none), so its status is fetched
// for it.
func printCreatedSSP(ctx context.Context, f *cmdutil.Factory, sc *ssp.Client, o output.Options, typ string, raw json.RawMessage, passphrase string, script ScriptFlags) (string, error) {
	kind := sspKind(typ)
	var info ssp.TokenInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return "", err
	}
	f.Notice("Created %s %s (%s).", kind.Noun, info.ID, info.DisplayName)
	switch {
	case o.Format != output.Manifest && o.Format != output.InstallScript:
		return info.ID, f.Printer(o).Object(raw, kind)
	case typ == ssp.Baremetal:
		st, err := sc.GetBaremetalTokenStatus(ctx, info.ID)
		if err != nil {
			return "", fmt.Errorf("the token was created, but its manifest could not be fetched (retry with `tokenctl token status %s -o %s`): %w", info.ID, o.Format, err)
		}
		if o.Format == output.InstallScript {
			return info.ID, printInstallScript(f, o, st, passphrase, script)
		}
		return info.ID, printManifestOf(f, o, st, kind.Noun)
	}
	return info.ID, printManifestOf(f, o, raw, kind.Noun)
}
