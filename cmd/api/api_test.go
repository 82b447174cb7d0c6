package api

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/iostreams"
)

func TestParseRequest(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pp := write("pp.txt", "Sandbox-Passphrase-1!\n")
	yml := write("body.yaml", "display_name: host-01\nallowed_instance_count: 2\nenabled: true\n")
	jsn := write("body.json", ` {"b": 1, "a": [true]} `)
	multi := write("multi.yaml", "a: 1\n---\nb: 2\n")

	cases := []struct {
		name      string
		opts      Options
		stdin     string
		method    string
		path      string
		query     string
		body      string
		header    string
		secrets   []string
		wantError string
	}{
		{name: "get", opts: Options{Method: "get", Path: "/sensors/appliances"}, method: "GET", path: "/sensors/appliances"},
		{name: "query in path and -F on GET", opts: Options{Method: "GET", Path: "/sensors/appliances?page_size=5", Fields: []string{"display_name=edge 01", "sort_ascending=true"}},
			method: "GET", path: "/sensors/appliances", query: "display_name=edge+01&page_size=5&sort_ascending=true"},
		{name: "typed fields", opts: Options{Method: "POST", Path: "/baremetal/registration-tokens", Fields: []string{"display_name=host-01", "allowed_instance_count=2", "ratio=1.5", "on=true", "off=false", "gone=null", "text=007x", "ids[]=a", "ids[]=b", "passphrase=@" + pp}},
			method: "POST", path: "/baremetal/registration-tokens",
			body:    `{"allowed_instance_count":2,"display_name":"host-01","gone":null,"ids":["a","b"],"off":false,"on":true,"passphrase":"Sandbox-Passphrase-1!","ratio":1.5,"text":"007x"}`,
			secrets: []string{"Sandbox-Passphrase-1!"}},
		{name: "field from stdin", opts: Options{Method: "POST", Path: "/x", Fields: []string{"token=@-"}}, stdin: "s3cr3t-value\n",
			method: "POST", path: "/x", body: `{"token":"s3cr3t-value"}`, secrets: []string{"s3cr3t-value"}},
		{name: "yaml body", opts: Options{Method: "PUT", Path: "/x", Input: yml}, method: "PUT", path: "/x", body: `{"allowed_instance_count":2,"display_name":"host-01","enabled":true}`},
		{name: "json body as is", opts: Options{Method: "PATCH", Path: "/x", Input: jsn}, method: "PATCH", path: "/x", body: `{"b": 1, "a": [true]}`},
		{name: "body from stdin", opts: Options{Method: "POST", Path: "/x", Input: "-"}, stdin: "a: b\n", method: "POST", path: "/x", body: `{"a":"b"}`},
		{name: "headers", opts: Options{Method: "DELETE", Path: "/x", Headers: []string{"X-Auth-Token: abcdef", "If-Match: 3"}},
			method: "DELETE", path: "/x", header: "If-Match=3;X-Auth-Token=abcdef", secrets: []string{"abcdef"}},

		{name: "bad method", opts: Options{Method: "TRACE", Path: "/x"}, wantError: `METHOD: "TRACE" is not one of GET, POST, PUT, PATCH, DELETE, HEAD`},
		{name: "absolute url", opts: Options{Method: "GET", Path: "https://evil.example/x"}, wantError: "must start with /"},
		{name: "scheme-relative", opts: Options{Method: "GET", Path: "//evil.example/x"}, wantError: "must start with /"},
		{name: "body on GET", opts: Options{Method: "GET", Path: "/x", Input: yml}, wantError: "GET sends no body"},
		{name: "-f and -F", opts: Options{Method: "POST", Path: "/x", Input: yml, Fields: []string{"a=b"}}, wantError: "cannot be combined with -f"},
		{name: "two stdins", opts: Options{Method: "POST", Path: "/x", Input: "-", Fields: []string{"a=@-"}}, wantError: "@- reads stdin"},
		{name: "field without =", opts: Options{Method: "POST", Path: "/x", Fields: []string{"novalue"}}, wantError: `"novalue": must be key=value`},
		{name: "bad header", opts: Options{Method: "GET", Path: "/x", Headers: []string{"NoColon"}}, wantError: "must be 'Name: value'"},
		{name: "multi-document body", opts: Options{Method: "POST", Path: "/x", Input: multi}, wantError: "2 documents"},
		{name: "missing file", opts: Options{Method: "POST", Path: "/x", Fields: []string{"a=@" + filepath.Join(dir, "nope")}}, wantError: "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := parseRequest(&c.opts, strings.NewReader(c.stdin))
			if c.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantError) || exit.CodeOf(err) != exit.Usage {
					t.Fatalf("error %v, want a usage error containing %q", err, c.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.method != c.method || req.path != c.path {
				t.Errorf("call %s %s, want %s %s", req.method, req.path, c.method, c.path)
			}
			if got := req.query.Encode(); got != c.query {
				t.Errorf("query %q, want %q", got, c.query)
			}
			if string(req.body) != c.body {
				t.Errorf("body %s\nwant %s", req.body, c.body)
			}
			var hs []string
			for _, k := range []string{"If-Match", "X-Auth-Token"} {
				if v := req.header.Get(k); v != "" {
					hs = append(hs, k+"="+v)
				}
			}
			if got := strings.Join(hs, ";"); got != c.header {
				t.Errorf("headers %q, want %q", got, c.header)
			}
			if strings.Join(req.secrets, ",") != strings.Join(c.secrets, ",") {
				t.Errorf("secrets %q, want %q", req.secrets, c.secrets)
			}
		})
	}
}

// On a terminal a body that is not JSON is shown escaped (a hostile
// server's page could otherwise clear the screen or set the title); to a
// pipe or file it stays byte for byte.
func TestWriteRawEscapesOnATerminal(t *testing.T) {
	body := []byte("<html>\x1b]0;pwned\x07\x1b[2J\r\n\tgone</html>")
	ios, _, out, _ := iostreams.Test()
	f := cmdutil.NewFactory(ios, cmdutil.BuildInfo{})
	if err := writeRaw(f, body); err != nil || out.String() != string(body) {
		t.Errorf("to a pipe: %q, %v; want the body as it came", out.String(), err)
	}
	out.Reset()
	ios.SetTTY(false, true, false)
	if err := writeRaw(f, body); err != nil {
		t.Fatal(err)
	}
	if want := "<html>\\x1b]0;pwned\\x07\\x1b[2J\n\tgone</html>\n"; out.String() != want {
		t.Errorf("to a terminal: %q, want %q", out.String(), want)
	}
}
