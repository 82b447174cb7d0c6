package escape

import (
	"errors"
	"testing"
)

func TestTextEscapesControlCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"plain name-01":                   "plain name-01",
		"Zürich ☃ 東京":                     "Zürich ☃ 東京",
		"red \x1b[31mALERT\x1b[0m":        `red \x1b[31mALERT\x1b[0m`,
		"title \x1b]0;pwned\x07":          `title \x1b]0;pwned\x07`,
		"clear \x1b[2J\x1b[H":             `clear \x1b[2J\x1b[H`,
		"row\nfake-id  AVAILABLE":         `row\nfake-id  AVAILABLE`,
		"cr\roverwrite":                   `cr\roverwrite`,
		"tab\there":                       `tab\there`,
		"del\x7f":                         `del\x7f`,
		"c1 csi \u009b31m":                `c1 csi \u009b31m`,
		"bidi \u202eevil\u202c":           `bidi \u202eevil\u202c`,
		"bad utf-8 \xff\xfe":              `bad utf-8 \xff\xfe`,
		"nul\x00":                         `nul\x00`,
		"":                                "",
		"\x1b":                            `\x1b`,
		"ends with a newline\n":           `ends with a newline\n`,
		"emoji 🙂 and a bell\a at the end": `emoji 🙂 and a bell\x07 at the end`,
	} {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMessageKeepsNewlinesOnly(t *testing.T) {
	in := "create failed: HTTP 400\n  - name: bad \x1b[2J\r\nhint"
	want := "create failed: HTTP 400\n  - name: bad \\x1b[2J\\r\nhint"
	if got := Message(in); got != want {
		t.Fatalf("Message = %q, want %q", got, want)
	}
}

type stringer string

func (s stringer) String() string { return string(s) }

func TestArgs(t *testing.T) {
	got := Args([]any{"a\nb", 7, errors.New("x\ny\x1b"), stringer("s\x1b")})
	if got[0] != `a\nb` || got[1] != 7 || got[2] != "x\ny\\x1b" || got[3] != `s\x1b` {
		t.Fatalf("Args = %#v", got)
	}
}

func TestTextDoesNotAllocateForPlainText(t *testing.T) {
	s := "dal-dc2-ndr-00001 aad3ff20-ad06-49bb-ad0a-a074c7287675 Zürich"
	if n := testing.AllocsPerRun(100, func() { _ = Text(s) }); n != 0 {
		t.Fatalf("%v allocations for text with nothing to escape", n)
	}
}

func TestLogKeepsNewlinesAndTabs(t *testing.T) {
	if got, want := Log("HEADERS:\n\tX: \x1b[2J\r\n"), "HEADERS:\n\tX: \\x1b[2J\\r\n"; got != want {
		t.Errorf("Log = %q, want %q", got, want)
	}
	if got := Message("a\tb"); got != `a\tb` {
		t.Errorf("Message keeps tabs: %q", got)
	}
}
