// Package escape makes server-controlled text safe to print for people.
package escape

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Text makes server-controlled text (display names, descriptions, vendor
// messages) safe to print for people: control characters are written as
// Go-style escapes, so a server cannot send a terminal escape sequences
// (colour, window title, clear screen) or start a fake table row or log
// line with a newline. It escapes C0 controls and DEL (\n, \t, \r, \x1b,
// ...), C1 controls (\u009b, the one-byte CSI) and the Unicode bidi
// controls that can make text display in another order than it reads;
// invalid UTF-8 bytes become \x escapes. Anything else passes unchanged,
// and text with nothing to escape is returned as is without allocating.
//
// JSON output needs none of this (encoding escapes controls already); YAML
// output double-quotes such strings with escapes (go.yaml.in/yaml does).
func Text(s string) string { return escape(s, false, false) }

// Message is Text but keeps newlines: for tokenctl's own messages
// (errors with a hint on the next line, lists of problems), which may quote
// server text, as the last step before stderr. Text that could start a
// line of its own must have been escaped with Text where it was quoted.
func Message(s string) string { return escape(s, true, false) }

// Log is Message that also keeps tabs: for the --debug log, whose header
// dumps are laid out with them, and which shows the server's raw headers
// and bodies.
func Log(s string) string { return escape(s, true, true) }

func escape(s string, keepNewline, keepTab bool) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if (c == '\n' && keepNewline) || (c == '\t' && keepTab) {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			break // C0 or DEL
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if mustEscape(r, size) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !mustEscape(r, size) || (r == '\n' && keepNewline) || (r == '\t' && keepTab) {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		switch {
		case r == utf8.RuneError:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < utf8.RuneSelf:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// mustEscape reports whether a decoded rune is escaped: C0, DEL, C1, bidi
// controls, and (size 1 RuneError) an invalid byte.
func mustEscape(r rune, size int) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r >= 0x80 && r < 0xa0:
		return true
	case r == utf8.RuneError && size == 1:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// Args returns args with every string and Stringer escaped (errors
// with Message), for messages that quote server text with a format
// of tokenctl's own.
func Args(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = Text(v)
		case error:
			out[i] = Message(v.Error())
		case fmt.Stringer:
			out[i] = Text(v.String())
		default:
			out[i] = a
		}
	}
	return out
}
