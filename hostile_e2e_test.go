package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// hostileName is what a hostile or broken server puts in a display name: a
// clear-screen, a window-title change, colour, a bell, a carriage return, a
// one-byte CSI (C1) and a newline followed by what looks like a table row.
const hostileName = "edge\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b[31mRED\r\u009b1mC1\nfake-row  00000000-0000-0000-0000-000000000000  AVAILABLE"

// hostileSSP is an SSP server whose names and error messages carry
// terminal control sequences.
func hostileSSP(t *testing.T) string {
	t.Helper()
	token := func(id, name string) map[string]any {
		return map[string]any{"id": id, "display_name": name, "description": "desc\x1b[1m", "status": "AVAILABLE\x1b[5m",
			"usage_count": 0, "allowed_instance_count": 1, "number_available": 1, "expiration": 1796024158669,
			"registration_manifest": "bWFu"}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /sensors/registration-tokens", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"results": []any{
			token("11111111-1111-1111-1111-111111111111", hostileName),
			token("22222222-2222-2222-2222-222222222222", "plain"),
		}, "result_count": 2, "total_result_count": 2})
	})
	mux.HandleFunc("GET /sensors/registration-tokens/{id}", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(token(r.PathValue("id"), hostileName))
	})
	mux.HandleFunc("POST /sensors/registration-tokens", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"fail"`) {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"error_code": 400, "module_name": "mod\x1b[2J",
				"error_message": "bad request\x1b]0;pwned\x07\ntokenctl: fake line from the server", "details": "d\r\x1b[K"})
			return
		}
		json.NewEncoder(w).Encode(token("33333333-3333-3333-3333-333333333333", hostileName))
	})
	mux.HandleFunc("GET /sensors/appliances/details", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"results":[{"sensor_info":{"id":"44444444-4444-4444-4444-444444444444","display_name":%q},`+
			`"sensor_status":{"registration_status":"REGISTERED\u001b[0m","health":"OK"},`+
			`"appliance_networking_info":{"host_name":"h\u001b[2Jost"}}],"result_count":1,"total_result_count":1}`, hostileName)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// ourSGR are the colour codes tokenctl itself writes (CLICOLOR_FORCE).
var ourSGR = regexp.MustCompile("\x1b\\[(3[123]|0)m")

// rawControl finds a control character other than a newline (after our own
// colour codes are taken out).
func rawControl(s string) (rune, bool) {
	for _, r := range ourSGR.ReplaceAllString(s, "") {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return r, true
		}
	}
	return 0, false
}

// TestHostileServerTextIsEscaped: names, states, descriptions and vendor
// error messages with escape sequences and newlines reach tables, key/value
// lines, notices and error messages escaped; JSON keeps them (escaped by
// JSON itself) and YAML quotes them. A newline in a name never adds a row.
func TestHostileServerTextIsEscaped(t *testing.T) {
	url := hostileSSP(t)
	e := newProcEnv(t)
	e.Set("TOKENCTL_USERNAME", "admin")
	e.Set("TOKENCTL_PASSWORD", "tokenctl-sandbox")
	e.Set("CLICOLOR_FORCE", "1")
	e.Set("NO_COLOR", "")
	e.Set("COLUMNS", "300")
	base := []string{"--server", url, "--platform", "ssp"}
	tk := func(stdin string, args ...string) run {
		return e.Run(t, stdin, append(append([]string{}, base...), args...)...)
	}

	escaped := `edge\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b[31mRED\r\u009b1mC1\nfake-row  00000000-0000-0000-0000-000000000000  AVAILABLE`
	for _, args := range [][]string{
		{"token", "list"}, {"token", "list", "-o", "wide"}, {"token", "get", "11111111-1111-1111-1111-111111111111"},
		{"token", "status", "11111111-1111-1111-1111-111111111111"}, {"token", "list", "--sort-by", "expires"},
	} {
		r := tk("", args...)
		if r.Code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.Code, r.Stderr)
		}
		if c, ok := rawControl(r.Stdout + r.Stderr); ok {
			t.Errorf("%v: raw %U reached the terminal:\n%q", args, c, r.Stdout)
		}
		if !strings.Contains(r.Stdout, escaped) {
			t.Errorf("%v: the name is not shown escaped:\n%s", args, r.Stdout)
		}
		if strings.Contains(r.Stdout, "\nfake-row") {
			t.Errorf("%v: a newline in a name made a row:\n%s", args, r.Stdout)
		}
		if !strings.Contains(r.Stdout, `AVAILABLE\x1b[5m`) {
			t.Errorf("%v: a state with an escape sequence is not escaped (nor coloured):\n%q", args, r.Stdout)
		}
	}
	// sensor details, -o wide: names, states and host names.
	r := tk("", "sensor", "details", "-o", "wide")
	if c, ok := rawControl(r.Stdout); ok || r.Code != 0 || !strings.Contains(r.Stdout, `REGISTERED\x1b[0m`) || !strings.Contains(r.Stdout, `h\x1b[2Jost`) || strings.Count(r.Stdout, "\n") != 2 {
		t.Errorf("sensor details (exit %d, raw %U):\n%q", r.Code, c, r.Stdout)
	}

	// The "Created" notice quotes the name the server sent back.
	r = tk("Hostile-Passphrase-1!\n", "token", "create", "--display-name", "ok", "--passphrase-stdin", "-o", "id")
	if c, ok := rawControl(r.Stderr); ok || r.Code != 0 || !strings.Contains(r.Stderr, escaped) {
		t.Errorf("create notice (exit %d, raw %U):\n%q", r.Code, c, r.Stderr)
	}

	// A vendor error message: one line on stderr, escaped; with -o json the
	// error object keeps the vendor's body as JSON.
	r = tk("Hostile-Passphrase-1!\n", "token", "create", "--display-name", "fail", "--passphrase-stdin")
	if c, ok := rawControl(r.Stderr); ok || r.Code != 1 {
		t.Errorf("error (exit %d, raw %U):\n%q", r.Code, c, r.Stderr)
	}
	if strings.Contains(r.Stderr, "\ntokenctl: fake line") || !strings.Contains(r.Stderr, `bad request\x1b]0;pwned\x07\ntokenctl: fake line from the server`) ||
		!strings.Contains(r.Stderr, `module mod\x1b[2J`) || !strings.Contains(r.Stderr, `details: d\r\x1b[K`) {
		t.Errorf("the vendor's message is not one escaped line:\n%s", r.Stderr)
	}
	r = tk("Hostile-Passphrase-1!\n", "token", "create", "--display-name", "fail", "--passphrase-stdin", "-o", "json")
	var doc struct {
		Error struct {
			Vendor struct {
				ErrorMessage string `json:"error_message"`
			} `json:"vendor"`
		} `json:"error"`
	}
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &doc); err != nil || doc.Error.Vendor.ErrorMessage != "bad request\x1b]0;pwned\x07\ntokenctl: fake line from the server" {
		t.Errorf("the JSON error does not carry the vendor's message as sent (%v):\n%s", err, r.Stderr)
	}

	// JSON output keeps the server's text exactly (JSON escapes it); YAML
	// quotes it.
	r = tk("", "token", "list", "-o", "json")
	var items []struct {
		DisplayName string `json:"display_name"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &items); err != nil || len(items) != 2 || items[0].DisplayName != hostileName {
		t.Errorf("JSON changed the server's text (%v): %q", err, r.Stdout)
	}
	for _, f := range []string{"json", "jsonl", "yaml", "id"} {
		r = tk("", "token", "list", "-o", f)
		if c, ok := rawControl(r.Stdout); r.Code != 0 || (ok && !(c == 0x9b && (f == "json" || f == "jsonl"))) {
			// JSON's grammar leaves U+0080..U+009F unescaped, and JSON
			// output keeps the server's strings as they are.
			t.Errorf("-o %s (exit %d): raw %U:\n%q\n%s", f, r.Code, c, r.Stdout, r.Stderr)
		}
	}
}
