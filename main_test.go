package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tokenctl/tokenctl/internal/sandbox"
)

// binDir holds the tokenctl binary built once for all scripts.
var binDir string

// TestMain builds the real binary, with a version stamped the way
// goreleaser stamps it, so the scripts run exactly what users run.
func TestMain(m *testing.M) {
	if os.Getenv(rssWrapperEnv) != "" {
		os.Exit(rssWrapper())
	}
	dir, err := os.MkdirTemp("", "tokenctl-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	exe := "tokenctl"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	ldflags := "-X github.com/tokenctl/tokenctl/internal/build.Version=9.9.9-e2e -X github.com/tokenctl/tokenctl/internal/build.Commit=e2ecommit -X github.com/tokenctl/tokenctl/internal/build.Date=2026-01-02T03:04:05Z"
	build := exec.Command("go", "build", "-ldflags", ldflags, "-o", filepath.Join(dir, exe), ".")
	if other := os.Getenv("TOKENCTL_E2E_BINARY"); other != "" {
		// Measure another build with the same harnesses (e.g. an older
		// release against TestAdversarialBadInputs): copy it in.
		build = exec.Command("cp", other, filepath.Join(dir, exe))
	}
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building tokenctl:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestScripts runs testdata/script/*.txtar against the built binary and
// sandboxes started inside the test process, over real HTTP.
func TestScripts(t *testing.T) {
	testscript.Run(t, ScriptParams(t, "testdata/script"))
}

// ScriptParams is the testscript setup shared by every script directory.
func ScriptParams(t *testing.T, dir string) testscript.Params {
	return testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			work := env.Getenv("WORK")
			env.Setenv("HOME", filepath.Join(work, "home"))
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(work, "config"))
			env.Setenv("XDG_STATE_HOME", filepath.Join(work, "state"))
			env.Setenv("CI", "")
			env.Setenv("NO_COLOR", "1")
			env.Values[sandboxKey] = &scriptSandbox{}
			// $EXAMPLES is the repository's examples/ (scripts run in $WORK).
			if examples, err := filepath.Abs("examples"); err == nil {
				env.Setenv("EXAMPLES", examples)
			}
			if specs := os.Getenv("TOKENCTL_SPECS_DIR"); specs != "" {
				env.Setenv("TOKENCTL_SPECS_DIR", specs)
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sandbox":  cmdSandbox,
			"filemode": cmdFileMode,
			"nosecret": cmdNoSecret,
			"jsonpath": cmdJSONPath,
			"envfile":  cmdEnvFile,
			"exits":    cmdExits,
			"waitfile": cmdWaitFile,
		},
	}
}

type scriptSandbox struct {
	srv  *sandbox.Server
	base int64
	// log holds every vendor-API request since start; logBase is where
	// the count of `sandbox writes` starts.
	log     *requestLog
	logBase int
	stop    func() error
}

const sandboxKey = "sandbox"

// cmdSandbox controls an in-process sandbox:
//
//	sandbox start [--seed-sensors N] [--tls] [--agent-legacy] [--nsx-no-body-calls] [--nsx-identity NAME]
//	              [--lcm-step D] [--lcm-fail-hosts RE] [--lcm-fail-rate F] [--lcm-task-outcome X]
//	              [--faults RATE --fault-kinds K,K --fault-seed N]
//	    starts it (state in $WORK/sandbox-state.json) and sets $SANDBOX_URL;
//	    with --tls also $SANDBOX_THUMBPRINT and the certificate in $WORK/sandbox-ca.pem
//	    ($SANDBOX_CA); --nsx-identity registers a client certificate (main_nsx_test.go);
//	    --faults injects failures (sandbox.Faults, Retry-After 0)
//	sandbox stop           stops it, writing its state (start it again to serve the same state)
//	sandbox requests N     the sandbox received exactly N requests since start or reset
//	sandbox writes N       ... of which exactly N change something (isWrite)
//	sandbox reset          resets the request counts
//	sandbox advance DUR    moves the sandbox clock forward
//	sandbox register ID PASSFILE [HOSTNAME]  simulates an appliance or host registering with a token
//	sandbox faults JSON    replaces the SSP lifecycle faults (POST /_sandbox/ssp/faults)
func cmdSandbox(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: sandbox start|requests|await-requests|reset|advance|register")
	}
	st := ts.Value(sandboxKey).(*scriptSandbox)
	if args[0] != "start" && st.srv == nil {
		ts.Fatalf("sandbox %s: no sandbox started", args[0])
	}
	switch args[0] {
	case "start":
		if st.srv != nil {
			ts.Fatalf("sandbox start: one is running (sandbox stop first)")
		}
		log := &requestLog{}
		opts := sandbox.Options{StatePath: ts.MkAbs("sandbox-state.json"), OnRequest: log.add}
		identity := ""
		for i := 1; i < len(args); i++ {
			switch args[i] {
			case "--seed-sensors":
				i++
				n, err := strconv.Atoi(args[i])
				ts.Check(err)
				opts.SeedSensors = n
			case "--tls":
				opts.TLS = true
			case "--agent-legacy":
				opts.AgentLegacy = true
			case "--nsx-no-body-calls":
				opts.NSXNoBodyCalls = true
			case "--nsx-identity":
				i++
				identity = args[i]
			case "--faults":
				i++
				rate, err := strconv.ParseFloat(args[i], 64)
				ts.Check(err)
				opts.Faults.Rate = rate
			case "--fault-kinds":
				i++
				kinds, err := sandbox.ParseFaultKinds(args[i])
				ts.Check(err)
				opts.Faults.Kinds = kinds
			case "--fault-seed":
				i++
				seed, err := strconv.ParseInt(args[i], 10, 64)
				ts.Check(err)
				opts.Faults.Seed = seed
			case "--lcm-step":
				i++
				d, err := time.ParseDuration(args[i])
				ts.Check(err)
				opts.LCMStep = d
			case "--lcm-fail-hosts":
				i++
				opts.LCMFaults.FailHosts = args[i]
			case "--lcm-fail-rate":
				i++
				r, err := strconv.ParseFloat(args[i], 64)
				ts.Check(err)
				opts.LCMFaults.FailRate = r
			case "--lcm-task-outcome":
				i++
				opts.LCMFaults.TaskOutcome = args[i]
			default:
				ts.Fatalf("sandbox start: unknown option %s", args[i])
			}
		}
		opts.Seed = 1
		srv, err := sandbox.New(opts)
		ts.Check(err)
		url, err := srv.Start("127.0.0.1:0")
		ts.Check(err)
		var once sync.Once
		var closeErr error
		st.stop = func() error {
			once.Do(func() { closeErr = srv.Close() })
			return closeErr
		}
		ts.Defer(func() { st.stop() })
		ts.Setenv("SANDBOX_URL", url)
		if c := srv.Certificate(); c != nil {
			ts.Setenv("SANDBOX_THUMBPRINT", thumbprint(c.Leaf.Raw))
			ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Leaf.Raw})
			ts.Check(os.WriteFile(ts.MkAbs("sandbox-ca.pem"), ca, 0o644))
			ts.Setenv("SANDBOX_CA", ts.MkAbs("sandbox-ca.pem"))
		}
		if identity != "" {
			registerNSXIdentity(ts, srv, identity)
		}
		st.srv, st.base, st.log, st.logBase = srv, srv.Requests(), log, 0
	case "stop":
		ts.Check(st.stop())
		st.srv = nil
	case "writes":
		want, err := strconv.Atoi(args[1])
		ts.Check(err)
		var writes []string
		for _, r := range st.log.all()[st.logBase:] {
			if isWrite(r) {
				writes = append(writes, r.Method+" "+r.Path)
			}
		}
		if (len(writes) == want) == neg {
			ts.Fatalf("sandbox received %d write requests %v, want %s%d", len(writes), writes, map[bool]string{true: "not ", false: ""}[neg], want)
		}
	case "requests":
		want, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		got := st.srv.Requests() - st.base
		if (got == want) == neg {
			ts.Fatalf("sandbox received %d requests, want %s%d", got, map[bool]string{true: "not ", false: ""}[neg], want)
		}
	case "await-requests":
		// For background commands: wait until the sandbox has received at
		// least N requests since the last reset (a command is under way).
		want, err := strconv.ParseInt(args[1], 10, 64)
		ts.Check(err)
		for deadline := time.Now().Add(20 * time.Second); st.srv.Requests()-st.base < want; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				ts.Fatalf("sandbox received %d requests in 20s, want at least %d", st.srv.Requests()-st.base, want)
			}
		}
	case "reset":
		st.base = st.srv.Requests()
		st.logBase = len(st.log.all())
	case "advance":
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		env := st.srv.Env()
		env.Lock()
		env.Advance(d)
		env.Changed()
		env.Unlock()
	case "register":
		pass, err := os.ReadFile(ts.MkAbs(args[2]))
		ts.Check(err)
		req := map[string]string{"token_id": strings.TrimSpace(ts.ReadFile(args[1])), "passphrase": strings.TrimSpace(string(pass))}
		if len(args) > 3 {
			req["hostname"] = args[3]
		}
		body, _ := json.Marshal(req)
		resp, err := http.Post(ts.Getenv("SANDBOX_URL")+"/_sandbox/ssp/register", "application/json", bytes.NewReader(body))
		ts.Check(err)
		resp.Body.Close()
		if (resp.StatusCode == 200) == neg {
			ts.Fatalf("sandbox register: HTTP %d", resp.StatusCode)
		}
	case "faults":
		resp, err := http.Post(ts.Getenv("SANDBOX_URL")+"/_sandbox/ssp/faults", "application/json", strings.NewReader(args[1]))
		ts.Check(err)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			ts.Fatalf("sandbox faults: HTTP %d", resp.StatusCode)
		}
	default:
		ts.Fatalf("sandbox: unknown subcommand %s", args[0])
	}
}

// isWrite reports a request that changes something on the server, by the
// sandbox's routes (independently of the client's own classification): any
// method but GET and HEAD, except the routes that only read or log in: NSX
// session create and destroy, the NSX retrieve query, the OAuth token
// endpoint.
func isWrite(r sandbox.RequestRecord) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	switch {
	case r.Path == "/api/session/create", r.Path == "/api/session/destroy",
		strings.HasSuffix(r.Path, "/registration-token/retrieve"),
		r.Path == "/oauth2/access_token":
		return false
	}
	return true
}

func thumbprint(der []byte) string {
	return fmt.Sprintf("%x", sha256.Sum256(der))
}

// cmdFileMode checks a file's permission bits: filemode FILE 0600
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: filemode FILE MODE")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if got := fi.Mode().Perm(); (uint64(got) == want) == neg {
		ts.Fatalf("%s has mode %04o, want %s%04o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// cmdNoSecret fails when any of the files contains the secret read from
// SECRETFILE (first line): nosecret SECRETFILE FILE...
// The file names stdout and stderr mean the last command's output.
func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: nosecret SECRETFILE FILE...")
	}
	secret := strings.TrimSpace(strings.SplitN(ts.ReadFile(args[0]), "\n", 2)[0])
	if secret == "" {
		ts.Fatalf("nosecret: %s is empty", args[0])
	}
	for _, f := range args[1:] {
		if strings.Contains(ts.ReadFile(f), secret) != neg {
			if neg {
				ts.Fatalf("%s does not contain the secret of %s", f, args[0])
			}
			ts.Fatalf("%s contains the secret of %s", f, args[0])
		}
	}
}

// cmdJSONPath extracts a field of the JSON in FILE into OUTFILE:
// jsonpath FILE .field.sub OUTFILE (use stdout as FILE for the last output).
func cmdJSONPath(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: jsonpath FILE PATH OUTFILE")
	}
	var v any
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &v))
	for _, k := range strings.Split(strings.TrimPrefix(args[1], "."), ".") {
		if k == "" {
			continue
		}
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			ts.Check(err)
			v = x[i]
		default:
			ts.Fatalf("jsonpath %s: %s is not an object", args[1], k)
		}
	}
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(s), 0o600))
}

// cmdEnvFile sets an environment variable from a file's first line:
// envfile NAME FILE
func cmdEnvFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: envfile NAME FILE")
	}
	line, _, _ := strings.Cut(ts.ReadFile(args[1]), "\n")
	ts.Setenv(args[0], strings.TrimSpace(line))
}

// cmdExits runs a program like exec and requires its exit status:
// exits N PROGRAM ARGS... (stdout and stderr are checked as after exec).
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: exits N PROGRAM ARGS...")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if (got == want) == neg {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdWaitFile waits up to 20s for a file to exist and be non-empty (a
// background `sandbox serve --url-file`): waitfile FILE
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitfile FILE")
	}
	path := ts.MkAbs(args[0])
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			return
		}
	}
	ts.Fatalf("%s did not appear within 20s", args[0])
}
