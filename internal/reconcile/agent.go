package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
)

// planAgentTokens lists the agent tokens once and plans each document: no
// token of that name, create; one, update the permissions that differ; more
// than one, the document cannot say which (exit 2, naming them masked).
func planAgentTokens(ctx context.Context, ac *agent.Client, docs []*Document, steps map[*Document][]Step) error {
	byName := map[string][]agent.Token{}
	_, err := ac.ListTokens(ctx, func(raw json.RawMessage) error {
		var t agent.Token
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("list agent tokens: unexpected response (not the documented JSON): %w", err)
		}
		ac.HTTP().Redactor().AddSecret(t.UUID)
		byName[t.Name] = append(byName[t.Name], t)
		return nil
	})
	if err != nil {
		return err
	}
	var ps []exit.Problem
	for _, d := range docs {
		a := d.agent
		s := Step{Source: d.Source, Kind: d.Kind, Name: a.name, doc: d}
		toks := byName[a.name]
		switch len(toks) {
		case 0:
			s.Action = Create
		case 1:
			t := toks[0]
			s.ID, s.uuid = output.Mask(t.UUID), t.UUID
			if a.read != nil && *a.read != t.Read {
				s.Changes = append(s.Changes, Change{Field: "read", Old: t.Read, New: *a.read})
			}
			if a.change != nil && *a.change != t.Change {
				s.Changes = append(s.Changes, Change{Field: "change", Old: t.Change, New: *a.change})
			}
			s.Action = Unchanged
			if len(s.Changes) > 0 {
				s.Action = Update
			}
		default:
			labels := make([]string, len(toks))
			for i, t := range toks {
				labels[i] = agent.Label(t.UUID)
			}
			ps = append(ps, exit.Problem{Source: d.Source, Field: "name", Rule: fmt.Sprintf(
				"%d agent tokens are named %q (%s): apply converges one token per name; rename the others (tokenctl token update UUID --name NEW, and --read=false --change=false to revoke them)",
				len(toks), a.name, strings.Join(labels, ", "))})
			continue
		}
		steps[d] = []Step{s}
	}
	return exit.Problems(ps)
}
