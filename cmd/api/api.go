// Package api is `tokenctl api METHOD PATH`: a raw call to the current
// profile's server with everything the other commands get (auth, TLS,
// retries, redacted --debug, exit codes), for the calls tokenctl has no
// command for.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/client"
	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/config"
	"github.com/tokenctl/tokenctl/internal/escape"
	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/manifest"
	"github.com/tokenctl/tokenctl/internal/output"
)

// Methods are the HTTP methods `api` sends.
var Methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead}

// Options are `api`'s inputs.
type Options struct {
	cmdutil.Verb

	Method   string
	Path     string
	Input    string   // -f FILE|-
	Fields   []string // -F key=value
	Headers  []string // -H 'Name: value'
	Paginate bool
}

// NewCmdAPI builds `tokenctl api`.
func NewCmdAPI(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{Verb: cmdutil.Verb{Factory: f}}
	cmd := &cobra.Command{
		Use:   "api METHOD PATH",
		Short: "Make an authenticated call to the current profile's API",
		Long: `Call the current profile's server: PATH (with an optional ?query) is relative to the
profile's server URL, and the call gets the profile's authentication, TLS settings, timeouts,
retries and --debug log with secrets redacted, like every other command.

METHOD is GET, POST, PUT, PATCH, DELETE or HEAD. GET, HEAD and DELETE are retried on 429, 502,
503, 504 and connection failures; POST, PUT and PATCH only when nothing can have been done
(a 429, or a refused connection), as for every create.

The body comes from -f FILE (- for stdin; JSON is sent as it is, YAML is converted to JSON), or
from -F key=value fields, which build a JSON object: true, false, null and numbers are typed,
@FILE reads a file's contents (@- stdin), and key[]=value appends to an array. With GET and
HEAD, -F fields are sent as query parameters instead.

The response body is printed as it came (on a terminal: JSON indented, control characters in
other text escaped); -o json|yaml, --jq and
--template apply to a JSON response. --paginate follows the pages of an SSP list (offset and
page_size, items under "results") and prints one JSON array of every item.

A non-2xx answer prints the vendor's error body on stdout, as gh does, so that scripts can
read it, and exits with the usual code (3 for 401/403, 4 for 404, ...), the message on stderr.`,
		Example: `  tokenctl api GET /sensors/appliances
  tokenctl api GET '/sensors/appliances?page_size=5' --jq '.results[].id'
  tokenctl api GET /sensors/registration-tokens --paginate --jq '.[].display_name'
  tokenctl api GET /sensors/appliances -F display_name=edge-01
  tokenctl api PUT /sensors/mps-global-config -f mps.yaml
  tokenctl api POST /baremetal/registration-tokens -F display_name=host-01 -F passphrase=@pp.txt`,
		Args: cmdutil.ExactArgs("METHOD", "PATH"),
		RunE: cmdutil.RunArgs(opts, func(args []string) error {
			opts.Method, opts.Path = args[0], args[1]
			return nil
		}, runF, apiRun),
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Input, "input", "f", "", "request body from a JSON or YAML file; - reads stdin")
	fl.StringArrayVarP(&opts.Fields, "field", "F", nil, "add a body field key=value (typed; @FILE reads a file; key[]=v appends); query parameter for GET and HEAD")
	fl.StringArrayVarP(&opts.Headers, "header", "H", nil, "add a request header 'Name: value'")
	fl.BoolVar(&opts.Paginate, "paginate", false, "ssp: follow every page of a list and print one JSON array of its items")
	cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return cmdutil.FixedValues(Methods...)(cmd, args, toComplete)
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return cmd
}

// request is the validated call.
type request struct {
	method  string
	path    string
	query   url.Values
	body    []byte
	header  http.Header
	secrets []string
}

func apiRun(opts *Options) error {
	f := opts.Factory
	o, err := f.OutputOptions()
	if err != nil {
		return err
	}
	raw := f.String(cmdutil.FlagOutput) == "" && !o.Filtered()
	if !raw && o.Format != output.JSON && o.Format != output.JSONL && o.Format != output.YAML && o.DropEnvFormat() {
		raw = !o.Filtered() // a TOKENCTL_OUTPUT default that does not apply
	}
	if !raw && o.Format != output.JSON && o.Format != output.JSONL && o.Format != output.YAML {
		return exit.Usagef("api prints the response body: -o %s does not apply (use -o json, jsonl or yaml, --jq or --template)", o.Format)
	}
	req, err := parseRequest(opts, f.IOStreams.In)
	if err != nil {
		return err
	}
	p, err := f.Profile()
	if err != nil {
		return err
	}
	if opts.Paginate {
		if p.Platform != config.SSP {
			return exit.Usagef("--paginate follows SSP's offset pages; %s lists are not paged that way (drop --paginate)", p.Platform)
		}
		if req.method != http.MethodGet {
			return exit.Usagef("--paginate needs GET, not %s", req.method)
		}
	}
	ctx := cmdutil.Context(opts.Cmd)
	c, _, err := f.APIClient(ctx)
	if err != nil {
		return err
	}
	// Register secrets before the call that carries them (--debug).
	for _, s := range req.secrets {
		c.Redactor().AddSecret(s)
	}
	call := client.Call{
		Operation: "api " + req.method + " " + req.path,
		Method:    req.method,
		Path:      req.path,
		Query:     req.query,
		Header:    req.header,
	}
	if req.body != nil {
		call.Body = json.RawMessage(req.body)
	}
	pr := f.Printer(o)
	if opts.Paginate {
		var l output.ListWriter
		if raw {
			l = output.New(f.IOStreams, output.Options{Format: output.JSON}).List(output.Kind{Noun: "item"})
		} else {
			l = pr.List(output.Kind{Noun: "item"})
		}
		_, err := c.ListOffset(ctx, call, "results", client.Pager{}, l.Add)
		if err != nil {
			if l.Count() > 0 {
				return err // stdout already holds part of the array
			}
			return printError(f, err)
		}
		return l.Close()
	}
	resp, err := c.Do(ctx, call)
	if err != nil {
		return printError(f, err)
	}
	body := resp.Body
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if raw {
		return writeRaw(f, body)
	}
	if !json.Valid(body) {
		return exit.Errorf(exit.Error, "%s: the response is not JSON (%s); drop -o/--jq/--template to print it as it is", call.Operation, resp.Header.Get("Content-Type"))
	}
	return pr.Object(body, output.Kind{Noun: "response"})
}

// printError prints the vendor's error body on stdout (gh's choice: a
// script reads the body of a failed call where it reads any other) and
// returns the error, whose code and message the root command reports.
func printError(f *cmdutil.Factory, err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && len(ae.Body) > 0 {
		if werr := writeRaw(f, ae.Body); werr != nil {
			return werr
		}
	}
	return err
}

// writeRaw prints a body as it came; on a terminal JSON is indented and
// other text escaped.
func writeRaw(f *cmdutil.Factory, body []byte) error {
	out := f.IOStreams.Out
	if f.IOStreams.IsStdoutTTY() && json.Valid(body) {
		var buf bytes.Buffer
		if err := json.Indent(&buf, body, "", "  "); err == nil {
			buf.WriteByte('\n')
			_, err := out.Write(buf.Bytes())
			return err
		}
	}
	if f.IOStreams.IsStdoutTTY() {
		// For a person: the server's control characters escaped, as in
		// every human output (its line endings and tabs kept).
		body = []byte(escape.Log(strings.ReplaceAll(string(body), "\r\n", "\n")))
	}
	if _, err := out.Write(body); err != nil {
		return err
	}
	if f.IOStreams.IsStdoutTTY() && !bytes.HasSuffix(body, []byte("\n")) {
		_, err := io.WriteString(out, "\n")
		return err
	}
	return nil
}

// parseRequest validates the arguments and builds the request; nothing is
// sent when it fails (exit 2).
func parseRequest(opts *Options, stdin io.Reader) (*request, error) {
	req := &request{method: strings.ToUpper(opts.Method), header: http.Header{}}
	var problems []exit.Problem
	if !contains(Methods, req.method) {
		problems = append(problems, exit.Problem{Field: "METHOD", Rule: fmt.Sprintf("%q is not one of %s", opts.Method, strings.Join(Methods, ", "))})
	}
	path, rawQuery, _ := strings.Cut(opts.Path, "?")
	switch {
	case !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//"):
		problems = append(problems, exit.Problem{Field: "PATH", Rule: fmt.Sprintf("%q must start with / (it is relative to the profile's server; full URLs are refused so credentials never go elsewhere)", opts.Path)})
	}
	req.path = path
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		problems = append(problems, exit.Problem{Field: "PATH", Rule: "query: " + err.Error()})
	}
	req.query = q
	for _, h := range opts.Headers {
		name, value, ok := strings.Cut(h, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			problems = append(problems, exit.Problem{Field: "--header", Rule: fmt.Sprintf("%q: must be 'Name: value'", h)})
			continue
		}
		req.header.Add(name, value)
		if secretHeader(name) {
			req.secrets = append(req.secrets, value)
		}
	}
	query := req.method == http.MethodGet || req.method == http.MethodHead
	if opts.Input != "" && query {
		problems = append(problems, exit.Problem{Field: "--input", Rule: req.method + " sends no body; put query parameters in PATH or use -F"})
	}
	if opts.Input != "" && len(opts.Fields) > 0 {
		problems = append(problems, exit.Problem{Field: "--field", Rule: "cannot be combined with -f: the body comes from one of them"})
	}
	if opts.Input == "-" {
		for _, fl := range opts.Fields {
			if strings.HasSuffix(fl, "=@-") {
				problems = append(problems, exit.Problem{Field: "--field", Rule: "@- reads stdin, which -f - already reads"})
			}
		}
	}
	if len(problems) > 0 {
		return nil, exit.Problems(problems)
	}
	fields, secrets, err := parseFields(opts.Fields, stdin)
	if err != nil {
		return nil, err
	}
	req.secrets = append(req.secrets, secrets...)
	switch {
	case opts.Input != "":
		if req.body, err = readBody(opts.Input, stdin); err != nil {
			return nil, err
		}
	case len(fields) > 0 && query:
		for _, fv := range fields {
			for _, v := range fv.queryValues() {
				req.query.Add(fv.key, v)
			}
		}
	case len(fields) > 0:
		obj := map[string]any{}
		for _, fv := range fields {
			if fv.array {
				list, _ := obj[fv.key].([]any)
				obj[fv.key] = append(list, fv.value)
			} else {
				obj[fv.key] = fv.value
			}
		}
		if req.body, err = json.Marshal(obj); err != nil {
			return nil, err
		}
	}
	return req, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// secretKey reports a field name whose value is a secret on some platform,
// so --debug never shows it, wherever it appears.
func secretKey(key string) bool {
	k := strings.ToLower(key)
	for _, s := range []string{"pass", "secret", "token", "uuid", "key"} {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

func secretHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Authorization", "Proxy-Authorization", "Cookie", "X-Auth-Token", "X-Xsrf-Token":
		return true
	}
	return secretKey(name)
}

// field is one -F key=value.
type field struct {
	key   string
	value any
	array bool
	raw   string // the value as typed (or read from @FILE), for queries
}

func (fv field) queryValues() []string { return []string{fv.raw} }

// parseFields types -F values: true, false, null, JSON numbers, @FILE (the
// file's contents, a string), else a string.
func parseFields(specs []string, stdin io.Reader) ([]field, []string, error) {
	var fields []field
	var secrets []string
	var problems []exit.Problem
	for _, spec := range specs {
		key, value, ok := strings.Cut(spec, "=")
		fv := field{key: key}
		if strings.HasSuffix(key, "[]") {
			fv.key, fv.array = strings.TrimSuffix(key, "[]"), true
		}
		if !ok || fv.key == "" {
			problems = append(problems, exit.Problem{Field: "--field", Rule: fmt.Sprintf("%q: must be key=value", spec)})
			continue
		}
		switch {
		case strings.HasPrefix(value, "@"):
			data, err := readFieldFile(value[1:], stdin)
			if err != nil {
				problems = append(problems, exit.Problem{Field: "--field", Rule: fmt.Sprintf("%s: %v", key, err)})
				continue
			}
			fv.value, fv.raw = data, data
		case value == "true" || value == "false":
			fv.value, fv.raw = value == "true", value
		case value == "null":
			fv.value, fv.raw = nil, value
		case isNumber(value):
			fv.value, fv.raw = json.Number(value), value
		default:
			fv.value, fv.raw = value, value
		}
		if secretKey(fv.key) && fv.raw != "" {
			secrets = append(secrets, fv.raw)
		}
		fields = append(fields, fv)
	}
	if len(problems) > 0 {
		return nil, nil, exit.Problems(problems)
	}
	return fields, secrets, nil
}

// isNumber accepts integers and decimals as JSON writes them.
func isNumber(s string) bool {
	if s == "" || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}

// readFieldFile reads @FILE for -F: the contents without one final newline
// (a passphrase file written by an editor or echo ends with one).
func readFieldFile(path string, stdin io.Reader) (string, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, manifest.MaxSize))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return "", err
	}
	s := strings.TrimSuffix(string(data), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

// readBody reads -f: JSON as it is, else one YAML document converted to
// JSON.
func readBody(path string, stdin io.Reader) ([]byte, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(stdin, manifest.MaxSize+1))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, exit.Usagef("-f %s: %v", path, err)
	}
	if len(data) > manifest.MaxSize {
		return nil, exit.Usagef("-f %s: larger than %d MiB", path, manifest.MaxSize>>20)
	}
	if trimmed := bytes.TrimSpace(data); json.Valid(trimmed) {
		return trimmed, nil
	}
	name := path
	if path == "-" {
		name = "stdin"
	}
	docs, err := manifest.Parse(name, data)
	if err != nil {
		return nil, err
	}
	if len(docs) != 1 {
		return nil, exit.Usagef("-f %s: %d documents; a request has one body", path, len(docs))
	}
	return docs[0].JSON()
}
