package token

import (
	"context"
	"encoding/json"

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
	if typ != ssp.Sensor {
		return exit.Usagef("--type %s is not supported yet", typ)
	}
	var problems []exit.Problem
	if opts.Concurrency < 1 {
		problems = append(problems, exit.Problem{Field: "--concurrency", Rule: "must be at least 1"})
	}
	if o.Format == output.Secret {
		problems = append(problems, exit.Problem{Field: "--output", Rule: "SSP tokens have no one-time secret to print; use -o manifest or -o json"})
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
	reqs := make([]*ssp.SensorTokenRequest, n)
	sources := make([]string, n)
	for i := range reqs {
		req := &ssp.SensorTokenRequest{}
		if docs != nil {
			sources[i] = docs[i].Source
			if ps := docs[i].Decode(req); len(ps) > 0 {
				problems = append(problems, ps...)
				continue
			}
		}
		applySSPFlags(opts, req)
		if flagPassphrase != "" {
			req.Passphrase = flagPassphrase
		}
		if req.Passphrase == "" {
			if req.Passphrase, err = Fallback(f); err != nil {
				return err
			}
			flagPassphrase = req.Passphrase // ask once for all documents
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
	kind := sensorTokenKind()
	if docs == nil || len(docs) == 1 {
		raw, err := sc.CreateSensorToken(ctx, reqs[0])
		opts.Passphrase.Done(f, err == nil, definitelyNotCreated(err))
		if err != nil {
			return err
		}
		return printCreatedSSP(f, o, kind, raw)
	}
	results := f.RunBulk(ctx, "created", sources, opts.Concurrency, func(ctx context.Context, i int, _ *cmdutil.Progress) (json.RawMessage, error) {
		return sc.CreateSensorToken(ctx, reqs[i])
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

// applySSPFlags lets flags override manifest fields.
func applySSPFlags(opts *CreateOptions, req *ssp.SensorTokenRequest) {
	if cmdutil.Changed(opts.Cmd, "display-name") {
		req.DisplayName = opts.DisplayName
	}
	if cmdutil.Changed(opts.Cmd, "description") {
		req.Description = opts.Description
	}
	if cmdutil.Changed(opts.Cmd, "allowed-instances") {
		n := opts.AllowedInstances
		req.AllowedInstanceCount = &n
	}
}

// printCreatedSSP prints a new token; -o manifest prints only its
// registration manifest, exactly.
func printCreatedSSP(f *cmdutil.Factory, o output.Options, kind output.Kind, raw json.RawMessage) error {
	var info ssp.TokenInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return err
	}
	f.Notice("Created %s %s (%s).", kind.Noun, info.ID, info.DisplayName)
	pr := f.Printer(o)
	if o.Format == output.Manifest {
		m, err := liveManifest(&info, kind.Noun)
		if err != nil {
			return err
		}
		return pr.Exact(m)
	}
	return pr.Object(raw, kind)
}
