package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/sandbox"
	"github.com/tokenctl/tokenctl/internal/sandbox/sim"
)

// sshStandIn runs an ssh command line on this machine as the host it names:
// the stand-in installer registers under the host's short name and writes
// under its own root, and the install script installs there.
const sshStandIn = `#!/bin/sh
while [ "$#" -gt 0 ]; do
	case $1 in
	-i | -o) shift 2 ;;
	-*) shift ;;
	*) break ;;
	esac
done
dest=$1
shift
echo "$dest" >>"$FLEET_HOSTS_ROOT/ssh.log"
export TOKENCTL_SANDBOX_HOST_ROOT="$FLEET_HOSTS_ROOT/$dest" TOKENCTL_SANDBOX_HOSTNAME="${dest%%.*}"
exec sh -c "$* --install-path '$FLEET_HOSTS_ROOT/$dest/opt/vmware/vdefend'"
`

// TestKubernetesShardScript runs the Indexed Job's register-shard.sh as its
// pods would, one process per completion index, against a sandbox: every
// host of the list registers once with its shard's pool token, the tokens
// are deleted, a failing host fails its pod alone, and a second run of every
// index registers nothing.
func TestKubernetesShardScript(t *testing.T) {
	for _, tool := range []string{"sh", "awk", "sha1sum", "xargs", "paste", "sed", "grep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	script, err := filepath.Abs(filepath.Join(k8sDir, "register-shard.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	creates := 0
	_, url, _ := startProcSandbox(t, sandbox.Options{
		Options: sim.Options{LCMStep: 20 * time.Millisecond},
		OnRequest: func(r sandbox.RequestRecord) {
			if r.Method == http.MethodPost && r.Path == "/baremetal/registration-tokens" {
				mu.Lock()
				creates++
				mu.Unlock()
			}
		},
	})

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	roots := filepath.Join(dir, "roots")
	for _, d := range []string{bin, roots, filepath.Join(dir, "ssh"), filepath.Join(dir, "pp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		filepath.Join(bin, "ssh"):                sshStandIn,
		filepath.Join(bin, "vdefend-cli"):        "#!/bin/sh\nexec tokenctl sandbox vdefend-cli \"$@\"\n",
		filepath.Join(dir, "ssh", "id_ed25519"):  "not a key: the ssh stand-in ignores it\n",
		filepath.Join(dir, "ssh", "known_hosts"): "\n",
		filepath.Join(dir, "pp", "passphrase"):   "Shard-Pass-Phrase-2026!\n",
	}
	var hosts strings.Builder
	hosts.WriteString("# seven hosts, shards of three: 3 + 3 + 1\n")
	var names []string
	for i := 1; i <= 7; i++ {
		name := fmt.Sprintf("k8s-%02d", i)
		names = append(names, name)
		fmt.Fprintf(&hosts, "%s %s.example.com\n", name, name)
	}
	files[filepath.Join(dir, "hosts")] = hosts.String()
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}

	// shard runs the script as pod index would.
	shard := func(index int, extra ...string) (int, string) {
		t.Helper()
		home := filepath.Join(dir, fmt.Sprintf("pod-%d-%d", index, time.Now().UnixNano()))
		if err := os.MkdirAll(filepath.Join(home, "tmp"), 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("sh", script)
		cmd.Env = append([]string{
			"PATH=" + bin + string(os.PathListSeparator) + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
			"HOME=" + home,
			"TMPDIR=" + filepath.Join(home, "tmp"),
			"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
			"XDG_STATE_HOME=" + filepath.Join(home, "state"),
			"FLEET_HOSTS_ROOT=" + roots,
			"TOKENCTL_SERVER=" + url,
			"TOKENCTL_PLATFORM=ssp",
			"TOKENCTL_USERNAME=admin",
			"TOKENCTL_PASSWORD=" + sim.DefaultPassword,
			fmt.Sprintf("JOB_COMPLETION_INDEX=%d", index),
			"SHARD_SIZE=3",
			"HOSTS_FILE=" + filepath.Join(dir, "hosts"),
			"PASSPHRASE_FILE=" + filepath.Join(dir, "pp", "passphrase"),
			"SSH_SECRET_DIR=" + filepath.Join(dir, "ssh"),
			"REMOTE_SHELL=sh",
			"WAIT_INTERVAL=50ms",
			"WAIT_TIMEOUT=1m",
		}, extra...)
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Fatal(err)
			}
			code = ee.ExitCode()
		}
		return code, string(out)
	}
	pe := newProcEnv(t)
	pe.Set("TOKENCTL_SERVER", url)
	pe.Set("TOKENCTL_PLATFORM", "ssp")
	pe.Set("TOKENCTL_USERNAME", "admin")
	pe.Set("TOKENCTL_PASSWORD", sim.DefaultPassword)
	servers := func() map[string]string { // display_name -> registration_token_id
		t.Helper()
		r := pe.Run(t, "", "baremetal", "list", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("baremetal list: %d %s", r.Code, r.Stderr)
		}
		var list []struct {
			DisplayName string `json:"display_name"`
			TokenID     string `json:"registration_token_id"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, s := range list {
			if _, dup := m[s.DisplayName]; dup {
				t.Errorf("server %s registered twice", s.DisplayName)
			}
			m[s.DisplayName] = s.TokenID
		}
		return m
	}
	tokensLeft := func() string {
		t.Helper()
		r := pe.Run(t, "", "token", "status", "--type", "baremetal", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("token status: %d %s", r.Code, r.Stderr)
		}
		return strings.TrimSpace(r.Stdout)
	}

	// The three pods, one after the other (parallelism does not change what
	// each does).
	for index := 0; index < 3; index++ {
		code, out := shard(index)
		if code != 0 {
			t.Fatalf("shard %d exited %d:\n%s", index, code, out)
		}
		want := []int{3, 3, 1}[index]
		if !strings.Contains(out, fmt.Sprintf("shard %d: %d of %d host(s) registered and healthy", index, want, want)) {
			t.Errorf("shard %d did not report its %d hosts healthy:\n%s", index, want, out)
		}
		if strings.Contains(out, "Shard-Pass-Phrase-2026!") {
			t.Errorf("shard %d printed the passphrase", index)
		}
	}
	got := servers()
	var gotNames []string
	for n := range got {
		gotNames = append(gotNames, n)
	}
	sort.Strings(gotNames)
	if strings.Join(gotNames, " ") != strings.Join(names, " ") {
		t.Fatalf("servers %v, want %v", gotNames, names)
	}
	if got["k8s-01"] != got["k8s-03"] || got["k8s-01"] == got["k8s-04"] || got["k8s-04"] == got["k8s-07"] {
		t.Errorf("want one pool token per shard (hosts 1-3, 4-6, 7): %v", got)
	}
	if left := tokensLeft(); left != "[]" {
		t.Errorf("tokens left after the shards: %s", left)
	}
	if creates != 3 {
		t.Errorf("%d tokens created, want one per shard: 3", creates)
	}

	// Every pod again: nothing to do, no token, no ssh.
	_ = os.Remove(filepath.Join(roots, "ssh.log"))
	for index := 0; index < 3; index++ {
		code, out := shard(index)
		if code != 0 || !strings.Contains(out, "every host is registered") {
			t.Errorf("shard %d again: exit %d:\n%s", index, code, out)
		}
	}
	if creates != 3 {
		t.Errorf("the second run created %d tokens", creates-3)
	}
	if _, err := os.Stat(filepath.Join(roots, "ssh.log")); err == nil {
		t.Error("the second run logged in to hosts")
	}

	// A shard with a host whose ssh fails: the pod fails naming it, the
	// others of its shard register, and its token is gone.
	f, err := os.OpenFile(filepath.Join(dir, "hosts"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "k8s-08 k8s-08.example.com")
	fmt.Fprintln(f, "k8s-09 unreachable.example.com")
	f.Close()
	if err := os.WriteFile(filepath.Join(bin, "ssh"), []byte(strings.Replace(sshStandIn, "dest=$1\n", "dest=$1\n[ \"$dest\" = unreachable.example.com ] && { echo 'ssh: connect to host unreachable.example.com port 22: Connection refused' >&2; exit 255; }\n", 1)), 0o755); err != nil {
		t.Fatal(err)
	}
	code, out := shard(2)
	if code != 1 {
		t.Errorf("shard 2 with an unreachable host exited %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"k8s-09: the install script failed (exit 255)", "Connection refused", "shard 2: 1 of 2 host(s) registered and healthy"} {
		if !strings.Contains(out, want) {
			t.Errorf("shard 2 output lacks %q:\n%s", want, out)
		}
	}
	got = servers()
	if _, ok := got["k8s-08"]; !ok {
		t.Error("k8s-08 did not register beside the unreachable host")
	}
	if left := tokensLeft(); left != "[]" {
		t.Errorf("tokens left after a failed shard: %s", left)
	}
}
