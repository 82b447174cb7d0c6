// Package baremetal is `tokenctl baremetal`: the SSP baremetal-server
// operations of specs/ssp-baremetal-servers.yaml (servers, their statuses,
// the summary, uninstall and upgrade with their tasks, installer bundles).
// Baremetal servers exist only on SSP.
package baremetal

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/output"
)

// NewCmdBaremetal builds `tokenctl baremetal`.
func NewCmdBaremetal(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group(&cobra.Command{
		Use:   "baremetal <command>",
		Short: "Manage SSP baremetal servers: list, inspect, uninstall, upgrade, tasks, installer (ssp)",
		Long: `Manage the baremetal servers registered with an SSP: list them with their lifecycle
(lcm) status, connectivity and agent health, inspect one, uninstall or upgrade agents (the
vendor runs these as tasks; --wait follows a task to its end), and download the installer
bundle that hosts need. Registration tokens for baremetal servers are 'tokenctl token
--type baremetal'; 'tokenctl token wait' waits for the servers a token registers. SSP
profiles only.

Where a command takes a server ID, a server's display_name works too: it is looked up with
one list read (none: exit 4). A name of several servers is the only live one among them
(not TERMINATING or TERMINATED: a host registered again after an uninstall), else exit 2,
listing them.`,
		Example: `  tokenctl baremetal list
  tokenctl baremetal status web-01
  tokenctl baremetal uninstall web-01 --wait --yes`,
	},
		NewCmdList(f, nil),
		NewCmdDetails(f, nil),
		NewCmdGet(f, nil),
		NewCmdStatus(f, nil),
		NewCmdSummary(f, nil),
		NewCmdUninstall(f, nil),
		NewCmdUpgrade(f, nil),
		NewCmdTask(f, nil),
		NewCmdInstaller(f, nil),
	)
}

// serverColumns are what an operator scans a fleet for. BaremetalServer has
// the state, agent version and token; BaremetalServerStatus the lcm status,
// connectivity and health: table views join the two (see joinStatus).
func serverColumns() []output.Column {
	return []output.Column{
		output.TextField("NAME", "display_name"),
		output.Field("ID", "id"),
		output.StateField("STATE", "state"),
		output.StateField("LCM", "lcm_status"),
		output.StateField("CONNECTIVITY", "connectivity_status"),
		output.StateField("HEALTH", "agent_health.overall_agent_health"),
		output.Field("AGENT VERSION", "agent_version").WideOnly(),
		output.Field("TOKEN ID", "registration_token_id").WideOnly(),
	}
}

// serverKind prints BaremetalServer objects (list, get) and
// BaremetalServerStatus objects (details).
func serverKind() output.Kind {
	return output.Kind{Noun: "baremetal server", IDField: "id", Columns: serverColumns()}
}

// statusKind prints one BaremetalServerStatus (status ID).
func statusKind() output.Kind {
	return output.Kind{
		Noun:    "baremetal server status",
		IDField: "id",
		Columns: []output.Column{
			output.TextField("NAME", "display_name"),
			output.Field("ID", "id"),
			output.StateField("STATE", "state"),
			output.StateField("LCM", "lcm_status"),
			output.StateField("CONNECTIVITY", "connectivity_status"),
			output.StateField("HEALTH", "agent_health.overall_agent_health"),
			output.TextField("LCM ERROR", "lcm_error"),
			output.Field("OPERATION", "lcm_operation").WideOnly(),
			output.Field("AGENT VERSION", "agent_version").WideOnly(),
			output.StateField("LAST OPERATION", "last_operation_info").WideOnly(),
		},
	}
}

func summaryKind() output.Kind {
	return output.Kind{
		Noun: "baremetal servers summary",
		Columns: []output.Column{
			output.Field("SERVERS", "total_server_count"),
			output.Field("HEALTH OK", "agent_health_status.num_ok"),
			output.Field("DISCONNECTED", "agent_health_status.num_disconnected"),
			output.Field("DEGRADED", "agent_health_status.num_degraded"),
			output.Field("LCM SUCCESS", "operational_status.success"),
			output.Field("FAILED", "operational_status.failed"),
			output.Field("IN PROGRESS", "operational_status.in_progress"),
			output.Field("LATEST VERSION", "version_stats.latest_version"),
			output.Field("ON LATEST", "version_stats.latest_version_count"),
			output.Field("UPGRADE NEEDED", "version_stats.upgrade_needed_count"),
		},
	}
}

// asyncKind prints the vendor's AsyncApiResponse: the task of an accepted
// uninstall or upgrade.
func asyncKind() output.Kind {
	return output.Kind{
		Noun:    "baremetal task",
		IDField: "id",
		Columns: []output.Column{
			output.Field("TASK ID", "id"),
			output.TextField("STATUS URL", "status_url"),
		},
	}
}

// taskKind prints BaremetalTaskInfo objects; a table shows one row per
// server of the task (see taskRows).
func taskKind() output.Kind {
	return output.Kind{
		Noun:    "baremetal task",
		IDField: "id",
		Columns: []output.Column{
			output.Field("TASK ID", "task_id"),
			output.Field("TYPE", "task_type"),
			output.StateField("TASK STATUS", "task_status"),
			output.TextField("SERVER", "display_name"),
			output.Field("SERVER ID", "id"),
			output.StateField("SERVER STATUS", "server_task_status"),
			output.TextField("MESSAGE", "activity_status_msg"),
		},
	}
}

// taskRows turns a BaremetalTaskInfo into table rows, one per server (one
// row without server columns when the task names none).
func taskRows(raw json.RawMessage) ([]json.RawMessage, error) {
	var t struct {
		ID      string `json:"id"`
		Type    string `json:"task_type"`
		Status  string `json:"task_status"`
		Msg     string `json:"activity_status_msg"`
		Servers []struct {
			ID     string `json:"id"`
			Name   string `json:"display_name"`
			Status string `json:"server_task_status"`
			Msg    string `json:"activity_status_msg"`
		} `json:"baremetalserver_task_info"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	row := func(id, name, status, msg string) json.RawMessage {
		return cmdutil.RawOf(map[string]string{"task_id": t.ID, "task_type": t.Type, "task_status": t.Status,
			"id": id, "display_name": name, "server_task_status": status, "activity_status_msg": msg})
	}
	if len(t.Servers) == 0 {
		return []json.RawMessage{row("", "", "", t.Msg)}, nil
	}
	rows := make([]json.RawMessage, 0, len(t.Servers))
	for _, s := range t.Servers {
		rows = append(rows, row(s.ID, s.Name, s.Status, s.Msg))
	}
	return rows, nil
}
