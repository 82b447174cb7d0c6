package output

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// appendIndent appends src, a JSON value, to dst indented like
// json.Indent(dst, src, prefix, indent) would, and validates it as fully.
// encoding/json's Indent runs a byte-at-a-time state machine at well under
// 100 MB/s, which made printing 100,000 sensors slower than fetching them;
// this copies strings and numbers in runs.
func appendIndent(dst, src []byte, prefix, indent string) ([]byte, error) {
	in := indenter{dst: dst, src: src, prefix: prefix, indent: indent}
	in.space()
	if err := in.value(0); err != nil {
		return dst, err
	}
	in.space()
	if in.i < len(in.src) {
		return dst, in.errorf("invalid character %q after the value", in.src[in.i])
	}
	return in.dst, nil
}

// appendCompact appends src, a JSON value, to dst without insignificant
// whitespace, as json.Compact would, validating it as appendIndent does
// (-o jsonl).
func appendCompact(dst, src []byte) ([]byte, error) {
	in := indenter{dst: dst, src: src, compact: true}
	in.space()
	if err := in.value(0); err != nil {
		return dst, err
	}
	in.space()
	if in.i < len(in.src) {
		return dst, in.errorf("invalid character %q after the value", in.src[in.i])
	}
	return in.dst, nil
}

// maxDepth matches encoding/json's nesting limit.
const maxDepth = 10000

type indenter struct {
	dst, src       []byte
	i              int
	prefix, indent string
	// compact drops all whitespace between tokens (appendCompact).
	compact bool
}

var errEnd = errors.New("unexpected end of JSON input")

func (in *indenter) errorf(format string, args ...any) error {
	return fmt.Errorf(format+" at offset %d", append(args, in.i)...)
}

func (in *indenter) space() {
	for in.i < len(in.src) {
		switch in.src[in.i] {
		case ' ', '\t', '\n', '\r':
			in.i++
		default:
			return
		}
	}
}

func (in *indenter) newline(depth int) {
	if in.compact {
		return
	}
	in.dst = append(in.dst, '\n')
	in.dst = append(in.dst, in.prefix...)
	for range depth {
		in.dst = append(in.dst, in.indent...)
	}
}

func (in *indenter) value(depth int) error {
	if in.i >= len(in.src) {
		return errEnd
	}
	switch c := in.src[in.i]; {
	case c == '{':
		return in.container(depth, '}')
	case c == '[':
		return in.container(depth, ']')
	case c == '"':
		return in.str()
	case c == 't':
		return in.literal("true")
	case c == 'f':
		return in.literal("false")
	case c == 'n':
		return in.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return in.number()
	default:
		return in.errorf("invalid character %q looking for a value", c)
	}
}

// container indents an object (end '}') or an array (end ']'); empty ones
// stay "{}" and "[]", as json.Indent leaves them.
func (in *indenter) container(depth int, end byte) error {
	if depth >= maxDepth {
		return in.errorf("nesting deeper than %d", maxDepth)
	}
	in.dst = append(in.dst, in.src[in.i])
	in.i++
	in.space()
	if in.i < len(in.src) && in.src[in.i] == end {
		in.dst = append(in.dst, end)
		in.i++
		return nil
	}
	for {
		in.newline(depth + 1)
		if end == '}' {
			if in.i >= len(in.src) {
				return errEnd
			}
			if in.src[in.i] != '"' {
				return in.errorf("invalid character %q looking for an object key", in.src[in.i])
			}
			if err := in.str(); err != nil {
				return err
			}
			in.space()
			if in.i >= len(in.src) {
				return errEnd
			}
			if in.src[in.i] != ':' {
				return in.errorf("invalid character %q after an object key", in.src[in.i])
			}
			in.i++
			if in.compact {
				in.dst = append(in.dst, ':')
			} else {
				in.dst = append(in.dst, ':', ' ')
			}
			in.space()
		}
		if err := in.value(depth + 1); err != nil {
			return err
		}
		in.space()
		if in.i >= len(in.src) {
			return errEnd
		}
		switch c := in.src[in.i]; c {
		case ',':
			in.dst = append(in.dst, ',')
			in.i++
			in.space()
		case end:
			in.newline(depth)
			in.dst = append(in.dst, end)
			in.i++
			return nil
		default:
			return in.errorf("invalid character %q after an element", c)
		}
	}
}

// strSafe marks the bytes a string copies without a closer look.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipSafe returns the index of the first byte at or after i that is a
// quote, a backslash or a control character, eight bytes at a time.
func skipSafe(src []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(src) {
		x := binary.LittleEndian.Uint64(src[i:])
		quote := x ^ (ones * '"')
		backslash := x ^ (ones * '\\')
		// A byte is flagged when it is below 0x20, or zero after the XORs.
		flagged := ((x - ones*0x20) | (quote - ones) | (backslash - ones)) & ^x & highs
		if flagged != 0 {
			break
		}
		i += 8
	}
	for i < len(src) && strSafe[src[i]] {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// str copies a string, checking its escapes and that it has no control
// characters.
func (in *indenter) str() error {
	start := in.i
	in.i++
	for {
		in.i = skipSafe(in.src, in.i)
		if in.i >= len(in.src) {
			return errEnd
		}
		switch c := in.src[in.i]; c {
		case '"':
			in.i++
			in.dst = append(in.dst, in.src[start:in.i]...)
			return nil
		case '\\':
			if in.i+1 >= len(in.src) {
				return errEnd
			}
			switch in.src[in.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				in.i += 2
			case 'u':
				if in.i+6 > len(in.src) {
					return errEnd
				}
				for _, h := range in.src[in.i+2 : in.i+6] {
					if !isHex(h) {
						return in.errorf("invalid character %q in \\u escape", h)
					}
				}
				in.i += 6
			default:
				return in.errorf("invalid escape \\%c in a string", in.src[in.i+1])
			}
		default:
			return in.errorf("invalid control character %q in a string", c)
		}
	}
}

func (in *indenter) literal(lit string) error {
	if len(in.src)-in.i < len(lit) || string(in.src[in.i:in.i+len(lit)]) != lit {
		return in.errorf("invalid literal, want %s", lit)
	}
	in.dst = append(in.dst, lit...)
	in.i += len(lit)
	return nil
}

// number checks JSON's number grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (in *indenter) number() error {
	start := in.i
	digits := func() int {
		n := 0
		for in.i < len(in.src) && in.src[in.i] >= '0' && in.src[in.i] <= '9' {
			in.i++
			n++
		}
		return n
	}
	if in.src[in.i] == '-' {
		in.i++
	}
	if in.i < len(in.src) && in.src[in.i] == '0' {
		in.i++
	} else if digits() == 0 {
		return in.errorf("invalid number")
	}
	if in.i < len(in.src) && in.src[in.i] == '.' {
		in.i++
		if digits() == 0 {
			return in.errorf("invalid number: no digits after the decimal point")
		}
	}
	if in.i < len(in.src) && (in.src[in.i] == 'e' || in.src[in.i] == 'E') {
		in.i++
		if in.i < len(in.src) && (in.src[in.i] == '+' || in.src[in.i] == '-') {
			in.i++
		}
		if digits() == 0 {
			return in.errorf("invalid number: no digits in the exponent")
		}
	}
	in.dst = append(in.dst, in.src[start:in.i]...)
	return nil
}
