package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/itchyny/gojq"

	"github.com/tokenctl/tokenctl/internal/exit"
)

func compileJQ(expr string) (*gojq.Code, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, err
	}
	return gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
}

// runJQ applies expr to the JSON input and prints each result: strings
// raw, as gh does, everything else as JSON (indented on a terminal).
func runJQ(w io.Writer, expr string, input []byte, tty bool) error {
	code, err := compileJQ(expr)
	if err != nil {
		return exit.Usagef("--jq %q: %v", expr, err)
	}
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("server sent invalid JSON: %w", err)
	}
	v = normalizeNumbers(v)
	iter := code.Run(v)
	for {
		r, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, ok := r.(error); ok {
			if _, halt := err.(*gojq.HaltError); halt {
				return nil
			}
			return exit.Errorf(exit.Error, "--jq: %v", err)
		}
		if s, ok := r.(string); ok {
			if _, err := fmt.Fprintln(w, s); err != nil {
				return err
			}
			continue
		}
		var out []byte
		if tty {
			out, err = json.MarshalIndent(r, "", "  ")
		} else {
			out, err = json.Marshal(r)
		}
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w, string(out)); err != nil {
			return err
		}
	}
}

// normalizeNumbers turns json.Number into the int or float64 gojq expects,
// keeping large integers (epoch ms) exact.
func normalizeNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalizeNumbers(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalizeNumbers(e)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	default:
		return v
	}
}
