package token

import (
	"context"
	"encoding/json"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
	"github.com/tokenctl/tokenctl/internal/output"
)

// createAgent creates agent tokens from flags or from a manifest's documents
// (fields name, read, change; flags override them).
func createAgent(opts *CreateOptions) error {
	f := opts.Factory
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	var problems []exit.Problem
	if opts.Concurrency < 1 {
		problems = append(problems, exit.Problem{Field: "--concurrency", Rule: "must be at least 1"})
	}
	if o.Format == output.Manifest && !o.DropEnvFormat() {
		problems = append(problems, exit.Problem{Field: "--output", Rule: "agent tokens have no manifest; use -o secret (the uuid), -o json or -o id"})
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
	if o.Format == output.Secret && len(docs) > 1 {
		return exit.Usagef("-o secret prints one token's uuid; %s has %d documents (use -o json or -o id)", opts.File, len(docs))
	}
	n := max(len(docs), 1)
	reqs := make([]*agent.TokenRequest, n)
	sources := make([]string, n)
	for i := range reqs {
		req := &agent.TokenRequest{}
		if docs != nil {
			sources[i] = docs[i].Source
			if ps := docs[i].Decode(req); len(ps) > 0 {
				problems = append(problems, ps...)
				continue
			}
		}
		applyAgentFlags(opts, req)
		reqs[i] = req
		problems = append(problems, req.Validate(sources[i])...)
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}

	ctx := cmdutil.Context(opts.Cmd)
	ac, _, err := f.AgentClient(ctx)
	if err != nil {
		return err
	}
	kind := agentTokenKind()
	if len(docs) <= 1 {
		raw, tok, err := ac.CreateToken(ctx, reqs[0])
		if err != nil {
			return err
		}
		f.Notice("Created %s (%s).", agent.Label(tok.UUID), tok.Name)
		return f.Printer(o).Object(raw, kind)
	}
	results := f.RunBulk(ctx, "created", sources, opts.Concurrency, func(ctx context.Context, i int, _ *cmdutil.Progress) (json.RawMessage, error) {
		raw, _, err := ac.CreateToken(ctx, reqs[i])
		return raw, err
	})
	f.Summary("created", results)
	return f.PrintBulk(o, kind, results)
}

// applyAgentFlags lets flags override manifest fields.
func applyAgentFlags(opts *CreateOptions, req *agent.TokenRequest) {
	if cmdutil.Changed(opts.Cmd, "name") {
		req.Name = opts.Name
	}
	if cmdutil.Changed(opts.Cmd, "read") {
		req.Read = opts.Read
	}
	if cmdutil.Changed(opts.Cmd, "change") {
		req.Change = opts.Change
	}
}

// agentTokenKind prints agent tokens. The uuid is what later commands take
// as ID, and also the secret agents pass (-o secret prints it alone).
func agentTokenKind() output.Kind {
	return output.Kind{
		Noun:        "agent token",
		IDField:     "uuid",
		SecretField: "uuid",
		Columns: []output.Column{
			output.Field("UUID", "uuid"),
			output.Field("NAME", "name"),
			output.Field("READ", "read"),
			output.Field("CHANGE", "change"),
		},
	}
}
