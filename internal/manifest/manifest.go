// Package manifest reads create requests from YAML or JSON (a file or
// stdin, one or several documents), rejects unknown fields by name, and
// decodes them into the vendor's request types.
package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/tokenctl/tokenctl/internal/exit"
	"github.com/tokenctl/tokenctl/internal/suggest"
)

// MaxSize bounds a manifest (a bulk file of thousands of tokens fits).
const MaxSize = 32 << 20

// Document is one YAML or JSON document of a manifest.
type Document struct {
	// Source names it in messages and bulk output: "FILE#N" (1-based).
	Source string
	node   *yaml.Node
}

// Read reads path ("-" is stdin) and splits it into documents. Empty
// documents (a stray "---") are skipped.
func Read(path string, stdin io.Reader) ([]Document, error) {
	var data []byte
	var err error
	name := path
	if path == "-" {
		name = "-"
		data, err = io.ReadAll(io.LimitReader(stdin, MaxSize+1))
	} else {
		data, err = readFile(path)
	}
	if err != nil {
		return nil, exit.Usagef("-f %s: %v", path, err)
	}
	if len(data) > MaxSize {
		return nil, exit.Usagef("-f %s: larger than %d MiB", path, MaxSize>>20)
	}
	if path != "-" {
		name = filepath.Base(path)
	}
	return Parse(name, data)
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxSize+1))
}

// Parse splits data into documents named name#1, name#2, ...
func Parse(name string, data []byte) ([]Document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []Document
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, exit.Usagef("%s#%d: not valid YAML or JSON: %v", name, i, cleanYAMLError(err))
		}
		if len(n.Content) == 0 || (n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			i--
			continue
		}
		docs = append(docs, Document{Source: fmt.Sprintf("%s#%d", name, i), node: n.Content[0]})
	}
	if len(docs) == 0 {
		return nil, exit.Usagef("%s: no documents", name)
	}
	return docs, nil
}

func cleanYAMLError(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// Hinter is a request type that explains a field's shape when a document
// gives the wrong type (an SD-WAN role written as a bare name).
type Hinter interface {
	// ManifestHint returns advice for field (a dotted JSON path) that got a
	// value of JSON type got, or "".
	ManifestHint(field, got string) string
}

// Decode checks the document's fields against v's JSON field names and
// decodes it into v (a pointer to a request struct). Every unknown field and
// type mismatch is reported, each naming the document and the field.
func (d Document) Decode(v any) []exit.Problem {
	if d.node.Kind != yaml.MappingNode {
		return []exit.Problem{{Source: d.Source, Field: "(document)", Rule: "must be a mapping of the vendor's request fields"}}
	}
	allowed := jsonFields(reflect.TypeOf(v))
	var problems []exit.Problem
	for i := 0; i+1 < len(d.node.Content); i += 2 {
		k := d.node.Content[i]
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			problems = append(problems, exit.Problem{Source: d.Source, Field: "(key)", Rule: "field names must be plain strings"})
			continue
		}
		if _, ok := allowed[key]; !ok {
			field := key
			if field == "" {
				field = `""` // an empty key ("? " or `"": x`) still needs a visible name
			}
			problems = append(problems, exit.Problem{Source: d.Source, Field: field, Rule: unknownRule(key, allowed)})
		}
	}
	var generic any
	if err := d.node.Decode(&generic); err != nil {
		return append(problems, exit.Problem{Source: d.Source, Field: "(document)", Rule: cleanYAMLError(err)})
	}
	// The fields named above as unknown are left out, so that the known
	// ones are still decoded and checked: every problem at once.
	generic = jsonable(generic)
	if m, ok := generic.(map[string]any); ok && len(problems) > 0 {
		for k := range m {
			if _, known := allowed[k]; !known {
				delete(m, k)
			}
		}
	}
	data, err := json.Marshal(generic)
	if err != nil {
		return []exit.Problem{{Source: d.Source, Field: "(document)", Rule: err.Error()}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// Strict all the way down: a misspelt field of a nested object (an
	// SD-WAN custom role's "permisions") is an error, not dropped. This is
	// the manifest's rule, set here; the request types themselves decode
	// leniently, since server answers use them too.
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			rule := "must be " + typeName(te.Type) + ", not " + te.Value
			if h, ok := v.(Hinter); ok {
				if hint := h.ManifestHint(te.Field, te.Value); hint != "" {
					rule += ": " + hint
				}
			}
			return append(problems, exit.Problem{Source: d.Source, Field: te.Field, Rule: rule})
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return append(problems, exit.Problem{Source: d.Source, Field: "(nested object)", Rule: "unknown field " + name})
		}
		return append(problems, exit.Problem{Source: d.Source, Field: "(document)", Rule: err.Error()})
	}
	return problems
}

// Fatal reports whether Decode's problems leave nothing worth checking
// further: the document is not a mapping, or not valid YAML. After other
// problems (unknown fields, a field of the wrong type) the rest of the
// value is decoded, and its checks belong in the same report.
func Fatal(ps []exit.Problem) bool {
	for _, p := range ps {
		if p.Field == "(document)" {
			return true
		}
	}
	return false
}

// Combine adds a document's checks to its Decode problems, leaving out the
// checks of a field Decode already reported (a field of the wrong type is
// also empty; "required" would say the same thing twice).
func Combine(decode, checks []exit.Problem) []exit.Problem {
	if len(decode) == 0 {
		return checks
	}
	reported := map[string]bool{}
	for _, p := range decode {
		reported[p.Source+"\x00"+p.Field] = true
	}
	out := append([]exit.Problem(nil), decode...)
	for _, p := range checks {
		if !reported[p.Source+"\x00"+p.Field] {
			out = append(out, p)
		}
	}
	return out
}

// JSON returns the document as JSON, whatever its shape (`tokenctl api -f`
// sends any body). Mapping keys come out sorted.
func (d Document) JSON() (json.RawMessage, error) {
	var generic any
	if err := d.node.Decode(&generic); err != nil {
		return nil, exit.Usagef("%s: %s", d.Source, cleanYAMLError(err))
	}
	data, err := json.Marshal(jsonable(generic))
	if err != nil {
		return nil, exit.Usagef("%s: %v", d.Source, err)
	}
	return data, nil
}

// jsonable turns YAML's map[any]any-free output into JSON-encodable values
// (yaml.v3 gives map[string]any, but timestamps arrive as time.Time).
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	case fmt.Stringer:
		return x.String()
	default:
		return v
	}
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Pointer:
		return typeName(t.Elem())
	}
	return t.String()
}

// jsonFields lists the JSON names of a struct's fields (embedded structs
// flattened).
func jsonFields(t reflect.Type) map[string]struct{} {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	out := map[string]struct{}{}
	if t.Kind() != reflect.Struct {
		return out
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			for k := range jsonFields(f.Type) {
				out[k] = struct{}{}
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = struct{}{}
	}
	return out
}

// Fields lists v's accepted manifest fields, sorted (for help and errors).
func Fields(v any) []string {
	m := jsonFields(reflect.TypeOf(v))
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func unknownRule(key string, allowed map[string]struct{}) string {
	// Suggest the closest name when it is close relative to the key's length.
	best, bestD := "", max(3, len(key)/2)
	names := make([]string, 0, len(allowed))
	for k := range allowed {
		names = append(names, k)
		if d := suggest.Distance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	sort.Strings(names)
	if best != "" {
		return fmt.Sprintf("unknown field (did you mean %q?)", best)
	}
	return "unknown field; accepted: " + strings.Join(names, ", ")
}
