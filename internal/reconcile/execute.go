package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/bulk"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/output"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

// Outcome is what happened to one step's object.
type Outcome string

// Outcomes of apply.
const (
	Created  Outcome = "created"
	Replaced Outcome = "replaced"
	Updated  Outcome = "updated"
	Deleted  Outcome = "deleted"
	Kept     Outcome = "unchanged"
	Failed   Outcome = "failed"
	// NotSent: nothing was sent for the step (an earlier step it depends on
	// failed, an earlier call was refused for its credentials, or the run
	// was interrupted).
	NotSent Outcome = "not_sent"
)

// Result is one step after apply.
type Result struct {
	Source string `json:"source"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	// ID is the object acted on: the new token of created and replaced,
	// else the step's (masked for agent tokens).
	ID string `json:"id,omitempty"`
	// Replaces is the token a replaced one stands in for.
	Replaces string   `json:"replaces,omitempty"`
	Action   Action   `json:"action"`
	Outcome  Outcome  `json:"outcome"`
	OK       bool     `json:"ok"`
	Reasons  []string `json:"reasons,omitempty"`
	Changes  []Change `json:"changes,omitempty"`
	Count    *int     `json:"count,omitempty"`
	// Error is the failure (failed, not_sent).
	Error *exit.Detail `json:"error,omitempty"`
	// Err is the failure as an error (exit code).
	Err error `json:"-"`
}

// Acted reports a step that changed something on the server.
func (r Result) Acted() bool { return r.OK && r.Outcome != Kept }

// ExecOptions configure Execute.
type ExecOptions struct {
	// Concurrency bounds the tasks run at once (bulk.DefaultConcurrency
	// when < 1). A task is one pool, agent token, MPS update, or feature
	// call of at most 25 sensors.
	Concurrency int
	// OnStart is told how many tasks will run; OnTask is called after each
	// (a progress bar). Both may be nil.
	OnStart func(tasks int)
	OnTask  func(ok bool)
}

// task is one unit of work: its steps run in order.
type task struct {
	name string
	run  func(ctx context.Context) error
	// skip marks the task's steps not sent, because of err.
	skip func(err error)
}

// NotSentError is why a step was not sent.
type NotSentError struct {
	Reason string
	Cause  error
}

func (e *NotSentError) Error() string {
	if e.Cause != nil {
		return "not sent: " + e.Reason + ": " + e.Cause.Error()
	}
	return "not sent: " + e.Reason
}
func (e *NotSentError) Unwrap() error { return e.Cause }

// ExitCode implements exit.Coder: the cause's code.
func (e *NotSentError) ExitCode() int {
	if e.Cause != nil {
		return exit.CodeOf(e.Cause)
	}
	return exit.Error
}

// Execute carries out a plan: the steps of each task in order, tasks at
// most Concurrency at a time. It returns a result per step, in plan order.
// A call refused for its credentials stops the tasks not yet sent, which
// would be refused the same way; a cancelled ctx leaves the tasks not yet
// started unsent.
func Execute(ctx context.Context, c Clients, plan *Plan, opts ExecOptions) []Result {
	if opts.Concurrency < 1 {
		opts.Concurrency = bulk.DefaultConcurrency
	}
	results := make([]Result, len(plan.Steps))
	for i, s := range plan.Steps {
		results[i] = Result{Source: s.Source, Kind: s.Kind, Name: s.Name, ID: s.ID, Action: s.Action, Reasons: s.Reasons, Changes: s.Changes, Count: s.Count}
		if s.Action == Unchanged {
			results[i].Outcome, results[i].OK = Kept, true
		}
	}
	ex := &executor{c: c, plan: plan, results: results}
	tasks := ex.tasks()
	if opts.OnStart != nil {
		opts.OnStart(len(tasks))
	}
	var refused atomic.Pointer[error]
	names := make([]string, len(tasks))
	for i, t := range tasks {
		names[i] = t.name
	}
	runs := bulk.Run(ctx, names, opts.Concurrency, func(ctx context.Context, i int) (json.RawMessage, error) {
		t := tasks[i]
		var err error
		if cause := refused.Load(); cause != nil {
			err = &NotSentError{Reason: "an earlier request was refused", Cause: *cause}
			t.skip(err)
		} else if err = t.run(ctx); err != nil && exit.CodeOf(err) == exit.Auth {
			refused.CompareAndSwap(nil, &err)
		}
		if opts.OnTask != nil {
			opts.OnTask(err == nil)
		}
		return nil, err
	})
	for i, r := range runs {
		if r.NotStarted() {
			tasks[i].skip(&NotSentError{Reason: "interrupted", Cause: r.Err})
		}
	}
	ex.finishFeatures()
	return results
}

type executor struct {
	c       Clients
	plan    *Plan
	results []Result

	mu sync.Mutex
	// sensor feature calls: per step, the outcome of each of its calls
	featureErrs map[int][]error
	featureSkip map[int]error
}

func (ex *executor) fail(i int, err error) {
	d := exit.DetailOf(err)
	ex.results[i].OK, ex.results[i].Err, ex.results[i].Error = false, err, &d
	ex.results[i].Outcome = Failed
	var ns *NotSentError
	if errors.As(err, &ns) {
		ex.results[i].Outcome = NotSent
	}
}

func (ex *executor) done(i int, o Outcome) {
	ex.results[i].OK, ex.results[i].Outcome = true, o
}

// tasks groups the plan's steps into tasks.
func (ex *executor) tasks() []task {
	var out []task
	byDoc := map[*Document][]int{}
	var docs []*Document
	var featureSteps []int
	for i, s := range ex.plan.Steps {
		if s.Action == Unchanged {
			continue
		}
		if s.Kind == KindSensorFeatures {
			featureSteps = append(featureSteps, i)
			continue
		}
		if _, ok := byDoc[s.doc]; !ok {
			docs = append(docs, s.doc)
		}
		byDoc[s.doc] = append(byDoc[s.doc], i)
	}
	for _, d := range docs {
		idx := byDoc[d]
		skip := func(err error) {
			for _, i := range idx {
				ex.fail(i, err)
			}
		}
		var run func(context.Context) error
		switch d.Kind {
		case KindSensorToken, KindBaremetalToken:
			run = func(ctx context.Context) error { return ex.runPool(ctx, idx) }
		case KindAgentToken:
			run = func(ctx context.Context) error { return ex.runAgent(ctx, idx[0]) }
		case KindMPSConfig:
			run = func(ctx context.Context) error { return ex.runMPS(ctx, idx[0]) }
		}
		out = append(out, task{name: d.Source, run: run, skip: skip})
	}
	return append(out, ex.featureTasks(featureSteps)...)
}

// runPool creates the pool's new token (create, replace), then deletes the
// tokens --prune named. The deletes wait for the create: a pool is never
// left without a token because the new one failed.
func (ex *executor) runPool(ctx context.Context, idx []int) error {
	sc := ex.c.SSP
	var firstErr error
	for n, i := range idx {
		s := ex.plan.Steps[i]
		switch s.Action {
		case Create, Replace:
			id, err := createToken(ctx, sc, s.doc.pool)
			if err != nil {
				ex.fail(i, err)
				for _, j := range idx[n+1:] {
					ex.fail(j, &NotSentError{Reason: "the new token of " + s.Name + " was not created, so the old ones stay"})
				}
				return err
			}
			ex.results[i].ID = id
			if s.Action == Replace {
				ex.results[i].Replaces = s.ID
				ex.done(i, Replaced)
			} else {
				ex.done(i, Created)
			}
		case Delete:
			var err error
			if s.doc.pool.typ == ssp.Baremetal {
				_, err = sc.DeleteBaremetalToken(ctx, s.ID)
			} else {
				_, err = sc.DeleteSensorToken(ctx, s.ID)
			}
			if err != nil {
				ex.fail(i, err)
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			ex.done(i, Deleted)
		}
	}
	return firstErr
}

// createToken creates a pool's token from its document and returns its id.
func createToken(ctx context.Context, sc *ssp.Client, p *poolSpec) (string, error) {
	desc := ""
	if p.description != nil {
		desc = *p.description
	}
	var raw json.RawMessage
	var err error
	if p.typ == ssp.Baremetal {
		raw, err = sc.CreateBaremetalToken(ctx, &ssp.BaremetalTokenRequest{DisplayName: p.displayName, Description: desc,
			AllowedInstanceCount: p.allowed, Passphrase: p.passphrase, ExpiryTimeSinceCreationMins: p.expiryMins})
	} else {
		raw, err = sc.CreateSensorToken(ctx, &ssp.SensorTokenRequest{DisplayName: p.displayName, Description: desc,
			AllowedInstanceCount: p.allowed, Passphrase: p.passphrase})
	}
	if err != nil {
		return "", err
	}
	var t ssp.TokenInfo
	if err := json.Unmarshal(raw, &t); err != nil || t.ID == "" {
		return "", fmt.Errorf("create %s registration token %s: the answer has no id", p.typ, p.displayName)
	}
	return t.ID, nil
}

func (ex *executor) runAgent(ctx context.Context, i int) error {
	s := ex.plan.Steps[i]
	a := s.doc.agent
	if s.Action == Create {
		req := &agent.TokenRequest{Name: a.name}
		if a.read != nil {
			req.Read = *a.read
		}
		if a.change != nil {
			req.Change = *a.change
		}
		_, tok, err := ex.c.Agent.CreateToken(ctx, req)
		if err != nil {
			ex.fail(i, err)
			return err
		}
		ex.results[i].ID = output.Mask(tok.UUID)
		ex.done(i, Created)
		return nil
	}
	ch := agent.Change{}
	for _, c := range s.Changes {
		v := c.New.(bool)
		switch c.Field {
		case "read":
			ch.Read = &v
		case "change":
			ch.Change = &v
		}
	}
	if _, _, err := ex.c.Agent.UpdateToken(ctx, s.uuid, ch); err != nil {
		ex.fail(i, err)
		return err
	}
	ex.done(i, Updated)
	return nil
}

func (ex *executor) runMPS(ctx context.Context, i int) error {
	change := map[string]bool{}
	for _, c := range ex.plan.Steps[i].Changes {
		change[c.Field] = c.New.(bool)
	}
	if _, err := ex.c.SSP.UpdateMPSGlobal(ctx, change); err != nil {
		ex.fail(i, err)
		return err
	}
	ex.done(i, Updated)
	return nil
}

// featureTasks groups the sensors' feature calls by feature and action,
// in batches of at most ssp.MaxFeatureBatch sensors (the vendor's limit),
// one task per call.
func (ex *executor) featureTasks(steps []int) []task {
	ex.featureErrs = map[int][]error{}
	ex.featureSkip = map[int]error{}
	type key struct{ feature, action string }
	var keys []featureCall
	groups := map[key][]int{}
	for _, i := range steps {
		for _, call := range ex.plan.Steps[i].calls {
			k := key{call.feature.Name, call.action}
			if _, ok := groups[k]; !ok {
				keys = append(keys, call)
			}
			groups[k] = append(groups[k], i)
		}
	}
	var out []task
	for _, call := range keys {
		idx := groups[key{call.feature.Name, call.action}]
		for start := 0; start < len(idx); start += ssp.MaxFeatureBatch {
			batch := idx[start:min(start+ssp.MaxFeatureBatch, len(idx))]
			out = append(out, task{
				name: fmt.Sprintf("%s %s (%d sensors)", call.feature.Name, call.action, len(batch)),
				run:  func(ctx context.Context) error { return ex.runFeatureCall(ctx, call, batch) },
				skip: func(err error) {
					ex.mu.Lock()
					defer ex.mu.Unlock()
					for _, i := range batch {
						if ex.featureSkip[i] == nil {
							ex.featureSkip[i] = err
						}
					}
				},
			})
		}
	}
	return out
}

// runFeatureCall sends one feature-config call (the request code of
// `sensor features set`: ssp.Client.SetFeature) and records per sensor
// what its answer says.
func (ex *executor) runFeatureCall(ctx context.Context, call featureCall, batch []int) error {
	ids := make([]string, len(batch))
	for n, i := range batch {
		ids[n] = ex.plan.Steps[i].ID
	}
	res, err := ex.c.SSP.SetFeature(ctx, call.feature, call.action, ids)
	ex.mu.Lock()
	defer ex.mu.Unlock()
	if err != nil {
		for _, i := range batch {
			ex.featureErrs[i] = append(ex.featureErrs[i], err)
		}
		return err
	}
	succ, failed := lowerSet(res.Successful), lowerSet(res.Failed)
	var callErr error
	for n, i := range batch {
		key := strings.ToLower(ids[n])
		switch {
		case succ[key]:
		case failed[key]:
			e := fmt.Errorf("%s (action=%s): the SSP listed sensor %s in failed_sensor_ids", call.feature.Operation, call.action, ids[n])
			ex.featureErrs[i] = append(ex.featureErrs[i], e)
			callErr = e
		default:
			e := fmt.Errorf("%s (action=%s): the SSP reported neither success nor failure for sensor %s", call.feature.Operation, call.action, ids[n])
			ex.featureErrs[i] = append(ex.featureErrs[i], e)
			callErr = e
		}
	}
	return callErr
}

// finishFeatures turns the calls' outcomes into each sensor's result:
// updated when every call it needed succeeded.
func (ex *executor) finishFeatures() {
	for i, s := range ex.plan.Steps {
		if s.Kind != KindSensorFeatures || s.Action == Unchanged {
			continue
		}
		switch {
		case len(ex.featureErrs[i]) > 0:
			ex.fail(i, ex.featureErrs[i][0])
		case ex.featureSkip[i] != nil:
			ex.fail(i, ex.featureSkip[i])
		default:
			ex.done(i, Updated)
		}
	}
}

func lowerSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[strings.ToLower(id)] = true
	}
	return m
}
