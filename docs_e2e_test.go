package main

// The docs runner: command blocks of README.md and docs/guides/*.md that are
// marked runnable are run, in order, against the sandbox, so the docs
// cannot drift from the program.
//
// The marker is an HTML comment on the line right before a ```sh fence:
//
//	<!-- runnable -->
//	```sh
//	tokenctl token list
//	```
//
// (Markdown renderers show nothing of it.) Each file's blocks run in order,
// each with `bash -e -o pipefail`, in one fresh directory that holds a copy
// of examples/ and is HOME (config and state start empty), with the built
// binary first on PATH as tokenctl, TOKENCTL_PROFILE=sandbox (the built-in
// emulator), CI=1 (never a prompt) and NO_COLOR=1. Files, the config and the
// sandbox's state carry over from one block to the next; shell variables do
// not (a block that needs an id looks it up). A block that needs a real
// server, ssh, sudo or a release archive stays unmarked. A marker that is
// not followed by a ```sh block fails the test. Each file's blocks run twice
// in a row, and the second pass must leave the same named tokens and
// servers as the first: the docs' commands are safe to run again.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

const runnableMarker = "<!-- runnable -->"

// docBlock is one runnable block: its file, first line and text.
type docBlock struct {
	file string
	line int
	text string
}

// runnableBlocks returns the marked blocks of a Markdown file, in order.
func runnableBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	sc := bufio.NewScanner(bytes.NewReader(data))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != runnableMarker {
			continue
		}
		if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```sh" {
			t.Errorf("%s:%d: %s must be followed by a ```sh block", path, i+1, runnableMarker)
			continue
		}
		indent := lines[i+1][:len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " "))]
		var body []string
		j := i + 2
		for ; j < len(lines) && strings.TrimSpace(lines[j]) != "```"; j++ {
			body = append(body, strings.TrimPrefix(lines[j], indent))
		}
		if j == len(lines) {
			t.Errorf("%s:%d: the runnable block is not closed", path, i+2)
		}
		blocks = append(blocks, docBlock{file: path, line: i + 3, text: strings.Join(body, "\n") + "\n"})
		i = j
	}
	return blocks
}

// blockTimeout bounds one block: the slowest runs a whole provisioning
// pipeline in seconds.
const blockTimeout = 3 * time.Minute

func TestDocsRunnableBlocks(t *testing.T) {
	files := []string{"README.md"}
	guides, _ := filepath.Glob(filepath.Join("docs", "guides", "*.md"))
	sort.Strings(guides)
	files = append(files, guides...)
	total := 0
	for _, file := range files {
		blocks := runnableBlocks(t, file)
		if len(blocks) == 0 {
			continue
		}
		total += len(blocks)
		t.Run(filepath.Base(file), func(t *testing.T) {
			e := newProcEnv(t)
			e.Set("HOME", e.Dir)
			e.Set("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			e.Set("TOKENCTL_PROFILE", "sandbox")
			copyDir(t, "examples", filepath.Join(e.Dir, "examples"))
			// Every block runs twice in a row (issue 12: safe to run
			// twice): the second pass must succeed too and leave the
			// same named objects, none of them twice.
			var after [2]map[string]int
			for pass := range after {
				for _, b := range blocks {
					runDocBlock(t, e, b, pass+1)
				}
				after[pass] = namedObjects(t, e)
			}
			for key, n := range after[1] {
				if n != after[0][key] {
					t.Errorf("%s: %d after the second run of its blocks, %d after the first: not safe to run twice", key, n, after[0][key])
				}
			}
			for key, n := range after[0] {
				if _, ok := after[1][key]; !ok {
					t.Errorf("%s: %d after the first run of its blocks, gone after the second", key, n)
				}
			}
		})
	}
	if total < 4 {
		t.Fatalf("only %d runnable blocks in the docs", total)
	}
}

// runDocBlock runs one block with bash -e -o pipefail, failing the test
// with its output when it fails.
func runDocBlock(t *testing.T, e *procEnv, b docBlock, pass int) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "block.sh")
	if err := os.WriteFile(script, []byte(b.text), 0o600); err != nil {
		t.Fatal(err)
	}
	// A block that hangs (a wait whose host never registers)
	// fails here with its output, not at go test's timeout.
	ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", script)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env, cmd.Dir = e.Env(), e.Dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s:%d: the block fails on run %d (%v):\n%s\nstdout:\n%s\nstderr:\n%s", b.file, b.line, pass, err, b.text, out.String(), errb.String())
	}
}

// namedObjects counts the built-in sandbox's objects that have a name a
// re-run could duplicate: SSP sensor and baremetal tokens and baremetal
// servers by display_name, agent tokens by name. (NSX and SD-WAN tokens
// have no name: each create makes a new one by design. Sensors are
// registered by appliances, not by tokenctl.)
func namedObjects(t *testing.T, e *procEnv) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, q := range []struct {
		kind, field string
		args        []string
	}{
		{"sensor token", "display_name", []string{"token", "list", "--type", "sensor"}},
		{"baremetal token", "display_name", []string{"token", "list", "--type", "baremetal"}},
		{"baremetal server", "display_name", []string{"baremetal", "list"}},
		{"agent token", "name", []string{"--platform", "agent", "token", "list"}},
	} {
		r := e.Run(t, "", append(q.args, "-o", "jsonl")...)
		if r.Code != 0 {
			t.Fatalf("tokenctl %v: exit %d\n%s", r.Args, r.Code, r.Stderr)
		}
		for _, line := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
			if line == "" {
				continue
			}
			var item map[string]any
			if err := json.Unmarshal([]byte(line), &item); err != nil {
				t.Fatalf("tokenctl %v: %v in %q", r.Args, err, line)
			}
			counts[fmt.Sprintf("%s %q", q.kind, item[q.field])]++
		}
	}
	return counts
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		// Keep the mode: examples/vdefend-cli is run as a program.
		return os.WriteFile(dst, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
