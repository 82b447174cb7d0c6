package ssp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/exit"
)

// The baremetal-server operations of specs/ssp-baremetal-servers.yaml (SSP
// 5.2): servers, their statuses, the summary, uninstall and batch actions,
// tasks and installer bundles.

// ServerIDPattern is the spec's pattern of a baremetal server id
// (BaremetalServerIdList.ids): a UUID of any version. Task ids
// (AsyncApiResponse.id, "UUID identifier") have the same shape.
var ServerIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsUUID reports whether s has the shape of an SSP id.
func IsUUID(s string) bool { return ServerIDPattern.MatchString(s) }

// BaremetalServerState values (BaremetalServer.state).
const (
	ServerReady       = "READY"
	ServerNotReady    = "NOT_READY"
	ServerTerminating = "TERMINATING"
	ServerTerminated  = "TERMINATED"
)

// BaremetalServerTaskStatus values: a server's lcm_status and its part of a
// task (server_task_status).
const (
	LCMAccepted = "ACCEPTED"
	LCMRunning  = "RUNNING"
	LCMSuccess  = "SUCCESS"
	LCMFailed   = "FAILED"
	LCMFree     = "FREE"
	LCMAborted  = "ABORTED"
)

// BaremetalTaskStatus values (a task's task_status).
const (
	TaskAccepted  = "ACCEPTED"
	TaskRunning   = "RUNNING"
	TaskCompleted = "COMPLETED"
	TaskTimedOut  = "TIMEDOUT"
	TaskFree      = "FREE"
	TaskAborted   = "ABORTED"
)

// Connectivity and overall agent health values.
const (
	ConnectivityUp = "UP"
	HealthOK       = "OK"
)

// Batch actions of PerformBaremetalServersAction.
const (
	ActionBatchUpgrade = "BATCH_UPGRADE"
	ActionBatchDelete  = "BATCH_DELETE"
)

// Documented values of the details query's enum filters
// (BaremetalServerAgentHealthEnum, BaremetalServerLastOperationEnum).
var (
	AgentHealthValues   = []string{"OK", "DISCONNECTED", "DEGRADED"}
	LastOperationValues = []string{"UPGRADE_SUCCESS", "UPGRADE_FAILED", "UPGRADE_RUNNING", "OFFBOARD_SUCCESS", "OFFBOARD_FAILED", "OFFBOARD_RUNNING", "NONE"}
)

// Server is what tokenctl reads of a BaremetalServer (printed objects stay
// the vendor's raw JSON).
type Server struct {
	ID                  string `json:"id"`
	DisplayName         string `json:"display_name"`
	RegistrationTokenID string `json:"registration_token_id"`
	State               string `json:"state"`
	AgentVersion        string `json:"agent_version"`
}

// ServerStatus is what tokenctl reads of a BaremetalServerStatus.
type ServerStatus struct {
	ID                 string `json:"id"`
	DisplayName        string `json:"display_name"`
	LCMStatus          string `json:"lcm_status"`
	LCMError           string `json:"lcm_error"`
	LCMOperation       string `json:"lcm_operation"`
	State              string `json:"state"`
	ConnectivityStatus string `json:"connectivity_status"`
	AgentVersion       string `json:"agent_version"`
	AgentHealth        *struct {
		OverallAgentHealth string `json:"overall_agent_health"`
	} `json:"agent_health"`
}

// OverallHealth is agent_health.overall_agent_health ("" when absent).
func (s *ServerStatus) OverallHealth() string {
	if s.AgentHealth == nil {
		return ""
	}
	return s.AgentHealth.OverallAgentHealth
}

// AsyncResponse is the vendor's AsyncApiResponse: the answer (202) of an
// uninstall or batch action. Its id is the task id (INFERRED: the spec calls
// it "UUID identifier of the response"; status_url points at the task).
type AsyncResponse struct {
	ID        string `json:"id"`
	StatusURL string `json:"status_url"`
}

// TaskID is the id to poll with GetBaremetalTask: id, else the last path
// segment of status_url.
func (a AsyncResponse) TaskID() string {
	if a.ID != "" {
		return a.ID
	}
	if u, err := url.Parse(a.StatusURL); err == nil && u.Path != "" {
		parts := strings.Split(strings.TrimRight(u.Path, "/"), "/")
		return parts[len(parts)-1]
	}
	return ""
}

// Task is what tokenctl reads of a BaremetalTaskInfo.
type Task struct {
	ID                string       `json:"id"`
	TaskType          string       `json:"task_type"`
	TaskStatus        string       `json:"task_status"`
	ActivityStatusMsg string       `json:"activity_status_msg"`
	Servers           []ServerTask `json:"baremetalserver_task_info"`
}

// ServerTask is one server's part of a task (BaremetalServerTaskInfo).
type ServerTask struct {
	ID                string `json:"id"`
	DisplayName       string `json:"display_name"`
	ServerTaskStatus  string `json:"server_task_status"`
	ActivityStatusMsg string `json:"activity_status_msg"`
}

// ListBaremetalServers pages through GET /baremetal/servers
// (GetBaremetalServerList; BaremetalServer items). No filter takes a token
// id: a token's servers are found by registration_token_id on the client.
func (s *Client) ListBaremetalServers(ctx context.Context, q ListQuery, p client.Pager, fn func(json.RawMessage) error) (client.PageResult, error) {
	return s.list(ctx, "list baremetal servers", "/baremetal/servers", q, p, fn)
}

// ServerDetailsRequest is the body of QueryBaremetalServerDetails
// (BaremetalServerDetailsRequest): ListRequestParameters and the filters,
// each an array (values of one filter are alternatives). Offset and
// page_size are set per page by the listing.
type ServerDetailsRequest struct {
	SiteIDs           []string `json:"site_ids,omitempty"`
	DisplayName       []string `json:"display_name,omitempty"`
	OSDetails         []string `json:"os_details,omitempty"`
	AgentVersion      []string `json:"agent_version,omitempty"`
	AgentHealth       []string `json:"agent_health,omitempty"`
	LastOperationInfo []string `json:"last_operation_info,omitempty"`
	SortBy            string   `json:"sort_by,omitempty"`
	SortAscending     *bool    `json:"sort_ascending,omitempty"`
	Offset            int      `json:"offset,omitempty"`
	PageSize          int      `json:"page_size,omitempty"`
}

// Validate checks the enum filters against the spec's values, naming the
// field; empty entries are refused.
func (r *ServerDetailsRequest) Validate() []exit.Problem {
	var ps []exit.Problem
	check := func(field string, values, allowed []string) {
		for _, v := range values {
			switch {
			case strings.TrimSpace(v) == "":
				ps = append(ps, exit.Problem{Field: field, Rule: "an empty value was given"})
			case allowed != nil && !slices.Contains(allowed, v):
				ps = append(ps, exit.Problem{Field: field, Rule: fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))})
			}
		}
	}
	check("site_ids", r.SiteIDs, nil)
	check("display_name", r.DisplayName, nil)
	check("os_details", r.OSDetails, nil)
	check("agent_version", r.AgentVersion, nil)
	check("agent_health", r.AgentHealth, AgentHealthValues)
	check("last_operation_info", r.LastOperationInfo, LastOperationValues)
	return ps
}

// QueryBaremetalServerDetails pages through POST
// /baremetal/servers-status-detail (BaremetalServerStatus items). It is a
// read: a query sent as a POST, retried like a GET and allowed in a dry run.
func (s *Client) QueryBaremetalServerDetails(ctx context.Context, req ServerDetailsRequest, p client.Pager, fn func(json.RawMessage) error) (client.PageResult, error) {
	call := client.Call{
		Operation: "query baremetal server details",
		Method:    http.MethodPost,
		Path:      "/baremetal/servers-status-detail",
		Read:      true,
		PageBody: func(offset, pageSize int) any {
			body := req
			body.Offset, body.PageSize = offset, pageSize
			return body
		},
	}
	return s.c.ListOffset(ctx, call, "results", p, fn)
}

// GetBaremetalServer fetches one BaremetalServer.
func (s *Client) GetBaremetalServer(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get baremetal server "+id, "/baremetal/servers/"+pathID(id))
}

// GetBaremetalServerStatus fetches one BaremetalServerStatus: lcm status,
// operation and error, connectivity, agent health, agent version.
func (s *Client) GetBaremetalServerStatus(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get baremetal server status "+id, "/baremetal/servers/"+pathID(id)+"/status")
}

// GetBaremetalServerSummary fetches BaremetalServersSummary.
func (s *Client) GetBaremetalServerSummary(ctx context.Context) (json.RawMessage, error) {
	return s.get(ctx, "get baremetal servers summary", "/baremetal/servers-summary")
}

// UninstallBaremetalServer sends DELETE /baremetal/servers/{id} (202 with an
// AsyncApiResponse naming the task); force adds force=true. gone reports a
// 404: the server does not exist, so there is nothing to uninstall (no
// operation of the spec declares a 404; a server that sends one means it).
func (s *Client) UninstallBaremetalServer(ctx context.Context, id string, force bool) (raw json.RawMessage, gone bool, err error) {
	op := "uninstall baremetal server " + id
	call := client.Call{Operation: op, Method: http.MethodDelete, Path: "/baremetal/servers/" + pathID(id)}
	if force {
		call.Query = url.Values{"force": {"true"}}
	}
	resp, err := s.c.Do(ctx, call)
	if isStatus(err, http.StatusNotFound) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	body := resp.Body
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		return nil, false, badResponse(op)
	}
	return body, false, nil
}

// BaremetalServersAction sends POST /baremetal/servers?action=ACTION with
// {"ids": [...]} (PerformBaremetalServersAction; enterprise_admin only): 202
// with an AsyncApiResponseList, one entry per task.
func (s *Client) BaremetalServersAction(ctx context.Context, action string, ids []string) (json.RawMessage, []AsyncResponse, error) {
	op := fmt.Sprintf("%s of %d baremetal server(s)", strings.ToLower(strings.ReplaceAll(action, "_", " ")), len(ids))
	body := struct {
		IDs []string `json:"ids"`
	}{ids}
	resp, err := s.c.Do(ctx, client.Call{Operation: op, Method: http.MethodPost, Path: "/baremetal/servers", Query: url.Values{"action": {action}}, Body: body})
	if err != nil {
		return nil, nil, err
	}
	var list struct {
		Results []AsyncResponse `json:"results"`
	}
	if err := json.Unmarshal(resp.Body, &list); err != nil {
		return nil, nil, badResponse(op)
	}
	return resp.Body, list.Results, nil
}

// GetBaremetalTask fetches a BaremetalTaskInfo.
func (s *Client) GetBaremetalTask(ctx context.Context, id string) (json.RawMessage, error) {
	return s.get(ctx, "get baremetal task "+id, "/baremetal/tasks/"+pathID(id))
}

// DownloadBaremetalInstaller streams the Linux installer bundle (or with
// windows the Windows agent MSI) of bundleVersion ("" for the latest) to w;
// progress is told the bytes written and the size (-1 when unknown). It
// returns the number of bytes written.
func (s *Client) DownloadBaremetalInstaller(ctx context.Context, bundleVersion string, windows bool, w io.Writer, progress func(written, total int64)) (int64, error) {
	op, path := "download baremetal linux installer", "/baremetal/download-linux-installer"
	if windows {
		op, path = "download baremetal windows agent bundle", "/baremetal/download-windows-agent-bundle"
	}
	call := client.Call{Operation: op, Method: http.MethodGet, Path: path, Header: http.Header{"Accept": {"text/plain, application/octet-stream, */*"}}}
	if bundleVersion != "" {
		call.Query = url.Values{"bundle_version": {bundleVersion}}
	}
	_, n, err := s.c.Download(ctx, call, w, progress)
	return n, err
}

func isStatus(err error, status int) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Status == status
}
