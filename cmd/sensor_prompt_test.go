package cmd

import (
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/prompt"
)

// TestSensorDeleteConfirmation: at a terminal `sensor delete` asks, saying
// that the appliance VM stays; "no" sends nothing, "yes" de-registers.
func TestSensorDeleteConfirmation(t *testing.T) {
	sandboxEnv(t)
	out, errOut, code := run{}.exec(t, "sensor", "list", "-o", "id", "--limit", "1")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errOut)
	}
	id := strings.TrimSpace(out)

	no := &prompt.Stub{Confirms: []bool{false}}
	_, _, code = run{stdinTTY: true, stderrTTY: true, prompter: no}.exec(t, "sensor", "delete", id)
	if code != exit.Error || len(no.Asked) != 1 || !strings.Contains(no.Asked[0], "appliance VMs stay and must be removed separately") {
		t.Fatalf("declined: exit %d, asked %q", code, no.Asked)
	}
	if _, _, code := (run{}).exec(t, "sensor", "get", id); code != 0 {
		t.Fatalf("the sensor is gone after a declined delete: exit %d", code)
	}

	yes := &prompt.Stub{Confirms: []bool{true}}
	_, errOut, code = run{stdinTTY: true, stderrTTY: true, prompter: yes}.exec(t, "sensor", "delete", id)
	if code != 0 || !strings.Contains(errOut, "The appliance VM itself is not removed") {
		t.Fatalf("confirmed: exit %d: %s", code, errOut)
	}
	if _, _, code := (run{}).exec(t, "sensor", "get", id); code != exit.NotFound {
		t.Fatalf("get after delete: exit %d, want 4", code)
	}
}
