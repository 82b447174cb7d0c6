package ssp

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// Baremetal servers (specs/ssp-baremetal-servers.yaml). A server joins when a
// host registers with a baremetal token (POST /_sandbox/ssp/register, which
// `tokenctl sandbox vdefend-cli install bms ssp` calls); its lifecycle
// operations progress on the sandbox clock (lifecycle.go).
//
// Choices where the vendor is silent, each INFERRED:
//   - display_name is the host's name as the installer reports it;
//     registration_token_id is the token it registered with.
//   - A server stays listed after its uninstall, in state TERMINATED.
//   - No operation declares a 404; an unknown server or task id is 404 with
//     the vendor's Error body, as the other SSP reads answer.
//   - BaremetalServerStatus.config (network interfaces) is left out: its
//     oneOf of three interface types can never validate (the spec's README).

// Server states (BaremetalServerState).
const (
	stateReady       = "READY"
	stateNotReady    = "NOT_READY"
	stateTerminating = "TERMINATING"
	stateTerminated  = "TERMINATED"
)

// Lifecycle operations (BaremetalTaskType).
const (
	opInstall        = "INSTALL"
	opUpgrade        = "UPGRADE"
	opUninstall      = "UNINSTALL"
	opUninstallForce = "UNINSTALL_FORCE"
)

// controllerID is the sandbox's one baremetal controller.
const controllerID = "4f1c2a9e-6b3d-4e58-9a0c-7d2e5b8f1a36"

// bmServer is one baremetal server as stored.
type bmServer struct {
	ID                  string   `json:"id"`
	DisplayName         string   `json:"display_name"`
	Description         string   `json:"description,omitempty"`
	SiteIDs             []string `json:"site_ids,omitempty"`
	RegistrationTokenID string   `json:"registration_token_id"`
	OSName              string   `json:"os_name"`
	OSVersion           string   `json:"os_version"`
	CPUCores            int      `json:"cpu_core_count"`
	CreateTime          int64    `json:"create_time"`
	CreateUser          string   `json:"create_user"`
	Revision            int64    `json:"revision"`
	// Agent is the agent version installed when Op started ("" none).
	Agent string `json:"agent,omitempty"`
	// Op is the latest lifecycle operation; its effects show once it is done.
	Op bmOp `json:"op"`
	// Installs counts install attempts: registering again after a failed
	// install retries it.
	Installs int `json:"installs"`
	// LocalUninstall is set when `vdefend-cli uninstall bms` removed the
	// agent on the host (is_agent_local_uninstall).
	LocalUninstall bool `json:"local_uninstall,omitempty"`
}

// bmOp is one lifecycle operation. Its outcome is fixed when it starts.
type bmOp struct {
	Operation string `json:"operation"`
	Start     int64  `json:"start"`
	User      string `json:"user"`
	// Result is SUCCESS, FAILED or ABORTED: the status once done.
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
	// Version is the agent version an install or upgrade brings.
	Version string `json:"version,omitempty"`
	TaskID  string `json:"task_id,omitempty"`
}

// bmView is what a server shows at one instant.
type bmView struct {
	state, lcmStatus, lcmError, agent string
	connectivity, health              string
	agentsStatus, agentsMessage       string
	lastOperation                     string
	modified                          int64
	done                              bool
}

// view derives the server's status now from its operation and the clock.
func (s *bmServer) view(nowMs, stepMs int64) bmView {
	op := s.Op
	done := phase(op.Start, nowMs, stepMs) == 2
	ok := op.Result == lcmSuccess
	v := bmView{
		state:         stateReady,
		lcmStatus:     lcmStatus(op.Start, nowMs, stepMs, op.Result),
		agent:         s.Agent,
		lastOperation: "NONE",
		modified:      phaseTime(op.Start, nowMs, stepMs),
		done:          done,
	}
	if done && !ok {
		v.lcmError = op.Error
	}
	switch op.Operation {
	case opInstall:
		switch {
		case done && ok:
			v.agent = op.Version
		case done:
			v.state = stateNotReady
		}
	case opUpgrade:
		switch {
		case !done:
			v.lastOperation = "UPGRADE_RUNNING"
		case ok:
			v.agent, v.lastOperation = op.Version, "UPGRADE_SUCCESS"
		default:
			v.lastOperation = "UPGRADE_FAILED"
		}
	case opUninstall, opUninstallForce:
		switch {
		case !done:
			v.state, v.lastOperation = stateTerminating, "OFFBOARD_RUNNING"
		case ok:
			v.state, v.agent, v.lastOperation = stateTerminated, "", "OFFBOARD_SUCCESS"
		default:
			v.lastOperation = "OFFBOARD_FAILED"
		}
	}
	if v.agent == "" && v.state == stateReady && done {
		v.state = stateNotReady
	}
	switch {
	case v.agent != "" && !s.LocalUninstall && v.state != stateTerminated:
		v.connectivity, v.health, v.agentsStatus = "UP", "OK", "UP"
		if op.Operation == opUpgrade && !done {
			v.health, v.agentsStatus = "DEGRADED", "DEGRADED"
			v.agentsMessage = "agent upgrade to " + op.Version + " in progress"
		}
	default:
		v.connectivity, v.health, v.agentsStatus = "DOWN", "DISCONNECTED", "DOWN"
		switch {
		case s.LocalUninstall:
			v.agentsMessage = "the agent was uninstalled on the host"
		case v.state == stateTerminated:
			v.agentsMessage = "the server was uninstalled"
		case op.Operation == opInstall && !done:
			v.agentsMessage = "agent installation in progress"
		default:
			v.agentsMessage = "no agent is running"
		}
	}
	return v
}

// startOp begins a lifecycle operation on s (lock held): the previous
// operation's effects are settled first. fault, when not "", makes it fail.
func (s *bmServer) startOp(operation string, nowMs, stepMs int64, user, version, taskID, fault string) {
	s.Agent = s.view(nowMs, stepMs).agent
	s.Op = bmOp{Operation: operation, Start: nowMs, User: user, Result: lcmSuccess, Version: version, TaskID: taskID}
	if fault != "" {
		s.Op.Result, s.Op.Error = lcmFailed, fault
	}
	s.Revision++
}

// opFault is the lcm_error of an operation a fault makes fail, or "".
func (e *Emulator) opFault(s *bmServer, operation string, attempt int) string {
	reason := e.faults.hostFault(e.env.Options().Seed, s.DisplayName, fmt.Sprintf("%s#%d", operation, attempt))
	if reason == "" {
		return ""
	}
	what := map[string]string{opInstall: "agent installation", opUpgrade: "agent upgrade", opUninstall: "agent uninstall"}[operation]
	return fmt.Sprintf("%s failed on %s (sandbox fault: %s)", what, s.DisplayName, reason)
}

// latestAgentVersion is the newest agent build: what installs bring, what
// upgrades go to and what the installer download serves by default.
// INFERRED: the baremetal agent follows the sensor builds' version train.
func latestAgentVersion() string { return softwareBuilds[len(softwareBuilds)-1].version }

// agentVersions are the bundle versions the sandbox knows, oldest first.
func agentVersions() []string {
	v := make([]string, len(softwareBuilds))
	for i, b := range softwareBuilds {
		v[i] = b.version
	}
	return v
}

// ---- output shapes ----

// resourceOut is the vendor's Resource, the start of both server views.
type resourceOut struct {
	CreateUser       string   `json:"_create_user"`
	CreateTime       int64    `json:"_create_time"`
	LastModifiedUser string   `json:"_last_modified_user"`
	LastModifiedTime int64    `json:"_last_modified_time"`
	Revision         int64    `json:"_revision"`
	ResourceType     string   `json:"_resource_type"`
	ID               string   `json:"id"`
	DisplayName      string   `json:"display_name"`
	Description      string   `json:"description,omitempty"`
	SiteIDs          []string `json:"site_ids,omitempty"`
}

// serverOut is BaremetalServer.
type serverOut struct {
	resourceOut
	OSName              string `json:"os_name"`
	OSVersion           string `json:"os_version"`
	RegistrationTokenID string `json:"registration_token_id"`
	CPUCoreCount        int    `json:"cpu_core_count"`
	AgentVersion        string `json:"agent_version,omitempty"`
	State               string `json:"state"`
}

// serverStatusOut is BaremetalServerStatus (config left out, see above).
type serverStatusOut struct {
	resourceOut
	LCMStatus             string         `json:"lcm_status"`
	LCMError              string         `json:"lcm_error,omitempty"`
	LCMOperation          string         `json:"lcm_operation"`
	OSDetails             string         `json:"os_details"`
	AgentVersion          string         `json:"agent_version,omitempty"`
	State                 string         `json:"state"`
	ConnectivityStatus    string         `json:"connectivity_status"`
	IsAgentLocalUninstall bool           `json:"is_agent_local_uninstall"`
	Controller            *controllerOut `json:"controller,omitempty"`
	AgentHealth           agentHealthOut `json:"agent_health"`
	LastOperationInfo     string         `json:"last_operation_info"`
}

type controllerOut struct {
	ControllerIP string `json:"controller_ip"`
	ControllerID string `json:"controller_id"`
}

// agentHealthOut is BaremetalServerAgentHealth.
type agentHealthOut struct {
	Connectivity struct {
		Controller   string `json:"controller_connectivity_status"`
		Orchestrator string `json:"orchestrator_connectivity_status"`
		Metrics      string `json:"metrics_service_connectivity_status"`
	} `json:"connectivity"`
	AgentsStatus struct {
		OperationalStatus  string `json:"operational_status"`
		OperationalMessage string `json:"operational_message,omitempty"`
	} `json:"agents_status"`
	OverallAgentHealth string `json:"overall_agent_health"`
}

func (s *bmServer) resource(resourceType string, v bmView) resourceOut {
	return resourceOut{
		CreateUser:       s.CreateUser,
		CreateTime:       s.CreateTime,
		LastModifiedUser: s.Op.User,
		LastModifiedTime: v.modified,
		Revision:         s.Revision,
		ResourceType:     resourceType,
		ID:               s.ID,
		DisplayName:      s.DisplayName,
		Description:      s.Description,
		SiteIDs:          s.SiteIDs,
	}
}

func (s *bmServer) out(v bmView) serverOut {
	return serverOut{
		resourceOut:         s.resource("BaremetalServer", v),
		OSName:              s.OSName,
		OSVersion:           s.OSVersion,
		RegistrationTokenID: s.RegistrationTokenID,
		CPUCoreCount:        s.CPUCores,
		AgentVersion:        v.agent,
		State:               v.state,
	}
}

func (s *bmServer) statusOut(v bmView) serverStatusOut {
	o := serverStatusOut{
		resourceOut:           s.resource("BaremetalServerStatus", v),
		LCMStatus:             v.lcmStatus,
		LCMError:              v.lcmError,
		LCMOperation:          s.Op.Operation,
		OSDetails:             strings.TrimSpace(s.OSName + " " + s.OSVersion),
		AgentVersion:          v.agent,
		State:                 v.state,
		ConnectivityStatus:    v.connectivity,
		IsAgentLocalUninstall: s.LocalUninstall,
		LastOperationInfo:     v.lastOperation,
	}
	if v.agent != "" {
		o.Controller = &controllerOut{ControllerIP: "127.0.0.1", ControllerID: controllerID}
	}
	h := &o.AgentHealth
	h.Connectivity.Controller, h.Connectivity.Orchestrator, h.Connectivity.Metrics = v.connectivity, v.connectivity, v.connectivity
	h.AgentsStatus.OperationalStatus, h.AgentsStatus.OperationalMessage = v.agentsStatus, v.agentsMessage
	h.OverallAgentHealth = v.health
	return o
}

// ---- lookups ----

// byID finds the item whose id is id (lock held); UUIDs compare
// case-insensitively (RFC 4122).
func byID[T any](items []*T, id string, idOf func(*T) string) *T {
	for _, it := range items {
		if strings.EqualFold(idOf(it), id) {
			return it
		}
	}
	return nil
}

func (e *Emulator) findServer(id string) *bmServer {
	return byID(e.state.BaremetalServers, id, func(s *bmServer) string { return s.ID })
}

// withServer runs f with the path's server and its view (lock held), or
// answers 404.
func (e *Emulator) withServer(w http.ResponseWriter, r *http.Request, f func(s *bmServer, v bmView)) {
	e.env.Lock()
	defer e.env.Unlock()
	s := e.findServer(r.PathValue("id"))
	if s == nil {
		writeError(w, http.StatusNotFound, moduleBaremetal, "baremetal server not found")
		return
	}
	f(s, s.view(e.env.NowMs(), e.lcmStepMs()))
}

func (e *Emulator) getServer(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.withServer(w, r, func(s *bmServer, v bmView) { sim.WriteJSON(w, http.StatusOK, s.out(v)) })
}

func (e *Emulator) getServerStatus(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.withServer(w, r, func(s *bmServer, v bmView) { sim.WriteJSON(w, http.StatusOK, s.statusOut(v)) })
}

// ---- lists ----

// The vendor does not say which fields these lists sort by; as for the
// token lists, the SortBy parameter's "top-level parameters in the returned
// list of records" gives the scalar top-level fields of each record type.
var (
	serverSort = sortFields[serverOut]{
		{"display_name", func(o serverOut) any { return o.DisplayName }},
		{"id", func(o serverOut) any { return o.ID }},
		{"description", func(o serverOut) any { return o.Description }},
		{"os_name", func(o serverOut) any { return o.OSName }},
		{"os_version", func(o serverOut) any { return o.OSVersion }},
		{"registration_token_id", func(o serverOut) any { return o.RegistrationTokenID }},
		{"cpu_core_count", func(o serverOut) any { return int64(o.CPUCoreCount) }},
		{"agent_version", func(o serverOut) any { return o.AgentVersion }},
		{"state", func(o serverOut) any { return o.State }},
		{"_create_time", func(o serverOut) any { return o.CreateTime }},
		{"_last_modified_time", func(o serverOut) any { return o.LastModifiedTime }},
		{"_revision", func(o serverOut) any { return o.Revision }},
	}
	serverStatusSort = sortFields[serverStatusOut]{
		{"display_name", func(o serverStatusOut) any { return o.DisplayName }},
		{"id", func(o serverStatusOut) any { return o.ID }},
		{"lcm_status", func(o serverStatusOut) any { return o.LCMStatus }},
		{"lcm_operation", func(o serverStatusOut) any { return o.LCMOperation }},
		{"os_details", func(o serverStatusOut) any { return o.OSDetails }},
		{"agent_version", func(o serverStatusOut) any { return o.AgentVersion }},
		{"state", func(o serverStatusOut) any { return o.State }},
		{"connectivity_status", func(o serverStatusOut) any { return o.ConnectivityStatus }},
		{"last_operation_info", func(o serverStatusOut) any { return o.LastOperationInfo }},
		{"_create_time", func(o serverStatusOut) any { return o.CreateTime }},
		{"_last_modified_time", func(o serverStatusOut) any { return o.LastModifiedTime }},
	}
)

// serverViews returns every server with its view now, in registration
// order (lock held).
func (e *Emulator) serverViews() ([]*bmServer, []bmView) {
	now, step := e.env.NowMs(), e.lcmStepMs()
	views := make([]bmView, len(e.state.BaremetalServers))
	for i, s := range e.state.BaremetalServers {
		views[i] = s.view(now, step)
	}
	return e.state.BaremetalServers, views
}

// listServers is GetBaremetalServerList: paging, sorting and the
// display_name filter as the other SSP lists.
func (e *Emulator) listServers(w http.ResponseWriter, r *http.Request, _ sim.User) {
	p, err := parseListParams(r.URL.Query(), serverSort.names())
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleBaremetal, err.Error())
		return
	}
	e.env.Lock()
	servers, views := e.serverViews()
	var items []serverOut
	for i, s := range servers {
		if p.nameMatches(s.DisplayName) {
			items = append(items, s.out(views[i]))
		}
	}
	e.env.Unlock()
	serverSort.writeList(w, p, items)
}

// detailsRequest is BaremetalServerDetailsRequest.
type detailsRequest struct {
	SiteIDs           []string `json:"site_ids"`
	Offset            *int64   `json:"offset"`
	PageSize          *int64   `json:"page_size"`
	SortAscending     *bool    `json:"sort_ascending"`
	SortBy            *string  `json:"sort_by"`
	DisplayName       []string `json:"display_name"`
	OSDetails         []string `json:"os_details"`
	AgentVersion      []string `json:"agent_version"`
	AgentHealth       []string `json:"agent_health"`
	LastOperationInfo []string `json:"last_operation_info"`
}

// detailsFields are the request schema's properties. The schema does not
// forbid others, but a misspelt filter would silently match every server,
// so the sandbox refuses unknown fields (INFERRED).
var detailsFields = []string{"site_ids", "offset", "page_size", "sort_ascending", "sort_by",
	"display_name", "os_details", "agent_version", "agent_health", "last_operation_info"}

// The filters' enums (BaremetalServerAgentHealthEnum, BaremetalServerLastOperationEnum).
var (
	agentHealthValues   = []string{"OK", "DISCONNECTED", "DEGRADED"}
	lastOperationValues = []string{"UPGRADE_SUCCESS", "UPGRADE_FAILED", "UPGRADE_RUNNING", "OFFBOARD_SUCCESS", "OFFBOARD_FAILED", "OFFBOARD_RUNNING", "NONE"}
)

// match applies the filters: each given filter must match (AND), any of a
// filter's values may (OR). display_name, agent_version and last
// operation match exactly; os_details ignores case ("ubuntu 22.04"
// matches "Ubuntu 22.04"); site_ids matches a server in any of the sites.
func (q *detailsRequest) match(o *serverStatusOut) bool {
	in := func(values []string, v string, fold bool) bool {
		if len(values) == 0 {
			return true
		}
		for _, x := range values {
			if x == v || (fold && strings.EqualFold(x, v)) {
				return true
			}
		}
		return false
	}
	if len(q.SiteIDs) > 0 && !slices.ContainsFunc(o.SiteIDs, func(s string) bool { return slices.Contains(q.SiteIDs, s) }) {
		return false
	}
	return in(q.DisplayName, o.DisplayName, false) && in(q.OSDetails, o.OSDetails, true) &&
		in(q.AgentVersion, o.AgentVersion, false) && in(q.AgentHealth, o.AgentHealth.OverallAgentHealth, false) &&
		in(q.LastOperationInfo, o.LastOperationInfo, false)
}

// queryServerDetails is QueryBaremetalServerDetails: the filters and paging
// of the body, every problem reported at once.
func (e *Emulator) queryServerDetails(w http.ResponseWriter, r *http.Request, _ sim.User) {
	body, err := sim.ReadBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleBaremetal, "reading the request body: "+err.Error())
		return
	}
	var q detailsRequest
	if err := decodeObject(body, &q, detailsFields); err != nil {
		writeError(w, http.StatusBadRequest, moduleBaremetal, err.Error())
		return
	}
	var problems []string
	sortBy := ""
	if q.SortBy != nil {
		sortBy = *q.SortBy
	}
	p, err := newListParams(q.Offset, q.PageSize, sortBy, q.SortAscending, serverStatusSort.names())
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, f := range []struct {
		name    string
		values  []string
		allowed []string
	}{{"agent_health", q.AgentHealth, agentHealthValues}, {"last_operation_info", q.LastOperationInfo, lastOperationValues}} {
		for _, v := range f.values {
			if !slices.Contains(f.allowed, v) {
				problems = append(problems, fmt.Sprintf("%s %q must be one of %s", f.name, v, strings.Join(f.allowed, ", ")))
			}
		}
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, moduleBaremetal, "invalid baremetal server details query: "+strings.Join(problems, "; "))
		return
	}
	e.env.Lock()
	servers, views := e.serverViews()
	var items []serverStatusOut
	for i, s := range servers {
		o := s.statusOut(views[i])
		if q.match(&o) {
			items = append(items, o)
		}
	}
	e.env.Unlock()
	serverStatusSort.writeList(w, p, items)
}

// ---- summary ----

// summaryOut is BaremetalServersSummary.
type summaryOut struct {
	AgentHealthStatus struct {
		NumOK           int64 `json:"num_ok"`
		NumDisconnected int64 `json:"num_disconnected"`
		NumDegraded     int64 `json:"num_degraded"`
	} `json:"agent_health_status"`
	OperationalStatus struct {
		Success          int64 `json:"success"`
		Failed           int64 `json:"failed"`
		InProgress       int64 `json:"in_progress"`
		NumUpgradeFailed int64 `json:"num_upgrade_failed"`
		NumOffboardFail  int64 `json:"num_offboard_failed"`
	} `json:"operational_status"`
	VersionStats struct {
		LatestVersion          string `json:"latest_version"`
		LatestVersionCount     int64  `json:"latest_version_count"`
		UpgradeNeededCount     int64  `json:"upgrade_needed_count"`
		UpgradeInProgressCount int64  `json:"upgrade_in_progress_count"`
	} `json:"version_stats"`
	TotalServerCount int64 `json:"total_server_count"`
}

// serverSummary is GetBaremetalServerSummary. TERMINATED servers are not
// counted (INFERRED: they are gone from the fleet, only still listed).
// Operational status counts the latest operation: SUCCESS, FAILED or
// ABORTED, and ACCEPTED or RUNNING as in progress.
func (e *Emulator) serverSummary(w http.ResponseWriter, _ *http.Request, _ sim.User) {
	e.env.Lock()
	_, views := e.serverViews()
	e.env.Unlock()
	var out summaryOut
	latest := latestAgentVersion()
	out.VersionStats.LatestVersion = latest
	for _, v := range views {
		if v.state == stateTerminated {
			continue
		}
		out.TotalServerCount++
		switch v.health {
		case "OK":
			out.AgentHealthStatus.NumOK++
		case "DEGRADED":
			out.AgentHealthStatus.NumDegraded++
		default:
			out.AgentHealthStatus.NumDisconnected++
		}
		switch v.lcmStatus {
		case lcmSuccess:
			out.OperationalStatus.Success++
		case lcmFailed, lcmAborted:
			out.OperationalStatus.Failed++
		default:
			out.OperationalStatus.InProgress++
		}
		switch v.lastOperation {
		case "UPGRADE_FAILED":
			out.OperationalStatus.NumUpgradeFailed++
		case "OFFBOARD_FAILED":
			out.OperationalStatus.NumOffboardFail++
		case "UPGRADE_RUNNING":
			out.VersionStats.UpgradeInProgressCount++
		}
		switch {
		case v.agent == latest:
			out.VersionStats.LatestVersionCount++
		case v.agent != "" && v.lastOperation != "UPGRADE_RUNNING":
			out.VersionStats.UpgradeNeededCount++
		}
	}
	sim.WriteJSON(w, http.StatusOK, out)
}
