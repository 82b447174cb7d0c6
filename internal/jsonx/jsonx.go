// Package jsonx walks and re-indents JSON that passes through tokenctl
// without decoding it: a page of 1,000 sensors is split into items and each
// item re-indented in one pass over the bytes, several times faster than
// encoding/json's validating scanner, which would read every byte three
// times (find the value, skip it into a RawMessage, indent it).
//
// The walkers check structure (balanced brackets, terminated strings,
// separators), not the spelling of every number or literal: like curl, the
// server's bytes pass through, and anything that decodes them (tables,
// --jq) still reports malformed values.
package jsonx

import (
	"errors"
	"fmt"
)

// ErrSyntax is wrapped by every structural error.
var ErrSyntax = errors.New("malformed JSON")

func syntaxErr(at int, format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", ErrSyntax, at, fmt.Sprintf(format, args...))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-space byte at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at b[i] == '"'.
func stringEnd(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		case '\n', '\r':
			return 0, syntaxErr(j, "newline in string")
		}
	}
	return 0, syntaxErr(i, "unterminated string")
}

// ValueEnd returns the index just past the JSON value that starts at the
// first non-space byte at or after i.
func ValueEnd(b []byte, i int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, syntaxErr(i, "unexpected end")
	}
	switch c := b[i]; c {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := stringEnd(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
				if depth < 0 {
					return 0, syntaxErr(j, "unbalanced %q", b[j])
				}
			}
		}
		return 0, syntaxErr(i, "unterminated %q", c)
	case '}', ']', ',', ':':
		return 0, syntaxErr(i, "unexpected %q", c)
	default:
		j := i
		for j < len(b) && !isSpace(b[j]) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ':' {
			j++
		}
		return j, nil
	}
}

// Object walks the members of the JSON object in b, calling fn with each
// key (its raw bytes between the quotes) and value (raw bytes).
func Object(b []byte, fn func(key, value []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return syntaxErr(i, "expected an object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return trailing(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return syntaxErr(i, "expected a key")
		}
		kend, err := stringEnd(b, i)
		if err != nil {
			return err
		}
		key := b[i+1 : kend-1]
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return syntaxErr(i, "expected ':'")
		}
		vstart := skipSpace(b, i+1)
		vend, err := ValueEnd(b, vstart)
		if err != nil {
			return err
		}
		if err := fn(key, b[vstart:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return syntaxErr(i, "unterminated object")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return trailing(b, i+1)
		default:
			return syntaxErr(i, "expected ',' or '}'")
		}
	}
}

// Array walks the elements of the JSON array in b.
func Array(b []byte, fn func(elem []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return syntaxErr(i, "expected an array")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return trailing(b, i+1)
	}
	for {
		end, err := ValueEnd(b, i)
		if err != nil {
			return err
		}
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) {
			return syntaxErr(i, "unterminated array")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return trailing(b, i+1)
		default:
			return syntaxErr(i, "expected ',' or ']'")
		}
	}
}

func trailing(b []byte, i int) error {
	if i = skipSpace(b, i); i != len(b) {
		return syntaxErr(i, "data after the value")
	}
	return nil
}

// AppendIndent appends src re-indented like json.Indent(dst, src, prefix,
// indent): one member or element per line, "key": value, empty objects and
// arrays as {} and []. src must be structurally valid JSON (as returned by
// the walkers above).
func AppendIndent(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for k := 0; k < depth; k++ {
			dst = append(dst, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			end, err := stringEnd(src, i)
			if err != nil {
				end = len(src)
			}
			dst = append(dst, src[i:end]...)
			i = end - 1
		case '{', '[':
			dst = append(dst, c)
			j := skipSpace(src, i+1)
			if j < len(src) && (src[j] == '}' || src[j] == ']') {
				dst = append(dst, src[j])
				i = j
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			dst = append(dst, c)
		case ',':
			dst = append(dst, ',')
			newline()
		case ':':
			dst = append(dst, ':', ' ')
		default:
			j := i
			for j < len(src) && !isSpace(src[j]) && src[j] != ',' && src[j] != '}' && src[j] != ']' && src[j] != ':' {
				j++
			}
			dst = append(dst, src[i:j]...)
			i = j - 1
		}
	}
	return dst
}
