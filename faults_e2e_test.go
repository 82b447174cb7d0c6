package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// Messages the client attaches to failures (internal/client).
const (
	adviceLookFirst = "may have carried out the request"
	// NSX has no list call to look with; its advice says so (internal/nsx).
	adviceNSXUnseen = "may have created a token before the failure"
	adviceNothing   = "nothing was done"
)

// hasLookAdvice reports whether a failed create's message tells the user
// that it may have been carried out.
func hasLookAdvice(s string) bool {
	return strings.Contains(s, adviceLookFirst) || strings.Contains(s, adviceNSXUnseen)
}

// faultOp is one tokenctl invocation of the mixed run and what it targets.
type faultOp struct {
	kind     string   // create, bulk, get, list, delete
	names    []string // create/bulk: display names, one per document
	id       string   // get/delete
	typed    bool     // delete with --type sensor (no look-up first)
	pageSize int      // list: unique per list, so its pages can be told apart
	res      run
}

const (
	faultRunOps     = 1000
	faultRunWorkers = 8
	faultMaxTries   = 6 // client.Options.MaxRetries 5, plus the first try
	faultPassphrase = "Fault-Injection-Passphrase-1!"
)

// TestFaultInjectedMixedRun runs 1,000 tokenctl processes (creates, bulk
// creates, gets, lists, deletes; 8 at a time) against a sandbox that fails
// 20% of requests (429 with Retry-After 0, 502, 503, 504, resets before and
// after acting), then checks the sandbox's state and request log against
// every exit code: nothing lost, nothing duplicated, no create sent again
// after a failure that may have carried it out, each code truthful.
func TestFaultInjectedMixedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 1,000 processes")
	}
	start := time.Now()
	pe := newProcEnv(t)
	statePath := filepath.Join(pe.Dir, "sandbox-state.json")

	// Tokens for the gets and deletes, created without faults.
	const getN, deleteN = 250, 250
	pre := precreateTokens(t, statePath, getN+deleteN)
	getIDs, deleteIDs := pre[:getN], pre[getN:]

	log := &requestLog{}
	srv, url, stop := startProcSandbox(t, sandbox.Options{
		Options:   sim.Options{Seed: 1},
		StatePath: statePath,
		Faults:    sandbox.Faults{Rate: 0.2, RetryAfter: 0, Seed: 8},
		OnRequest: log.add,
	})
	pe.Set("TOKENCTL_SERVER", url)
	pe.Set("TOKENCTL_PLATFORM", "ssp")
	pe.Set("TOKENCTL_USERNAME", sim.AdminUser)
	pe.Set("TOKENCTL_PASSWORD", sim.DefaultPassword)
	pe.Set("TOKENCTL_PASSPHRASE", faultPassphrase)

	// 1,000 operations: 380 creates, 20 five-document bulk creates, 250
	// gets, 100 lists, 250 deletes (half of them look the id up first).
	var ops []*faultOp
	for i := range 380 {
		ops = append(ops, &faultOp{kind: "create", names: []string{fmt.Sprintf("fz-c-%04d", i)}})
	}
	for i := range 20 {
		op := &faultOp{kind: "bulk"}
		for d := range 5 {
			op.names = append(op.names, fmt.Sprintf("fz-b-%02d-%d", i, d))
		}
		ops = append(ops, op)
	}
	for _, id := range getIDs {
		ops = append(ops, &faultOp{kind: "get", id: id})
	}
	for i := range 100 {
		ops = append(ops, &faultOp{kind: "list", pageSize: 40 + i})
	}
	for i, id := range deleteIDs {
		ops = append(ops, &faultOp{kind: "delete", id: id, typed: i%2 == 0})
	}
	if len(ops) != faultRunOps {
		t.Fatalf("%d operations", len(ops))
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(ops), func(i, j int) { ops[i], ops[j] = ops[j], ops[i] })

	work := make(chan *faultOp)
	var wg sync.WaitGroup
	for range faultRunWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for op := range work {
				op.res = runFaultOp(t, pe, op)
			}
		}()
	}
	for _, op := range ops {
		work <- op
	}
	close(work)
	wg.Wait()
	if err := stop(); err != nil { // the last state write
		t.Fatal(err)
	}
	elapsed := time.Since(start)

	// What the server saw, by target.
	posts := map[string][]string{} // display_name -> fault of each POST, in order
	byID := map[string][]sandbox.RequestRecord{}
	lists := map[int][]string{}
	for _, r := range log.all() {
		switch {
		case r.Method == http.MethodPost && r.Path == "/sensors/registration-tokens":
			var body struct {
				DisplayName string `json:"display_name"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatalf("create body %q: %v", r.Body, err)
			}
			posts[body.DisplayName] = append(posts[body.DisplayName], r.Fault)
		case r.Method == http.MethodGet && r.Path == "/sensors/registration-tokens":
			q, _ := parseQuery(r.Query)
			ps, _ := strconv.Atoi(q["page_size"])
			lists[ps] = append(lists[ps], r.Fault)
		default:
			id := r.Path[strings.LastIndex(r.Path, "/")+1:]
			byID[id] = append(byID[id], r)
		}
	}
	state := map[string][]string{} // display_name -> ids
	present := map[string]bool{}
	for _, tok := range sspTokens(t, statePath) {
		state[tok.DisplayName] = append(state[tok.DisplayName], tok.ID)
		present[tok.ID] = true
	}

	codes := map[string]map[int]int{}
	count := func(kind string, code int) {
		if codes[kind] == nil {
			codes[kind] = map[int]int{}
		}
		codes[kind][code]++
	}
	for _, op := range ops {
		label := fmt.Sprintf("%s %v", op.kind, op.res.Args)
		count(op.kind, op.res.Code)
		switch op.kind {
		case "create":
			var created struct {
				ID string `json:"id"`
			}
			if op.res.Code == 0 {
				if err := json.Unmarshal([]byte(op.res.Stdout), &created); err != nil {
					t.Errorf("%s: exit 0 without the token on stdout: %v", label, err)
				}
			}
			checkCreate(t, label, op.names[0], op.res.Code, op.res.Stderr, created.ID, posts, state)
		case "bulk":
			checkBulk(t, label, op, posts, state)
		case "get":
			fs := faultsOf(byID[op.id])
			if err := readTruth(op.res.Code, fs); err != nil {
				t.Errorf("%s: %v (server saw %v)", label, err, fs)
			}
			if op.res.Code == 0 && !strings.Contains(op.res.Stdout, `"id": "`+op.id+`"`) {
				t.Errorf("%s: exit 0 but stdout lacks the token: %s", label, op.res.Stdout)
			}
			if !present[op.id] {
				t.Errorf("%s: token lost (never deleted, not in the state)", label)
			}
		case "list":
			fs := lists[op.pageSize]
			if err := readTruth(op.res.Code, fs); err != nil {
				t.Errorf("%s: %v (server saw %v)", label, err, fs)
			}
			if op.res.Code == 0 {
				var items []json.RawMessage
				if err := json.Unmarshal([]byte(op.res.Stdout), &items); err != nil || len(items) < getN {
					t.Errorf("%s: exit 0 but stdout is not the list (%d items, %v)", label, len(items), err)
				}
			}
		case "delete":
			recs := byID[op.id]
			fs := faultsOf(recs)
			if err := readTruth(op.res.Code, fs); err != nil {
				t.Errorf("%s: %v (server saw %v)", label, err, fs)
			}
			acted := false
			for _, r := range recs {
				if r.Method == http.MethodDelete && (r.Fault == "" || r.Fault == sandbox.FaultResetAfter) {
					acted = true
				}
			}
			switch {
			case op.res.Code == 0 && present[op.id]:
				t.Errorf("%s: exit 0 but the token is still there", label)
			case present[op.id] == acted:
				t.Errorf("%s: exit %d, token present=%v, but a DELETE was acted on=%v", label, op.res.Code, present[op.id], acted)
			}
		}
	}
	// Nothing but what was asked for exists.
	for name, ids := range state {
		if !strings.HasPrefix(name, "fz-") && !strings.HasPrefix(name, "pre-") {
			t.Errorf("unexpected token %q %v", name, ids)
		}
	}
	t.Logf("%d operations in %v; exit codes by kind %v; faults injected %v", len(ops), elapsed.Round(time.Millisecond), codes, srv.FaultCounts())
}

// runFaultOp runs one operation's tokenctl process.
func runFaultOp(t *testing.T, pe *procEnv, op *faultOp) run {
	switch op.kind {
	case "create":
		return pe.Run(t, "", "token", "create", "--display-name", op.names[0], "-o", "json")
	case "bulk":
		var b strings.Builder
		for _, n := range op.names {
			fmt.Fprintf(&b, "---\ndisplay_name: %s\ndescription: bulk under faults\n", n)
		}
		path := filepath.Join(pe.Dir, op.names[0]+".yaml")
		if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
			t.Error(err)
		}
		return pe.Run(t, "", "token", "create", "-f", path, "--concurrency", "3", "-o", "json")
	case "get":
		return pe.Run(t, "", "token", "get", op.id, "--type", "sensor", "-o", "json")
	case "list":
		return pe.Run(t, "", "token", "list", "--all", "--page-size", strconv.Itoa(op.pageSize), "-o", "json")
	default:
		args := []string{"token", "delete", op.id, "--yes"}
		if op.typed {
			args = append(args, "--type", "sensor")
		}
		return pe.Run(t, "", args...)
	}
}

// checkCreate proves one create's exit code against the server's log and
// state: only 429s are retried; exit 0 means exactly one token; 6 and 7
// carry the right advice and mean at most one token, made only by a
// request that was acted on.
func checkCreate(t *testing.T, label, name string, code int, stderr, id string, posts, state map[string][]string) {
	t.Helper()
	fs := posts[name]
	ids := state[name]
	if len(fs) == 0 {
		t.Errorf("%s: exit %d but no POST reached the server", label, code)
		return
	}
	acted := 0
	for i, f := range fs {
		if f == "" || f == sandbox.FaultResetAfter {
			acted++
		}
		if i < len(fs)-1 && f != sandbox.Fault429 {
			t.Errorf("%s: sent again after %q, which may have carried it out (server saw %v)", label, f, fs)
		}
	}
	if len(fs) > faultMaxTries {
		t.Errorf("%s: %d POSTs, more than %d tries", label, len(fs), faultMaxTries)
	}
	if acted != len(ids) {
		t.Errorf("%s: %d requests acted on but %d tokens named %q exist (%v)", label, acted, len(ids), name, fs)
	}
	last := fs[len(fs)-1]
	switch code {
	case 0:
		if last != "" || len(ids) != 1 || ids[0] != id {
			t.Errorf("%s: exit 0, server saw %v, state has %v, printed id %q", label, fs, ids, id)
		}
	case exit.Unavailable:
		switch {
		case last == sandbox.Fault429 && len(fs) == faultMaxTries:
			if !strings.Contains(stderr, adviceNothing) {
				t.Errorf("%s: rate limited without saying nothing was done: %s", label, stderr)
			}
		case last == sandbox.Fault502 || last == sandbox.Fault503 || last == sandbox.Fault504:
			if !hasLookAdvice(stderr) {
				t.Errorf("%s: exit 6 after %s without the look-first advice: %s", label, last, stderr)
			}
		default:
			t.Errorf("%s: exit 6, but the server saw %v", label, fs)
		}
	case exit.Network:
		if last != sandbox.FaultResetBefore && last != sandbox.FaultResetAfter {
			t.Errorf("%s: exit 7, but the server saw %v", label, fs)
		}
		if !hasLookAdvice(stderr) {
			t.Errorf("%s: exit 7 without the look-first advice: %s", label, stderr)
		}
	default:
		t.Errorf("%s: exit %d (server saw %v): %s", label, code, fs, stderr)
	}
}

// checkBulk checks each document of a bulk create like a single create,
// from its -o json result, and the batch's exit code.
func checkBulk(t *testing.T, label string, op *faultOp, posts, state map[string][]string) {
	t.Helper()
	var items []struct {
		Source string `json:"source"`
		OK     bool   `json:"ok"`
		Result struct {
			ID string `json:"id"`
		} `json:"result"`
		Error *exit.Detail `json:"error"`
	}
	if err := json.Unmarshal([]byte(op.res.Stdout), &items); err != nil || len(items) != len(op.names) {
		t.Errorf("%s: exit %d, stdout is not %d per-item results (%v): %s", label, op.res.Code, len(op.names), err, op.res.Stdout)
		return
	}
	failed := 0
	firstCode := 0
	for i, it := range items {
		if want := fmt.Sprintf("%s.yaml#%d", op.names[0], i+1); it.Source != want {
			t.Errorf("%s: item %d source %q, want %q", label, i, it.Source, want)
		}
		code, msg := 0, ""
		if !it.OK {
			if it.Error == nil {
				t.Errorf("%s: item %d failed without an error", label, i)
				continue
			}
			code, msg = it.Error.ExitCode, it.Error.Message
			failed++
			if firstCode == 0 {
				firstCode = code
			}
		}
		checkCreate(t, fmt.Sprintf("%s item %d", label, i+1), op.names[i], code, msg, it.Result.ID, posts, state)
	}
	want := 0
	switch {
	case failed == len(items):
		want = firstCode
	case failed > 0:
		want = exit.Partial
	}
	if op.res.Code != want {
		t.Errorf("%s: exit %d with %d of %d failed, want %d", label, op.res.Code, failed, len(items), want)
	}
}

// readTruth checks an idempotent operation's exit code against the faults
// of the requests it sent: 0 means the last one was answered; 6 and 7 mean
// every try failed, the last with a status (6) or a reset (7).
func readTruth(code int, fs []string) error {
	if len(fs) == 0 {
		return fmt.Errorf("exit %d but no request reached the server", code)
	}
	last := fs[len(fs)-1]
	trailing := 0
	for i := len(fs) - 1; i >= 0 && fs[i] != ""; i-- {
		trailing++
	}
	reset := last == sandbox.FaultResetBefore || last == sandbox.FaultResetAfter
	switch {
	case code == 0 && last == "":
	case code == exit.Unavailable && last != "" && !reset && trailing >= faultMaxTries:
	case code == exit.Network && reset && trailing >= faultMaxTries:
	default:
		return fmt.Errorf("exit %d does not match", code)
	}
	return nil
}

func faultsOf(recs []sandbox.RequestRecord) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Fault
	}
	return out
}

func parseQuery(raw string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(kv, "=")
		out[k] = v
	}
	return out, nil
}

// precreateTokens creates n sensor tokens in a fault-free sandbox on the
// state file and returns their ids.
func precreateTokens(t *testing.T, statePath string, n int) []string {
	t.Helper()
	srv, err := sandbox.New(sandbox.Options{Options: sim.Options{Seed: 1}, StatePath: statePath})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, n)
	for i := range n {
		body := fmt.Sprintf(`{"display_name":"pre-%04d","passphrase":%q}`, i, faultPassphrase)
		req := httptest.NewRequest(http.MethodPost, "/sensors/registration-tokens", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(sim.AdminUser, sim.DefaultPassword)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		var tok struct {
			ID string `json:"id"`
		}
		if rec.Code/100 != 2 || json.Unmarshal(rec.Body.Bytes(), &tok) != nil || tok.ID == "" {
			t.Fatalf("pre-creating: %d %s", rec.Code, rec.Body)
		}
		ids = append(ids, tok.ID)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(sspTokens(t, statePath)); got != n {
		t.Fatalf("pre-created %d tokens, state has %d", n, got)
	}
	slices.Sort(ids)
	return ids
}

// TestFaultInjectedCreatesEveryPlatform runs creates of NSX registration
// tokens, agent-config tokens and SD-WAN auth tokens (legacy and unified),
// one process at a time, against a sandbox failing 30% of requests, and
// checks each run's requests and exit code, and the tokens that exist
// afterwards: only 429s are retried, a 6 or 7 carries the advice to look,
// and exactly the creates that were acted on made a token.
func TestFaultInjectedCreatesEveryPlatform(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 160 processes")
	}
	pe := newProcEnv(t)
	statePath := filepath.Join(pe.Dir, "sandbox-state.json")
	log := &requestLog{}
	srv, url, stop := startProcSandbox(t, sandbox.Options{
		Options:   sim.Options{Seed: 1},
		StatePath: statePath,
		Faults:    sandbox.Faults{Rate: 0.3, RetryAfter: 0, Seed: 11},
		OnRequest: log.add,
	})
	pe.Set("SRV_PW", sim.DefaultPassword)
	pe.Set("SDWAN_TOKEN", "tokenctl-sandbox-token")
	for _, args := range [][]string{
		{"profile", "set", "nsx", "--platform", "nsx", "--server", url, "--username", "admin", "--password-env", "SRV_PW"},
		{"profile", "set", "agent", "--platform", "agent", "--server", url, "--username", "admin", "--password-env", "SRV_PW"},
		{"profile", "set", "cgx", "--platform", "sdwan", "--api-generation", "legacy", "--server", url, "--token-env", "SDWAN_TOKEN"},
		{"profile", "set", "sase", "--platform", "sdwan", "--api-generation", "unified", "--server", url, "--client-id", "tokenctl-sandbox",
			"--client-secret-env", "SRV_PW", "--tsg-id", "1999000042", "--auth-url", url + "/oauth2/access_token"},
	} {
		if r := pe.Run(t, "", args...); r.Code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}
	type platformRun struct {
		profile string
		create  func(r sandbox.RequestRecord) bool // the create call
		args    []string
	}
	isPost := func(suffix string) func(sandbox.RequestRecord) bool {
		return func(r sandbox.RequestRecord) bool {
			return r.Method == http.MethodPost && strings.HasSuffix(strings.TrimSuffix(r.Path, "/"), suffix)
		}
	}
	platforms := []platformRun{
		{"nsx", isPost("/aaa/registration-token"), []string{"token", "create", "-o", "id"}},
		{"agent", isPost("/tokens"), []string{"token", "create", "--name", "fz", "--read", "-o", "id"}},
		{"cgx", isPost("/authtokens"), []string{"authtoken", "create", "--role", "tenant_viewonly", "--expires", "24h", "-o", "id"}},
		{"sase", isPost("/authtokens"), []string{"authtoken", "create", "--role", "tenant_viewonly", "--expires", "24h", "-o", "id"}},
	}
	created := map[string][]string{} // profile -> ids printed by creates that exited 0
	acted := map[string]int{}
	codes := map[string]map[int]int{}
	for _, p := range platforms {
		codes[p.profile] = map[int]int{}
		for range 40 {
			before := len(log.all())
			r := pe.Run(t, "", append([]string{"--profile", p.profile}, p.args...)...)
			recs := log.all()[before:]
			codes[p.profile][r.Code]++
			label := fmt.Sprintf("%s %v", p.profile, p.args)
			var posts []string
			for _, rec := range recs {
				if p.create(rec) {
					posts = append(posts, rec.Fault)
					if rec.Fault == "" || rec.Fault == sandbox.FaultResetAfter {
						acted[p.profile]++
					}
				}
			}
			if len(posts) == 0 { // a look-up before the create failed for good
				if err := readTruth(r.Code, faultsOf(recs)); err != nil || r.Code == 0 {
					t.Errorf("%s: exit %d without a create request (server saw %v): %s", label, r.Code, faultsOf(recs), r.Stderr)
				}
				continue
			}
			name := fmt.Sprintf("%s-%d", p.profile, before)
			id := strings.TrimSpace(r.Stdout)
			state := map[string][]string{}
			if r.Code == 0 {
				state[name] = []string{id}
				created[p.profile] = append(created[p.profile], id)
			}
			// checkCreate wants the state of this name: one token when the
			// create was acted on; the global count is checked below.
			n := 0
			for _, f := range posts {
				if f == "" || f == sandbox.FaultResetAfter {
					n++
				}
			}
			if r.Code != 0 && n == 1 {
				state[name] = []string{"(made, unreported)"}
			}
			checkCreate(t, label, name, r.Code, r.Stderr, id, map[string][]string{name: posts}, state)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Vendors struct {
			NSX struct {
				Tokens []struct {
					Token string `json:"token"`
				} `json:"tokens"`
			} `json:"nsx"`
			Agent struct {
				Tokens []struct {
					UUID string `json:"uuid"`
				} `json:"tokens"`
			} `json:"agent"`
			SDWAN struct {
				Tenants map[string]struct {
					Operators map[string]struct {
						AuthTokens map[string]struct {
							ID            string `json:"id"`
							IsSystemOwned bool   `json:"is_system_owned"`
						} `json:"authtokens"`
					} `json:"operators"`
				} `json:"tenants"`
			} `json:"sdwan"`
		} `json:"vendors"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("state: %v", err)
	}
	have := map[string]map[string]bool{"nsx": {}, "agent": {}, "sdwan": {}}
	for _, tok := range st.Vendors.NSX.Tokens {
		have["nsx"][tok.Token] = true
	}
	for _, tok := range st.Vendors.Agent.Tokens {
		have["agent"][tok.UUID] = true
	}
	for _, tn := range st.Vendors.SDWAN.Tenants {
		for _, op := range tn.Operators {
			for _, tok := range op.AuthTokens {
				if !tok.IsSystemOwned {
					have["sdwan"][tok.ID] = true
				}
			}
		}
	}
	vendorOf := map[string]string{"nsx": "nsx", "agent": "agent", "cgx": "sdwan", "sase": "sdwan"}
	for profile, ids := range created {
		for _, id := range ids {
			if !have[vendorOf[profile]][id] {
				t.Errorf("%s: created %q (exit 0) is not in the state", profile, id)
			}
		}
	}
	if n := len(have["nsx"]); n != acted["nsx"] {
		t.Errorf("nsx: %d tokens exist, %d creates were acted on", n, acted["nsx"])
	}
	if n := len(have["agent"]); n != acted["agent"] {
		t.Errorf("agent: %d tokens exist, %d creates were acted on", n, acted["agent"])
	}
	if n := len(have["sdwan"]); n != acted["cgx"]+acted["sase"] {
		t.Errorf("sdwan: %d tokens exist, %d creates were acted on", n, acted["cgx"]+acted["sase"])
	}
	t.Logf("exit codes by profile %v; faults %v", codes, srv.FaultCounts())
}
