package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// Action is what a plan step does to one object.
type Action string

// Actions of a plan.
const (
	Create    Action = "create"
	Replace   Action = "replace"
	Update    Action = "update"
	Delete    Action = "delete"
	Unchanged Action = "unchanged"
)

// Change is one field's difference: the server's value and the document's.
type Change struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// Step is the plan for one object.
type Step struct {
	// Source is the document: FILE#N.
	Source string `json:"source"`
	Kind   string `json:"kind"`
	// Name is the object's name: a pool's display_name, an agent token's
	// name, a sensor's display_name, the selector of a SensorFeatures
	// document's unchanged sensors, "mps-global-config".
	Name string `json:"name"`
	// ID is the existing object's id (the replaced or deleted token, the
	// sensor, the current token of an unchanged pool). An agent token's
	// uuid is its secret: it is masked (its first four characters).
	ID     string `json:"id,omitempty"`
	Action Action `json:"action"`
	// Reasons say why a token is replaced or deleted: EXPIRED, USED, too
	// few instances remaining, too short a life, superseded, or the fields
	// that differ.
	Reasons []string `json:"reasons,omitempty"`
	// Changes are the fields that differ (update, replace).
	Changes []Change `json:"changes,omitempty"`
	// Count is how many sensors an unchanged SensorFeatures step stands
	// for.
	Count *int `json:"count,omitempty"`

	doc *Document
	// uuid is an agent token's full uuid (never printed).
	uuid string
	// calls are a sensor step's feature-config calls.
	calls []featureCall
}

// Plan is what apply would do, computed from reads only.
type Plan struct {
	Steps []Step
	// Warnings stop nothing: sensors named by a selector that the SSP does
	// not have.
	Warnings []string
}

// InSync reports a plan with nothing to do.
func (p *Plan) InSync() bool {
	for _, s := range p.Steps {
		if s.Action != Unchanged {
			return false
		}
	}
	return true
}

// Count is how many steps have the action.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, s := range p.Steps {
		if s.Action == a {
			n++
		}
	}
	return n
}

// Clients are the typed clients of the profile: SSP for SSP documents,
// Agent for AgentToken documents.
type Clients struct {
	SSP   *ssp.Client
	Agent *agent.Client
}

// PlanOptions configure MakePlan.
type PlanOptions struct {
	// Prune plans the deletion of a pool's other tokens.
	Prune bool
	// Now is the time token lifetimes are measured from; the SSP server's
	// own clock (the Date of its latest answer) when nil.
	Now func() time.Time
}

// MakePlan reads what the documents describe and computes the plan. It
// sends reads only: lists and gets.
func MakePlan(ctx context.Context, c Clients, set *Set, opts PlanOptions) (*Plan, error) {
	if opts.Now == nil {
		opts.Now = time.Now
		if c.SSP != nil {
			opts.Now = c.SSP.HTTP().ServerNow
		}
	}
	byKind := map[string][]*Document{}
	for _, d := range set.Docs {
		byKind[d.Kind] = append(byKind[d.Kind], d)
	}
	need := func(kind string, ok bool) error {
		if len(byKind[kind]) > 0 && !ok {
			return fmt.Errorf("reconcile: %s documents need a client of their platform", kind)
		}
		return nil
	}
	for _, k := range []string{KindSensorToken, KindBaremetalToken, KindSensorFeatures, KindMPSConfig} {
		if err := need(k, c.SSP != nil); err != nil {
			return nil, err
		}
	}
	if err := need(KindAgentToken, c.Agent != nil); err != nil {
		return nil, err
	}

	steps := map[*Document][]Step{}
	plan := &Plan{}
	if docs := byKind[KindSensorToken]; len(docs) > 0 {
		if err := planPools(ctx, c.SSP, ssp.Sensor, docs, opts, steps); err != nil {
			return nil, err
		}
	}
	if docs := byKind[KindBaremetalToken]; len(docs) > 0 {
		if err := planPools(ctx, c.SSP, ssp.Baremetal, docs, opts, steps); err != nil {
			return nil, err
		}
	}
	if docs := byKind[KindAgentToken]; len(docs) > 0 {
		if err := planAgentTokens(ctx, c.Agent, docs, steps); err != nil {
			return nil, err
		}
	}
	if docs := byKind[KindSensorFeatures]; len(docs) > 0 {
		warn, err := planFeatures(ctx, c.SSP, docs, steps)
		if err != nil {
			return nil, err
		}
		plan.Warnings = append(plan.Warnings, warn...)
	}
	if docs := byKind[KindMPSConfig]; len(docs) > 0 {
		if err := planMPS(ctx, c.SSP, docs[0], steps); err != nil {
			return nil, err
		}
	}
	for _, d := range set.Docs {
		plan.Steps = append(plan.Steps, steps[d]...)
	}
	return plan, nil
}
