package reconcile

import (
	"context"
	"encoding/json"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// planMPS reads the MPS global configuration and plans an update of the
// switches the document sets that differ.
func planMPS(ctx context.Context, sc *ssp.Client, d *Document, steps map[*Document][]Step) error {
	const op = "get sensor MPS global config"
	raw, err := sc.GetMPSGlobal(ctx)
	if err != nil {
		return err
	}
	var cur map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cur); err != nil {
		return &client.APIError{Operation: op, Status: 200, Code: 1, Message: "unexpected response: not a JSON object"}
	}
	s := Step{Source: d.Source, Kind: d.Kind, Name: d.Key, Action: Unchanged, doc: d}
	for _, field := range ssp.MPSFileTypes {
		want, managed := d.mps[field]
		if !managed {
			continue
		}
		var have bool
		if err := json.Unmarshal(cur[field], &have); err != nil {
			return &client.APIError{Operation: op, Status: 200, Code: 1, Message: "unexpected response: " + field + " is not a boolean"}
		}
		if have != want {
			s.Changes = append(s.Changes, Change{Field: field, Old: have, New: want})
		}
	}
	if len(s.Changes) > 0 {
		s.Action = Update
	}
	steps[d] = []Step{s}
	return nil
}
