package ssp

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// Tasks: an uninstall (DELETE /baremetal/servers/{id}) or a batch action
// (POST /baremetal/servers?action=...) answers 202 with the task that
// carries it out; GET /baremetal/tasks/{id} shows it.
//
// Choices where the vendor is silent, each INFERRED:
//   - The id of a 202 answer is its task's id; status_url is the task's path
//     relative to the API root, /baremetal/tasks/{id}.
//   - A batch action is one task for all its servers, so its results list
//     holds one entry.
//   - A per-server entry's id is the server's id and its display_name the
//     server's; activity_status_msg carries the failure.
//   - A server that cannot do the operation (an upgrade of a server without
//     an agent, or busy with another operation) fails in the task, not in
//     the HTTP answer; only ids that name no server are refused (404).
//   - Uninstalling a server that is TERMINATING or TERMINATED starts
//     nothing: a single DELETE answers with the task already under way, and
//     a task's entry for it follows that uninstall (so a repeated delete
//     succeeds, as deletes are idempotent). force=true escalates a running
//     uninstall, and host faults never fail a forced one.

// bmTask is one task as stored.
type bmTask struct {
	ID      string       `json:"id"`
	Type    string       `json:"type"`
	Name    string       `json:"display_name"`
	Start   int64        `json:"start"`
	User    string       `json:"user"`
	Outcome string       `json:"outcome,omitempty"` // forced: TIMEDOUT or ABORTED
	Servers []taskServer `json:"servers"`
}

// taskServer is one server's part of a task: it follows the server's
// operation (same start and result), or was refused at once.
type taskServer struct {
	ServerID string `json:"server_id"`
	Name     string `json:"display_name"`
	Start    int64  `json:"start"`
	Result   string `json:"result"`
	Error    string `json:"error,omitempty"`
	// Refused entries are FAILED from the start: the operation never began.
	Refused bool `json:"refused,omitempty"`
}

// taskOut is BaremetalTaskInfo.
type taskOut struct {
	CreateTime        int64           `json:"_create_time"`
	LastModifiedTime  int64           `json:"_last_modified_time"`
	CompletedAt       int64           `json:"_completed_at,omitempty"`
	ID                string          `json:"id"`
	DisplayName       string          `json:"display_name"`
	ActivityStatusMsg string          `json:"activity_status_msg"`
	TaskType          string          `json:"task_type"`
	TaskStatus        string          `json:"task_status"`
	Servers           []serverTaskOut `json:"baremetalserver_task_info"`
}

// serverTaskOut is BaremetalServerTaskInfo.
type serverTaskOut struct {
	CreateTime        int64  `json:"_create_time"`
	LastModifiedTime  int64  `json:"_last_modified_time"`
	CompletedAt       int64  `json:"_completed_at,omitempty"`
	ID                string `json:"id"`
	DisplayName       string `json:"display_name"`
	ActivityStatusMsg string `json:"activity_status_msg,omitempty"`
	ServerTaskStatus  string `json:"server_task_status"`
}

// asyncOut is AsyncApiResponse.
type asyncOut struct {
	ID        string `json:"id"`
	StatusURL string `json:"status_url"`
}

func (t *bmTask) async() asyncOut {
	return asyncOut{ID: t.ID, StatusURL: "/baremetal/tasks/" + t.ID}
}

func (t *bmTask) out(nowMs, stepMs int64) taskOut {
	o := taskOut{
		CreateTime:       t.Start,
		LastModifiedTime: phaseTime(t.Start, nowMs, stepMs),
		ID:               t.ID,
		DisplayName:      t.Name,
		TaskType:         t.Type,
		Servers:          make([]serverTaskOut, 0, len(t.Servers)),
	}
	var succeeded, failed, pending int
	for _, ts := range t.Servers {
		so := serverTaskOut{CreateTime: t.Start, ID: ts.ServerID, DisplayName: ts.Name}
		if ts.Refused {
			so.ServerTaskStatus, so.LastModifiedTime, so.CompletedAt = lcmFailed, t.Start, t.Start
		} else {
			so.ServerTaskStatus = lcmStatus(ts.Start, nowMs, stepMs, ts.Result)
			so.LastModifiedTime = max(t.Start, phaseTime(ts.Start, nowMs, stepMs))
			if phase(ts.Start, nowMs, stepMs) == 2 {
				so.CompletedAt = so.LastModifiedTime
			}
		}
		switch so.ServerTaskStatus {
		case lcmSuccess:
			succeeded++
		case lcmFailed, lcmAborted:
			failed++
			so.ActivityStatusMsg = ts.Error
		default:
			pending++
		}
		o.Servers = append(o.Servers, so)
	}
	switch phase(t.Start, nowMs, stepMs) {
	case 0:
		o.TaskStatus = "ACCEPTED"
	case 1:
		o.TaskStatus = "RUNNING"
	default:
		o.TaskStatus = "COMPLETED"
		if t.Outcome != "" {
			o.TaskStatus = t.Outcome
		}
		o.CompletedAt = o.LastModifiedTime
	}
	o.ActivityStatusMsg = fmt.Sprintf("%s: %d of %d servers succeeded, %d failed, %d in progress", o.TaskStatus, succeeded, len(t.Servers), failed, pending)
	return o
}

// newTask starts a task of the given type on servers (lock held): each
// server's operation starts now, unless refused; force uninstalls ignore
// host faults; a forced task outcome overrides every server's result.
func (e *Emulator) newTask(taskType string, servers []*bmServer, caller sim.User) *bmTask {
	now, step := e.env.NowMs(), e.lcmStepMs()
	t := &bmTask{ID: sim.NewUUID(), Type: taskType, Start: now, User: caller.Name}
	switch {
	case len(servers) == 1:
		t.Name = taskType + " " + servers[0].DisplayName
	default:
		t.Name = fmt.Sprintf("%s of %d servers", taskType, len(servers))
	}
	switch e.faults.TaskOutcome {
	case outcomeTimedOut, outcomeAborted:
		t.Outcome = e.faults.TaskOutcome
	}
	for _, s := range servers {
		t.Servers = append(t.Servers, e.taskServer(t, s, now, step))
	}
	e.state.BaremetalTasks = append(e.state.BaremetalTasks, t)
	return t
}

// taskServer starts s's part of task t, or explains why it cannot.
func (e *Emulator) taskServer(t *bmTask, s *bmServer, now, step int64) taskServer {
	v := s.view(now, step)
	ts := taskServer{ServerID: s.ID, Name: s.DisplayName, Start: now}
	refuse := func(format string, args ...any) taskServer {
		ts.Refused, ts.Result, ts.Error = true, lcmFailed, fmt.Sprintf(format, args...)
		return ts
	}
	uninstalling := (s.Op.Operation == opUninstall || s.Op.Operation == opUninstallForce) &&
		(v.state == stateTerminating || v.state == stateTerminated)
	switch t.Type {
	case opUpgrade:
		switch {
		case v.state == stateTerminating || v.state == stateTerminated:
			return refuse("cannot upgrade %s: the server is %s", s.DisplayName, v.state)
		case !v.done:
			return refuse("cannot upgrade %s: its %s is still %s", s.DisplayName, s.Op.Operation, v.lcmStatus)
		case v.agent == "":
			return refuse("cannot upgrade %s: no agent is installed", s.DisplayName)
		}
	case opUninstall:
		if uninstalling {
			// Follow the uninstall under way or done.
			ts.Start, ts.Result, ts.Error = s.Op.Start, s.Op.Result, s.Op.Error
			return ts
		}
		if !v.done {
			return refuse("cannot uninstall %s: its %s is still %s (force=true uninstalls anyway)", s.DisplayName, s.Op.Operation, v.lcmStatus)
		}
	case opUninstallForce:
		if uninstalling && (v.state == stateTerminated || s.Op.Operation == opUninstallForce) {
			ts.Start, ts.Result, ts.Error = s.Op.Start, s.Op.Result, s.Op.Error
			return ts
		}
	}
	fault := ""
	switch {
	case e.faults.TaskOutcome == outcomeFailed:
		fault = fmt.Sprintf("%s failed on %s (sandbox fault: task_outcome FAILED)", strings.ToLower(t.Type), s.DisplayName)
	case t.Type != opUninstallForce:
		fault = e.opFault(s, t.Type, int(s.Revision))
	}
	version := ""
	if t.Type == opUpgrade {
		version = latestAgentVersion()
	}
	s.startOp(t.Type, now, step, t.User, version, t.ID, fault)
	switch t.Outcome {
	case outcomeTimedOut:
		s.Op.Result, s.Op.Error = lcmFailed, fmt.Sprintf("%s of %s timed out (sandbox fault: task_outcome TIMEDOUT)", strings.ToLower(t.Type), s.DisplayName)
	case outcomeAborted:
		s.Op.Result, s.Op.Error = lcmAborted, fmt.Sprintf("%s of %s was aborted (sandbox fault: task_outcome ABORTED)", strings.ToLower(t.Type), s.DisplayName)
	}
	ts.Result, ts.Error = s.Op.Result, s.Op.Error
	return ts
}

// uninstallServer is UninstallBaremetalServer: 202 with the task.
func (e *Emulator) uninstallServer(w http.ResponseWriter, r *http.Request, user sim.User) {
	force := false
	if v := r.URL.Query().Get("force"); v != "" {
		b, err := parseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, moduleBaremetal, fmt.Sprintf("force %q must be true or false", v))
			return
		}
		force = b
	}
	e.withServer(w, r, func(s *bmServer, v bmView) {
		// An uninstall under way or done answers with its task, unless
		// force escalates a running unforced one.
		escalate := force && v.state == stateTerminating && s.Op.Operation == opUninstall
		if (v.state == stateTerminating || v.state == stateTerminated) && !escalate {
			if t := e.findTask(s.Op.TaskID); t != nil {
				sim.WriteJSON(w, http.StatusAccepted, t.async())
				return
			}
		}
		op := opUninstall
		if force {
			op = opUninstallForce
		}
		t := e.newTask(op, []*bmServer{s}, user)
		e.env.Changed()
		sim.WriteJSON(w, http.StatusAccepted, t.async())
	})
}

// serverIDPattern is BaremetalServerIdList's item pattern, compiled on
// first use.
var serverIDPattern = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
})

// batchRequest is BaremetalServerIdList.
type batchRequest struct {
	IDs []string `json:"ids"`
}

// serversAction is PerformBaremetalServersAction: BATCH_UPGRADE upgrades
// the servers to the latest agent, BATCH_DELETE uninstalls them; 202 with
// {results: [the task]}. Every problem of the request is reported at once;
// ids that name no server are 404 and nothing starts. Repeated ids count
// once. INFERRED: at least one id is required.
func (e *Emulator) serversAction(w http.ResponseWriter, r *http.Request, user sim.User) {
	var problems []string
	action := r.URL.Query().Get("action")
	taskType := map[string]string{"BATCH_UPGRADE": opUpgrade, "BATCH_DELETE": opUninstall}[action]
	if taskType == "" {
		problems = append(problems, fmt.Sprintf("action %q must be BATCH_UPGRADE or BATCH_DELETE", action))
	}
	body, err := sim.ReadBody(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, moduleBaremetal, "reading the request body: "+err.Error())
		return
	}
	var req batchRequest
	if err := decodeObject(body, &req, nil); err != nil {
		problems = append(problems, err.Error())
	} else {
		if len(req.IDs) == 0 {
			problems = append(problems, "ids must hold at least one baremetal server id")
		}
		for _, id := range req.IDs {
			if !serverIDPattern().MatchString(id) {
				problems = append(problems, fmt.Sprintf("ids item %q is not a UUID", id))
			}
		}
	}
	if len(problems) > 0 {
		writeError(w, http.StatusBadRequest, moduleBaremetal, "invalid baremetal servers action: "+strings.Join(problems, "; "))
		return
	}
	e.env.Lock()
	defer e.env.Unlock()
	var servers []*bmServer
	var unknown []string
	seen := map[string]bool{}
	for _, id := range req.IDs {
		key := strings.ToLower(id)
		if seen[key] {
			continue
		}
		seen[key] = true
		if s := e.findServer(id); s != nil {
			servers = append(servers, s)
		} else {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		writeError(w, http.StatusNotFound, moduleBaremetal, "no baremetal server has the id(s) "+strings.Join(unknown, ", ")+"; nothing was started")
		return
	}
	t := e.newTask(taskType, servers, user)
	e.env.Changed()
	sim.WriteJSON(w, http.StatusAccepted, struct {
		Results []asyncOut `json:"results"`
	}{[]asyncOut{t.async()}})
}

func (e *Emulator) findTask(id string) *bmTask {
	return byID(e.state.BaremetalTasks, id, func(t *bmTask) string { return t.ID })
}

// getTask is GetBaremetalTaskStatus.
func (e *Emulator) getTask(w http.ResponseWriter, r *http.Request, _ sim.User) {
	e.env.Lock()
	defer e.env.Unlock()
	t := e.findTask(r.PathValue("id"))
	if t == nil {
		writeError(w, http.StatusNotFound, moduleBaremetal, "baremetal task not found")
		return
	}
	sim.WriteJSON(w, http.StatusOK, t.out(e.env.NowMs(), e.lcmStepMs()))
}
