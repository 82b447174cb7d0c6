// Package ssp emulates the SSP (Security Services Platform) sensor and
// baremetal-token API: the 24 operations of the vendor's ssp-sensors.yaml,
// with its paths, status codes, bodies, validation, roles, pagination,
// sorting, filters, token expiry and usage counts.
//
// Choices where the vendor is silent (each is repeated where it is made):
//   - Users map to the spec's RBAC roles: admin is enterprise_admin, auditor
//     is auditor, and engineer (SSP only, same password) is
//     security_engineer, who may uninstall one baremetal server but not run
//     batch actions. Each operation's security list decides; other roles
//     (security_op, sensor, ...) have no sandbox user.
//   - error_code in an Error body is the HTTP status; module_name is
//     "sensor" for the sensor tag's operations (as the vendor examples show)
//     and "baremetal-security" (the spec tag) for baremetal operations.
//   - Lists echo "offset": -1 as the vendor's examples do, so clients must
//     not trust the echoed offset, and set total_result_count on the first
//     page (offset 0) only, as the vendor's ListResult doc says. sort_by and
//     sort_ascending are echoed only when sort_by was given; without it the
//     order is creation order (seeded sensors first, by index). sort_ascending
//     defaults to false, as the spec says, so sort_by alone sorts descending;
//     ties keep creation order. An unsupported sort_by is 400.
//   - page_size 0 means the default 1000 (the spec allows 0 and says nothing
//     of what it means).
//   - The registration manifest, which the vendor documents only as an opaque
//     string for the installer, is the sandbox's own: standard base64 (no
//     newlines) of compact JSON
//     {"ssp":"<base URL>","token_id":"<id>","device_type":"SENSOR|BAREMETAL","expiration":<ms>}.
//     It never carries the passphrase. It is computed once at create time
//     and stored with the token, so it stays the same when the sandbox
//     restarts on another port.
//   - Seeded sensors are generated from Options.Seed and their index, never
//     stored; their changes live in a small overlay (see seed.go).
//
// Baremetal servers, tasks and installer downloads
// (specs/ssp-baremetal-servers.yaml) are in baremetal.go, tasks.go and
// installer.go; their lifecycle progresses on the sandbox clock
// (lifecycle.go).
//
// Sandbox-only control routes (no credentials, loopback only; control.go):
//
//	POST /_sandbox/ssp/register        a sensor or baremetal host registers with a token
//	POST /_sandbox/ssp/local-uninstall a host's agent was removed on the host
//	GET|POST /_sandbox/ssp/faults      the lifecycle fault setting
package ssp

import (
	"bufio"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// The spec's RBAC roles (its security scheme names) that sandbox users hold.
const (
	roleEnterpriseAdmin  = "enterprise_admin"
	roleAuditor          = "auditor"
	roleSecurityEngineer = "security_engineer"
	roleSecurityOp       = "security_op"
	roleSupportBundle    = "support_bundle_collector"
	roleSensor           = "sensor"
)

// Error modules: the sensor examples say "sensor"; baremetal operations use
// their spec tag, since the vendor shows no example.
const (
	moduleSensor    = "sensor"
	moduleBaremetal = "baremetal-security"
)

// Emulator is the SSP API. Create it with New.
type Emulator struct {
	env   *sim.Env
	state *state
	seed  *seeder
	// overlayIdx and deletedIdx index state.SeededOverlay by seeded index
	// (rebuilt by reindex after every overlay change).
	overlayIdx map[int]*overlay
	deletedIdx []int
	// faults make lifecycle operations fail (lifecycle.go); the control
	// route /_sandbox/ssp/faults replaces them (lock held).
	faults lcmFaults
	// bundles caches the generated installer downloads (installer.go).
	bundles bundleCache
}

// New returns the SSP emulator of env. Seeded sensors come from
// env.Options().Seed and SeedSensors.
func New(env *sim.Env) *Emulator {
	opts := env.Options()
	e := &Emulator{
		env:   env,
		state: newState(),
		seed:  newSeeder(opts.Seed, opts.SeedSensors),
	}
	// sandbox.New checks the setting first (CheckLCMFaults); a bad one
	// here (a test's) fails nothing.
	e.faults, _ = compileLCMFaults(opts.LCMFaults)
	e.reindex()
	return e
}

// Name is the state key.
func (e *Emulator) Name() string { return "ssp" }

// route describes one vendor operation: its spec operationId, the roles its
// security list admits, and its error module.
type route struct {
	pattern     string
	operationID string
	roles       []string
	module      string
	handle      func(w http.ResponseWriter, r *http.Request, caller sim.User)
}

// routes is the operation table; the contract test checks it against the spec.
func (e *Emulator) routes() []route {
	admin := []string{roleEnterpriseAdmin}
	admEng := []string{roleEnterpriseAdmin, roleSecurityEngineer}
	readers := []string{roleEnterpriseAdmin, roleAuditor, roleSecurityEngineer, roleSecurityOp}
	readersSensor := append(append([]string{}, readers...), roleSensor)
	detailReaders := []string{roleEnterpriseAdmin, roleAuditor, roleSecurityEngineer, roleSecurityOp, roleSupportBundle, roleSensor}
	admEngSensor := []string{roleEnterpriseAdmin, roleSecurityEngineer, roleSensor}
	s, b := moduleSensor, moduleBaremetal
	return []route{
		{"POST /sensors/registration-tokens", "CreateSensorRegistrationToken", admEng, s, createToken(e, sensorTokens, (*sensorToken).out)},
		{"GET /sensors/registration-tokens", "GetAllRegistrationTokens", admEng, s, listTokens(e, sensorTokens, sensorTokenSort, (*sensorToken).out, sensorTokenStatus)},
		{"GET /sensors/registration-tokens/{id}", "GetRegistrationTokenById", admEng, s, getToken(e, sensorTokens, (*sensorToken).out)},
		{"DELETE /sensors/registration-tokens/{id}", "DeleteSensorRegistrationToken", admEng, s, deleteToken(e, sensorTokens)},
		{"GET /sensors/appliances", "ListSensors", readers, s, e.listSensors},
		{"GET /sensors/appliances/details", "ListSensorDetails", detailReaders, s, e.listSensorDetails},
		{"GET /sensors/appliances/{id}", "GetSensorById", readersSensor, s, e.getSensor},
		{"PUT /sensors/appliances/{id}", "UpdateSensor", admEng, s, e.updateSensor},
		{"DELETE /sensors/appliances/{id}", "DeleteSensor", admEngSensor, s, e.deleteSensor},
		{"GET /sensors/appliances/{id}/status", "GetSensorStatus", readersSensor, s, e.getSensorStatus},
		{"GET /sensors/appliances/{id}/ids-signature-bundle", "GetSensorApplianceIdsSignatureBundle", readersSensor, s, e.getSensorBundle},
		{"GET /sensors/appliances/{id}/feature-config", "GetSensorFeatureConfig", readersSensor, s, e.getSensorFeatures},
		{"POST /sensors/feature-config/ids-events", "UpdateSensorIdsFeatureConfig", admEng, s, e.featureIDS},
		{"POST /sensors/feature-config/flow-events", "UpdateSensorFlowFeatureConfig", admEng, s, e.featureFlows},
		{"POST /sensors/feature-config/malware-prevention-events", "UpdateSensorMpsFeatureConfig", admEng, s, e.featureMPS},
		{"GET /sensors/mps-global-config", "GetSensorGlobalConfigMps", readersSensor, s, e.getMPSGlobal},
		{"PUT /sensors/mps-global-config", "UpdateSensorGlobalConfigMps", admEng, s, e.putMPSGlobal},
		{"GET /sensors/version-summary", "GetSensorVersionSummary", readers, s, e.versionSummary},
		{"POST /baremetal/registration-tokens", "CreateRegistrationToken", admEng, b, createToken(e, baremetalTokens, (*baremetalToken).out)},
		{"GET /baremetal/registration-tokens", "GetRegistrationTokens", readers, b, listTokens(e, baremetalTokens, baremetalTokenSort, (*baremetalToken).out, nil)},
		{"GET /baremetal/registration-tokens/statuses", "GetRegistrationTokenStatuses", admEng, b, listTokens(e, baremetalTokens, baremetalStatusSort, (*baremetalToken).statusOut, baremetalTokensStatus)},
		{"GET /baremetal/registration-tokens/{id}", "GetRegistrationToken", admEng, b, getToken(e, baremetalTokens, (*baremetalToken).out)},
		{"DELETE /baremetal/registration-tokens/{id}", "DeleteRegistrationToken", admEng, b, deleteToken(e, baremetalTokens)},
		{"GET /baremetal/registration-tokens/{id}/status", "GetRegistrationTokenStatus", readers, b, getToken(e, baremetalTokens, (*baremetalToken).statusOut)},
		{"GET /baremetal/servers", "GetBaremetalServerList", readers, b, e.listServers},
		{"POST /baremetal/servers", "PerformBaremetalServersAction", admin, b, e.serversAction},
		{"GET /baremetal/servers/{id}", "GetBaremetalServer", readers, b, e.getServer},
		{"DELETE /baremetal/servers/{id}", "UninstallBaremetalServer", admEng, b, e.uninstallServer},
		{"GET /baremetal/servers/{id}/status", "GetBaremetalServerStatus", readers, b, e.getServerStatus},
		{"POST /baremetal/servers-status-detail", "QueryBaremetalServerDetails", readers, b, e.queryServerDetails},
		{"GET /baremetal/servers-summary", "GetBaremetalServerSummary", readers, b, e.serverSummary},
		{"GET /baremetal/tasks/{id}", "GetBaremetalTaskStatus", admEng, b, e.getTask},
		{"GET /baremetal/download-linux-installer", "GetBaremetalServerInstallerBundle", admEng, b, e.downloadLinuxInstaller},
		{"GET /baremetal/download-windows-agent-bundle", "GetBaremetalServerWindowsAgentBundle", admEng, b, e.downloadWindowsBundle},
	}
}

// Register adds the vendor routes and the sandbox control route.
func (e *Emulator) Register(mux *http.ServeMux) {
	for _, rt := range e.routes() {
		mux.HandleFunc(rt.pattern, e.guard(rt))
	}
	mux.HandleFunc("POST /_sandbox/ssp/register", e.register)
	mux.HandleFunc("POST /_sandbox/ssp/local-uninstall", e.localUninstall)
	mux.HandleFunc("GET /_sandbox/ssp/faults", e.getFaults)
	mux.HandleFunc("POST /_sandbox/ssp/faults", e.setFaults)
}

// EngineerUser is the SSP-only sandbox user with the security_engineer
// role; its password is the sandbox password.
const EngineerUser = "engineer"

// authenticate checks the request's Basic credentials: the Env's users, and
// the SSP-only engineer.
func (e *Emulator) authenticate(r *http.Request) (sim.User, bool) {
	if u, ok := e.env.BasicAuth(r); ok {
		return u, true
	}
	name, password, ok := r.BasicAuth()
	if ok && name == EngineerUser && subtle.ConstantTimeCompare([]byte(password), []byte(e.env.Options().Password)) == 1 {
		return sim.User{Name: EngineerUser, Password: password}, true
	}
	return sim.User{}, false
}

// rolesOf maps a sandbox user to the spec's roles.
func rolesOf(u sim.User) []string {
	switch {
	case u.Name == EngineerUser:
		return []string{roleSecurityEngineer}
	case u.Name == sim.AuditorUser || u.ReadOnly:
		return []string{roleAuditor}
	default:
		return []string{roleEnterpriseAdmin}
	}
}

// guard authenticates (401) and authorises (403) before the handler runs.
func (e *Emulator) guard(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, ok := e.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="SSP"`)
			writeError(w, http.StatusUnauthorized, rt.module, "authentication required: send valid HTTP Basic credentials")
			return
		}
		if !allowed(rolesOf(user), rt.roles) {
			writeError(w, http.StatusForbidden, rt.module, fmt.Sprintf("user %q (role %s) may not call %s; it needs one of the roles %s",
				user.Name, strings.Join(rolesOf(user), ", "), rt.operationID, strings.Join(rt.roles, ", ")))
			return
		}
		rt.handle(w, r, user)
	}
}

func allowed(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// apiError is the vendor's Error body.
type apiError struct {
	ErrorCode    int    `json:"error_code"`
	ModuleName   string `json:"module_name,omitempty"`
	ErrorMessage string `json:"error_message"`
}

func writeError(w http.ResponseWriter, status int, module, msg string) {
	sim.WriteJSON(w, status, apiError{ErrorCode: status, ModuleName: module, ErrorMessage: msg})
}

// writeNoBody answers a delete: the spec declares no body.
func writeNoBody(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// streamWriter encodes a list response item by item, so a large page never
// sits in memory as one buffer.
type streamWriter struct {
	bw    *bufio.Writer
	enc   *json.Encoder
	first bool
}

func newStreamWriter(w http.ResponseWriter) *streamWriter {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	return &streamWriter{bw: bw, enc: json.NewEncoder(bw), first: true}
}

// begin writes the envelope fields (a JSON object without its closing brace)
// and opens "results".
func (s *streamWriter) begin(env listEnvelope) {
	head, _ := json.Marshal(env)
	// head is {...}; drop the closing brace to append results.
	s.bw.Write(head[:len(head)-1])
	if len(head) > 2 {
		s.bw.WriteByte(',')
	}
	s.bw.WriteString(`"results":[`)
}

func (s *streamWriter) item(v any) {
	if !s.first {
		s.bw.WriteByte(',')
	}
	s.first = false
	_ = s.enc.Encode(v)
}

func (s *streamWriter) end() {
	s.bw.WriteString("]}\n")
	_ = s.bw.Flush()
}
