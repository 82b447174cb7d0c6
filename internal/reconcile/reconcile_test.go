package reconcile_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/agent"
	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
	"github.com/tokenctl/tokenctl/internal/reconcile"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
	"github.com/tokenctl/tokenctl/internal/specs"
	"github.com/tokenctl/tokenctl/internal/ssp"
)

const testPassphrase = "Pool-Passphrase-2026!"

// world is a sandbox with the typed clients the reconciler uses, and a log
// of the vendor requests it received.
type world struct {
	t   *testing.T
	srv *sandbox.Server
	url string
	ssp *ssp.Client
	ag  *agent.Client
	rec *specs.Recorder

	mu       sync.Mutex
	requests []string // "METHOD path"
}

func newWorld(t *testing.T, seedSensors int) *world {
	t.Helper()
	w := &world{t: t, rec: &specs.Recorder{}}
	srv, err := sandbox.New(sandbox.Options{
		Options: sim.Options{Seed: 1, SeedSensors: seedSensors},
		OnRequest: func(r sandbox.RequestRecord) {
			w.mu.Lock()
			w.requests = append(w.requests, r.Method+" "+r.Path)
			w.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	w.srv, w.url = srv, hs.URL
	mk := func(transport http.RoundTripper) *client.Client {
		c, err := client.New(client.Options{BaseURL: hs.URL, Transport: transport, RetryBaseWait: time.Millisecond}, &client.BasicAuth{Username: sim.AdminUser, Password: sim.DefaultPassword})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	w.ssp = ssp.New(mk(w.rec))
	ac, err := client.New(client.Options{BaseURL: hs.URL, DecodeError: agent.DecodeError}, &client.BasicAuth{Username: sim.AdminUser, Password: sim.DefaultPassword})
	if err != nil {
		t.Fatal(err)
	}
	w.ag = agent.New(ac, agent.Options{})
	return w
}

func (w *world) clients() reconcile.Clients { return reconcile.Clients{SSP: w.ssp, Agent: w.ag} }

// mark returns the number of requests so far, for since.
func (w *world) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.requests)
}

// since lists the requests after mark.
func (w *world) since(mark int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.requests[mark:]...)
}

func (w *world) advance(d time.Duration) {
	env := w.srv.Env()
	env.Lock()
	env.Advance(d)
	env.Changed()
	env.Unlock()
}

// register makes an appliance register with a token, as the installer does.
func (w *world) register(id string) {
	w.t.Helper()
	body, _ := json.Marshal(map[string]string{"token_id": id, "passphrase": testPassphrase})
	resp, err := http.Post(w.url+"/_sandbox/ssp/register", "application/json", bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		w.t.Fatalf("register %s: HTTP %d", id, resp.StatusCode)
	}
}

func (w *world) createSensorToken(name, desc string, allowed int64) string {
	w.t.Helper()
	raw, err := w.ssp.CreateSensorToken(context.Background(), &ssp.SensorTokenRequest{DisplayName: name, Description: desc, AllowedInstanceCount: &allowed, Passphrase: testPassphrase})
	if err != nil {
		w.t.Fatal(err)
	}
	var tok ssp.TokenInfo
	json.Unmarshal(raw, &tok)
	return tok.ID
}

// tokens lists the sensor or baremetal tokens named name: id -> status.
func (w *world) tokens(typ, name string) map[string]string {
	w.t.Helper()
	out := map[string]string{}
	fn := func(raw json.RawMessage) error {
		var t ssp.TokenInfo
		json.Unmarshal(raw, &t)
		if t.DisplayName == name {
			out[t.ID] = t.Status
		}
		return nil
	}
	var err error
	if typ == ssp.Baremetal {
		_, err = w.ssp.ListBaremetalTokenStatuses(context.Background(), ssp.ListQuery{}, "", client.Pager{}, fn)
	} else {
		_, err = w.ssp.ListSensorTokens(context.Background(), ssp.ListQuery{}, "", client.Pager{}, fn)
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

// parse reads YAML documents as -f would, resolving passphrases.
func parse(t *testing.T, platform, yaml string) (*reconcile.Set, error) {
	t.Helper()
	docs, err := manifest.Parse("docs.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	in := make([]reconcile.Input, len(docs))
	for i, d := range docs {
		in[i] = reconcile.Input{Document: d, Dir: t.TempDir()}
	}
	return reconcile.Parse(in, reconcile.ParseOptions{Platform: platform, Secrets: true, LookupEnv: func(k string) (string, bool) {
		if k == "POOL_PP" {
			return testPassphrase, true
		}
		return "", false
	}})
}

func mustParse(t *testing.T, platform, yaml string) *reconcile.Set {
	t.Helper()
	set, err := parse(t, platform, yaml)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// step is the expected form of a plan step.
type step struct {
	kind, name string
	action     reconcile.Action
	// reason, when set, must be in one of the step's reasons.
	reason string
	// id, when set, is the key of a token id the setup stored.
	id string
}

func (s step) String() string { return fmt.Sprintf("%s %s %s", s.action, s.kind, s.name) }

func describe(p *reconcile.Plan) string {
	var b strings.Builder
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "  %s %s %s id=%s reasons=%v changes=%v\n", s.Action, s.Kind, s.Name, s.ID, s.Reasons, s.Changes)
	}
	return b.String()
}

func checkPlan(t *testing.T, p *reconcile.Plan, want []step, ids map[string]string) {
	t.Helper()
	if len(p.Steps) != len(want) {
		t.Fatalf("plan has %d steps, want %d (%v):\n%s", len(p.Steps), len(want), want, describe(p))
	}
	for i, w := range want {
		s := p.Steps[i]
		if s.Kind != w.kind || s.Name != w.name || s.Action != w.action {
			t.Fatalf("step %d is %s %s %s, want %s\n%s", i, s.Action, s.Kind, s.Name, w, describe(p))
		}
		if w.reason != "" && !strings.Contains(strings.Join(s.Reasons, "; "), w.reason) {
			t.Errorf("step %d reasons %q, want one with %q", i, s.Reasons, w.reason)
		}
		if w.id != "" && s.ID != ids[w.id] {
			t.Errorf("step %d acts on %s, want %s (%s)", i, s.ID, ids[w.id], w.id)
		}
	}
}

func outcomeOf(a reconcile.Action) reconcile.Outcome {
	return map[reconcile.Action]reconcile.Outcome{
		reconcile.Create: reconcile.Created, reconcile.Replace: reconcile.Replaced, reconcile.Update: reconcile.Updated,
		reconcile.Delete: reconcile.Deleted, reconcile.Unchanged: reconcile.Kept,
	}[a]
}

// TestPlanApplyPlan: each case sets up the sandbox, plans the documents,
// applies the plan, and plans again: the second plan must be in sync (the
// second run changes nothing), and every request must match the vendor's
// spec.
func TestPlanApplyPlan(t *testing.T) {
	cases := []struct {
		name  string
		seed  int
		setup func(w *world, ids map[string]string)
		docs  string
		prune bool
		want  []step
		check func(t *testing.T, w *world, ids map[string]string, res []reconcile.Result)
	}{
		{
			name: "create sensor and baremetal pools",
			docs: `kind: SensorToken
display_name: edge
description: edge sensors
allowed_instance_count: 2
passphrase_env: POOL_PP
---
kind: BaremetalToken
display_name: hosts
allowed_instance_count: 5
expiry_time_since_creation_mins: 120
passphrase_env: POOL_PP
`,
			want: []step{{kind: "SensorToken", name: "edge", action: reconcile.Create}, {kind: "BaremetalToken", name: "hosts", action: reconcile.Create}},
			check: func(t *testing.T, w *world, _ map[string]string, res []reconcile.Result) {
				if n := len(w.tokens(ssp.Sensor, "edge")); n != 1 {
					t.Errorf("%d sensor tokens named edge, want 1", n)
				}
				if n := len(w.tokens(ssp.Baremetal, "hosts")); n != 1 {
					t.Errorf("%d baremetal tokens named hosts, want 1", n)
				}
				if res[0].ID == "" || res[1].ID == "" {
					t.Errorf("results carry no new ids: %+v", res)
				}
			},
		},
		{
			name:  "a matching token is unchanged",
			setup: func(w *world, ids map[string]string) { ids["a"] = w.createSensorToken("edge", "edge sensors", 2) },
			docs:  "kind: SensorToken\ndisplay_name: edge\ndescription: edge sensors\nallowed_instance_count: 2\npassphrase_env: POOL_PP\n",
			want:  []step{{kind: "SensorToken", name: "edge", action: reconcile.Unchanged, id: "a"}},
		},
		{
			name:  "drift: a field that differs replaces the token",
			setup: func(w *world, ids map[string]string) { ids["a"] = w.createSensorToken("edge", "old text", 2) },
			docs:  "kind: SensorToken\ndisplay_name: edge\ndescription: edge sensors\nallowed_instance_count: 2\npassphrase_env: POOL_PP\n",
			want:  []step{{kind: "SensorToken", name: "edge", action: reconcile.Replace, reason: "description differs", id: "a"}},
			check: func(t *testing.T, w *world, ids map[string]string, res []reconcile.Result) {
				if res[0].Replaces != ids["a"] || res[0].ID == ids["a"] {
					t.Errorf("replaced %q by %q, want %q by a new token", res[0].Replaces, res[0].ID, ids["a"])
				}
				if n := len(w.tokens(ssp.Sensor, "edge")); n != 2 {
					t.Errorf("%d tokens named edge, want 2 (no --prune: the old one stays)", n)
				}
			},
		},
		{
			name: "prune deletes the name's other tokens, and only those",
			setup: func(w *world, ids map[string]string) {
				ids["small"] = w.createSensorToken("edge", "", 1)
				ids["big"] = w.createSensorToken("edge", "", 3)
				ids["other"] = w.createSensorToken("elsewhere", "", 1)
			},
			docs:  "kind: SensorToken\ndisplay_name: edge\npassphrase_env: POOL_PP\n",
			prune: true,
			want: []step{
				{kind: "SensorToken", name: "edge", action: reconcile.Unchanged, id: "big"},
				{kind: "SensorToken", name: "edge", action: reconcile.Delete, reason: "superseded", id: "small"},
			},
			check: func(t *testing.T, w *world, ids map[string]string, _ []reconcile.Result) {
				if got := w.tokens(ssp.Sensor, "edge"); len(got) != 1 || got[ids["big"]] == "" {
					t.Errorf("tokens named edge: %v, want only %s", got, ids["big"])
				}
				if got := w.tokens(ssp.Sensor, "elsewhere"); len(got) != 1 {
					t.Errorf("--prune touched a name absent from the documents: %v", got)
				}
			},
		},
		{
			name: "an EXPIRED token is replaced, and pruned",
			setup: func(w *world, ids map[string]string) {
				ids["old"] = w.createSensorToken("edge", "", 1)
				w.advance(31 * time.Minute)
			},
			docs:  "kind: SensorToken\ndisplay_name: edge\npassphrase_env: POOL_PP\n",
			prune: true,
			want: []step{
				{kind: "SensorToken", name: "edge", action: reconcile.Replace, reason: "EXPIRED", id: "old"},
				{kind: "SensorToken", name: "edge", action: reconcile.Delete, reason: "EXPIRED", id: "old"},
			},
			check: func(t *testing.T, w *world, ids map[string]string, _ []reconcile.Result) {
				got := w.tokens(ssp.Sensor, "edge")
				if len(got) != 1 || got[ids["old"]] != "" {
					t.Errorf("tokens named edge: %v, want one new AVAILABLE token", got)
				}
				for _, st := range got {
					if st != ssp.StatusAvailable {
						t.Errorf("the new token is %s", st)
					}
				}
			},
		},
		{
			name: "a USED token is replaced",
			setup: func(w *world, ids map[string]string) {
				ids["old"] = w.createSensorToken("edge", "", 1)
				w.register(ids["old"])
			},
			docs: "kind: SensorToken\ndisplay_name: edge\nallowed_instance_count: 1\npassphrase_env: POOL_PP\n",
			want: []step{{kind: "SensorToken", name: "edge", action: reconcile.Replace, reason: "USED", id: "old"}},
		},
		{
			name: "min_remaining: too few instances left replaces the token",
			setup: func(w *world, ids map[string]string) {
				ids["old"] = w.createSensorToken("edge", "", 3)
				w.register(ids["old"])
				w.register(ids["old"])
			},
			docs: "kind: SensorToken\ndisplay_name: edge\nallowed_instance_count: 3\nmin_remaining: 2\npassphrase_env: POOL_PP\n",
			want: []step{{kind: "SensorToken", name: "edge", action: reconcile.Replace, reason: "too few remaining: 1, min_remaining 2", id: "old"}},
		},
		{
			name: "min_lifetime by the server's clock: too short a life replaces a baremetal token",
			setup: func(w *world, ids map[string]string) {
				n, mins := int64(2), int64(60)
				raw, err := w.ssp.CreateBaremetalToken(context.Background(), &ssp.BaremetalTokenRequest{DisplayName: "hosts", AllowedInstanceCount: &n, ExpiryTimeSinceCreationMins: &mins, Passphrase: testPassphrase})
				if err != nil {
					w.t.Fatal(err)
				}
				var tok ssp.TokenInfo
				json.Unmarshal(raw, &tok)
				ids["old"] = tok.ID
				w.advance(45 * time.Minute) // 15 minutes left by the sandbox clock
			},
			docs: "kind: BaremetalToken\ndisplay_name: hosts\nallowed_instance_count: 2\nexpiry_time_since_creation_mins: 60\nmin_lifetime: 20m\npassphrase_env: POOL_PP\n",
			want: []step{{kind: "BaremetalToken", name: "hosts", action: reconcile.Replace, reason: "too short a life", id: "old"}},
		},
		{
			name: "baremetal drift in expiry_time_since_creation_mins",
			setup: func(w *world, ids map[string]string) {
				n, mins := int64(2), int64(60)
				raw, _ := w.ssp.CreateBaremetalToken(context.Background(), &ssp.BaremetalTokenRequest{DisplayName: "hosts", AllowedInstanceCount: &n, ExpiryTimeSinceCreationMins: &mins, Passphrase: testPassphrase})
				var tok ssp.TokenInfo
				json.Unmarshal(raw, &tok)
				ids["old"] = tok.ID
			},
			docs: "kind: BaremetalToken\ndisplay_name: hosts\nallowed_instance_count: 2\nexpiry_time_since_creation_mins: 90\npassphrase_env: POOL_PP\n",
			want: []step{{kind: "BaremetalToken", name: "hosts", action: reconcile.Replace, reason: "expiry_time_since_creation_mins differs", id: "old"}},
		},
		{
			name: "agent tokens: create, and drift updated by PUT",
			setup: func(w *world, ids map[string]string) {
				if _, _, err := w.ag.CreateToken(context.Background(), &agent.TokenRequest{Name: "ci", Read: true}); err != nil {
					w.t.Fatal(err)
				}
			},
			docs: "kind: AgentToken\nname: ci\nread: true\nchange: true\n---\nkind: AgentToken\nname: monitor\nread: true\n",
			want: []step{{kind: "AgentToken", name: "ci", action: reconcile.Update}, {kind: "AgentToken", name: "monitor", action: reconcile.Create}},
		},
		{
			name: "MPS switches: only the changed one is planned",
			docs: "kind: MPSConfig\ndocument_file_type: true\nmedia_file_type: false\n",
			setup: func(w *world, ids map[string]string) {
				if _, err := w.ssp.UpdateMPSGlobal(context.Background(), map[string]bool{"document_file_type": true, "media_file_type": true}); err != nil {
					w.t.Fatal(err)
				}
			},
			want: []step{{kind: "MPSConfig", name: "mps-global-config", action: reconcile.Update}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.seed)
			ids := map[string]string{}
			if tc.setup != nil {
				tc.setup(w, ids)
			}
			platform := config.SSP
			if strings.Contains(tc.docs, "AgentToken") {
				platform = config.Agent
			}
			set := mustParse(t, platform, tc.docs)
			ctx := context.Background()
			mark := w.mark()
			plan, err := reconcile.MakePlan(ctx, w.clients(), set, reconcile.PlanOptions{Prune: tc.prune})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range w.since(mark) {
				if !strings.HasPrefix(r, "GET ") {
					t.Errorf("planning sent %s: a plan is computed from reads only", r)
				}
			}
			checkPlan(t, plan, tc.want, ids)
			tasks := 0
			res := reconcile.Execute(ctx, w.clients(), plan, reconcile.ExecOptions{OnStart: func(n int) { tasks = n }})
			for i, r := range res {
				if !r.OK || r.Outcome != outcomeOf(plan.Steps[i].Action) {
					t.Errorf("result %d: %s ok=%v %v, want %s", i, r.Outcome, r.OK, r.Err, outcomeOf(plan.Steps[i].Action))
				}
			}
			if tasks == 0 && !plan.InSync() {
				t.Errorf("OnStart was told of no tasks")
			}
			if tc.check != nil {
				tc.check(t, w, ids, res)
			}
			again, err := reconcile.MakePlan(ctx, w.clients(), set, reconcile.PlanOptions{Prune: tc.prune})
			if err != nil {
				t.Fatal(err)
			}
			if !again.InSync() {
				t.Fatalf("the second plan is not in sync:\n%s", describe(again))
			}
			validateSSP(t, w.rec)
		})
	}
}

// validateSSP checks every SSP request and answer against the vendor spec.
func validateSSP(t *testing.T, rec *specs.Recorder) {
	t.Helper()
	doc := specs.Load(t, "ssp-sensors.yaml")
	specs.RelaxAdditionalProperties(t, doc, "RegistrationToken", "RegistrationTokenResponseList", "RegistrationTokenStatusesList")
	v := specs.NewValidator(t, doc)
	for _, x := range rec.Exchanges() {
		if strings.HasPrefix(x.Request.URL.Path, "/_sandbox/") {
			continue
		}
		if err := v.Validate(context.Background(), x); err != nil {
			t.Errorf("%s %s: %v", x.Request.Method, x.Request.URL.Path, err)
		}
	}
}

// TestSensorFeaturesBatches: only the sensors whose state differs are sent,
// in calls of at most 25, and a second plan is in sync.
func TestSensorFeaturesBatches(t *testing.T) {
	w := newWorld(t, 60)
	ctx := context.Background()
	set := mustParse(t, config.SSP, "kind: SensorFeatures\nselector:\n  all: true\nmps_enabled: true\nflows_enabled: true\n")
	plan, err := reconcile.MakePlan(ctx, w.clients(), set, reconcile.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mpsOff, flowsOff int
	updates := 0
	for _, s := range plan.Steps {
		if s.Action != reconcile.Update {
			continue
		}
		updates++
		for _, c := range s.Changes {
			switch c.Field {
			case "mps_enabled":
				mpsOff++
			case "flows_enabled":
				flowsOff++
			}
		}
	}
	last := plan.Steps[len(plan.Steps)-1]
	if last.Action != reconcile.Unchanged || last.Count == nil || *last.Count+updates != 60 {
		t.Fatalf("the plan does not account for the 60 sensors: %d updates and %+v", updates, last)
	}
	if mpsOff == 0 || mpsOff == 60 {
		t.Fatalf("seeded sensors should mix MPS on and off; %d off", mpsOff)
	}
	mark := w.mark()
	res := reconcile.Execute(ctx, w.clients(), plan, reconcile.ExecOptions{Concurrency: 2})
	for _, r := range res {
		if !r.OK {
			t.Fatalf("%s %s: %v", r.Name, r.Outcome, r.Err)
		}
	}
	calls := map[string]int{}
	for _, r := range w.since(mark) {
		calls[r]++
	}
	ceil := func(n int) int { return (n + 24) / 25 }
	if got, want := calls["POST /sensors/feature-config/malware-prevention-events"], ceil(mpsOff); got != want {
		t.Errorf("%d MPS calls for %d sensors, want %d (batches of 25)", got, mpsOff, want)
	}
	if got, want := calls["POST /sensors/feature-config/flow-events"], ceil(flowsOff); got != want {
		t.Errorf("%d flow calls for %d sensors, want %d", got, flowsOff, want)
	}
	if calls["POST /sensors/feature-config/ids-events"] != 0 {
		t.Errorf("IDS calls were sent though the document does not manage IDS")
	}
	again, err := reconcile.MakePlan(ctx, w.clients(), set, reconcile.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.InSync() || len(again.Steps) != 1 || *again.Steps[0].Count != 60 {
		t.Fatalf("second plan:\n%s", describe(again))
	}
	validateSSP(t, w.rec)
}

// TestSensorFeaturesConflict: two documents that want one sensor in two
// states are refused after the reads (exit 2), naming both.
func TestSensorFeaturesConflict(t *testing.T) {
	w := newWorld(t, 5)
	set := mustParse(t, config.SSP, "kind: SensorFeatures\nselector: {all: true}\nmps_enabled: true\n---\nkind: SensorFeatures\nselector: {health: ok}\nmps_enabled: false\n")
	_, err := reconcile.MakePlan(context.Background(), w.clients(), set, reconcile.PlanOptions{})
	if exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "docs.yaml#1") || !strings.Contains(err.Error(), "docs.yaml#2") {
		t.Fatalf("err = %v (exit %d), want exit 2 naming both documents", err, exit.CodeOf(err))
	}
}

// TestAgentNameTwice: two agent tokens with the document's name cannot be
// told apart: exit 2, uuids masked.
func TestAgentNameTwice(t *testing.T) {
	w := newWorld(t, 0)
	var uuids []string
	for range 2 {
		_, tok, err := w.ag.CreateToken(context.Background(), &agent.TokenRequest{Name: "ci", Read: true})
		if err != nil {
			t.Fatal(err)
		}
		uuids = append(uuids, tok.UUID)
	}
	set := mustParse(t, config.Agent, "kind: AgentToken\nname: ci\nread: true\n")
	_, err := reconcile.MakePlan(context.Background(), w.clients(), set, reconcile.PlanOptions{})
	if exit.CodeOf(err) != exit.Usage || !strings.Contains(err.Error(), "2 agent tokens are named") {
		t.Fatalf("err = %v, want exit 2", err)
	}
	for _, u := range uuids {
		if strings.Contains(err.Error(), u) {
			t.Fatalf("the error shows a uuid (a secret): %v", err)
		}
	}
}

// TestPartialFailure: a create that fails leaves the pool's deletes
// unsent; the other documents are carried out.
func TestPartialFailure(t *testing.T) {
	w := newWorld(t, 0)
	old := w.createSensorToken("edge", "", 1)
	w.advance(31 * time.Minute)
	// 64 characters is the baremetal limit: the sandbox refuses 65 (as the
	// vendor's TokenStatusInfo would), so this create fails server side.
	set := mustParse(t, config.SSP, "kind: SensorToken\ndisplay_name: edge\npassphrase_env: POOL_PP\n---\nkind: SensorToken\ndisplay_name: fine\npassphrase_env: POOL_PP\n")
	plan, err := reconcile.MakePlan(context.Background(), w.clients(), set, reconcile.PlanOptions{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, plan, []step{
		{kind: "SensorToken", name: "edge", action: reconcile.Replace},
		{kind: "SensorToken", name: "edge", action: reconcile.Delete},
		{kind: "SensorToken", name: "fine", action: reconcile.Create},
	}, nil)
	// Break the first create: an auditor may read but not write.
	aud, err := client.New(client.Options{BaseURL: w.url}, &client.BasicAuth{Username: sim.AuditorUser, Password: sim.DefaultPassword})
	if err != nil {
		t.Fatal(err)
	}
	res := reconcile.Execute(context.Background(), reconcile.Clients{SSP: ssp.New(aud)}, plan, reconcile.ExecOptions{Concurrency: 1})
	if res[0].Outcome != reconcile.Failed || exit.CodeOf(res[0].Err) != exit.Auth {
		t.Errorf("create: %s %v, want failed with exit 3", res[0].Outcome, res[0].Err)
	}
	if res[1].Outcome != reconcile.NotSent {
		t.Errorf("delete after a failed create: %s, want not_sent", res[1].Outcome)
	}
	if res[2].Outcome != reconcile.NotSent || exit.CodeOf(res[2].Err) != exit.Auth {
		t.Errorf("the task after a refused one: %s %v, want not_sent (an earlier request was refused)", res[2].Outcome, res[2].Err)
	}
	if got := w.tokens(ssp.Sensor, "edge"); got[old] == "" {
		t.Errorf("the old token was deleted although its replacement failed")
	}
}
