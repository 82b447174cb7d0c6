package token

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/client"
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
	problems = append(problems, cmdutil.ConcurrencyProblems(opts.Concurrency)...)
	if p := o.FormatProblem(agentTokenKind(), output.One); p != nil {
		problems = append(problems, *p)
	}
	if len(problems) > 0 {
		return exit.Problems(problems)
	}
	docs, err := f.ReadDocuments(opts.File, o)
	if err != nil {
		return err
	}
	n := max(len(docs), 1)
	reqs := make([]*agent.TokenRequest, n)
	sources := make([]string, n)
	for i := range reqs {
		req := &agent.TokenRequest{}
		var dps []exit.Problem // the document's own problems: its other checks still run
		if docs != nil {
			sources[i] = docs[i].Source
			if dps = docs[i].Decode(req); manifest.Fatal(dps) {
				problems = append(problems, dps...)
				continue
			}
		}
		applyAgentFlags(opts, req)
		if docs == nil && f.IOStreams.CanPrompt() {
			if err := askAgent(f, req); err != nil {
				return err
			}
		}
		reqs[i] = req
		problems = append(problems, manifest.Combine(dps, req.Validate(sources[i]))...)
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
	existing := make([]json.RawMessage, n)
	if opts.SkipExisting {
		if existing, err = existingAgentTokens(ctx, ac, reqs); err != nil {
			return err
		}
	}
	if docs == nil {
		// From flags alone: the vendor's object.
		if existing[0] != nil {
			f.Notice("name %q already has a usable agent token: nothing created (--skip-existing).", reqs[0].Name)
			return f.Printer(o).Object(existing[0], kind)
		}
		raw, tok, err := ac.CreateToken(ctx, reqs[0])
		if err != nil {
			return client.LookFor(err, lookForAgent(reqs[0]))
		}
		f.Notice("Created %s (%s).", agent.Label(tok.UUID), tok.Name)
		return f.Printer(o).Object(raw, kind)
	}
	results := f.RunCreates(ctx, cmdutil.CreateBatch{
		Sources:     sources,
		Concurrency: opts.Concurrency,
		Existing:    func(i int) json.RawMessage { return existing[i] },
		Create: func(ctx context.Context, i int) (json.RawMessage, error) {
			raw, _, err := ac.CreateToken(ctx, reqs[i])
			return raw, err
		},
		LookFor: func(i int) string { return lookForAgent(reqs[i]) },
		Finish:  finishHint(opts, "name"),
	})
	if cmdutil.SingleValueFormat(o.Format) {
		r := results[0]
		if !r.OK {
			return r.Err
		}
		return f.Printer(o).Object(r.Value, kind)
	}
	return f.PrintBulk(o, kind, results)
}

// lookForAgent names the token a create with an unknown outcome may have
// made.
func lookForAgent(req *agent.TokenRequest) string {
	return fmt.Sprintf("an agent token named %q (tokenctl token list), or run again with --skip-existing", req.Name)
}

// existingAgentTokens finds, with one list call, a usable token for each
// request (nil when none): one with the request's name that has at least
// the permissions the request asks for and is not revoked (read or change).
func existingAgentTokens(ctx context.Context, ac *agent.Client, reqs []*agent.TokenRequest) ([]json.RawMessage, error) {
	out := make([]json.RawMessage, len(reqs))
	_, err := ac.ListTokens(ctx, func(raw json.RawMessage) error {
		var t agent.Token
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("unexpected response: a token is not the documented JSON: %w", err)
		}
		ac.HTTP().Redactor().AddSecret(t.UUID)
		if !t.Read && !t.Change {
			return nil // revoked
		}
		for i, r := range reqs {
			if out[i] == nil && t.Name == r.Name && (t.Read || !r.Read) && (t.Change || !r.Change) {
				out[i] = append(json.RawMessage(nil), raw...)
			}
		}
		return nil
	})
	return out, err
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
			output.TextField("NAME", "name"),
			output.Field("UUID", "uuid"),
			output.Field("READ", "read"),
			output.Field("CHANGE", "change"),
		},
	}
}
