package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// toYAMLNode parses JSON (which is YAML) into a node tree, keeping the
// vendor's key order, and switches it to block style.
func toYAMLNode(raw json.RawMessage) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(escapeForYAML(raw), &doc); err != nil {
		return nil, fmt.Errorf("server sent invalid JSON: %w", err)
	}
	blockStyle(&doc)
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// escapeForYAML writes DEL and the C1 controls (U+0080..U+009F) in JSON
// strings as \u escapes. JSON allows them raw, YAML does not (its parser
// refuses them), and the values stay the same. Outside strings valid JSON
// has no such bytes, so they can be replaced wherever they are.
func escapeForYAML(raw []byte) []byte {
	i := 0
	for i < len(raw) && raw[i] != 0x7f && !(raw[i] == 0xc2 && i+1 < len(raw) && raw[i+1] >= 0x80 && raw[i+1] < 0xa0) {
		i++
	}
	if i == len(raw) {
		return raw
	}
	out := append(make([]byte, 0, len(raw)+16), raw[:i]...)
	for ; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == 0x7f:
			out = append(out, `\u007f`...)
		case c == 0xc2 && i+1 < len(raw) && raw[i+1] >= 0x80 && raw[i+1] < 0xa0:
			out = fmt.Appendf(out, `\u%04x`, raw[i+1])
			i++
		default:
			out = append(out, c)
		}
	}
	return out
}

func blockStyle(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		n.Style = 0
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			n.Style = 0 // the encoder quotes where YAML needs it
		}
	}
	for _, c := range n.Content {
		blockStyle(c)
	}
}

func encodeYAML(w io.Writer, n *yaml.Node) error {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func writeYAMLDoc(w io.Writer, raw json.RawMessage) error {
	n, err := toYAMLNode(raw)
	if err != nil {
		return err
	}
	return encodeYAML(w, n)
}

// yamlList prints a YAML sequence, one item at a time.
type yamlList struct {
	w io.Writer
	n int
}

func (l *yamlList) Add(raw json.RawMessage) error {
	item, err := toYAMLNode(raw)
	if err != nil {
		return err
	}
	l.n++
	return encodeYAML(l.w, &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{item}})
}

func (l *yamlList) Count() int { return l.n }

func (l *yamlList) Close() error {
	if l.n == 0 {
		_, err := io.WriteString(l.w, "[]\n")
		return err
	}
	return nil
}
