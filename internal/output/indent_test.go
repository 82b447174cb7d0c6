package output

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/iostreams"
)

func TestAppendIndentMatchesEncodingJSON(t *testing.T) {
	for _, src := range []string{
		`{"a":1,"b":[true,false,null,{}],"c":{"d":[],"e":"x\"y\\z\u00e9\n"},"f":-0.5e+10}`,
		` [ 1 , [ ] , { } , [ [ "]" ] ] ] `,
		`"just a string"`, `0`, `-12.5E-3`, `{"k":"` + strings.Repeat(`abcdefgh\n`, 40) + `"}`,
	} {
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(strings.TrimSpace(src)), "  ", "  "); err != nil {
			t.Fatal(err)
		}
		got, err := appendIndent([]byte("P:"), []byte(src), "  ", "  ")
		if err != nil || string(got) != "P:"+want.String() {
			t.Errorf("%s:\n got %q %v\nwant %q", src, got, err, want.String())
		}
	}
}

func TestAppendIndentRejectsWhatEncodingJSONRejects(t *testing.T) {
	for _, src := range []string{
		``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{1:2}`, `"tab	in string"`, `"bad \x escape"`,
		`"\u12G4"`, `01`, `1.`, `1e`, `-`, `tru`, `nulll`, `{"a":1}x`, `"unterminated`, `[}`,
	} {
		if _, err := appendIndent(nil, []byte(src), "", "  "); err == nil {
			t.Errorf("%q accepted", src)
		}
	}
}

// FuzzAppendIndent requires the fast indenter to accept exactly what
// encoding/json accepts and to produce json.Indent's bytes.
func FuzzAppendIndent(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":"c\"\\"}],"d":{}}`))
	f.Add([]byte(`[-0.0e+1,true,false,null,"\u00e9"]`))
	f.Add([]byte(`{"a":"x` + "\x01" + `"}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		src = bytes.TrimRight(src, " \t\r\n") // json.Indent keeps trailing space; lists never have any
		var want bytes.Buffer
		wantErr := json.Indent(&want, src, "  ", "  ")
		got, err := appendIndent(nil, src, "  ", "  ")
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, encoding/json says %v", src, err, wantErr)
		}
		if err == nil && string(got) != want.String() {
			t.Fatalf("%q:\n got %q\nwant %q", src, got, want.String())
		}
	})
}

// lockedBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestStreamWriterBatchesAndStillStreams(t *testing.T) {
	var dst lockedBuffer
	w := newStreamWriter(&dst)
	io.WriteString(w, "first")
	if dst.String() != "" {
		t.Fatal("a small write went straight through")
	}
	// What is held reaches the writer without another write or Flush.
	for deadline := time.Now().Add(10 * time.Second); dst.String() != "first"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("held data was never flushed")
		}
	}
	big := strings.Repeat("x", streamChunk)
	io.WriteString(w, big)
	if dst.String() != "first"+big {
		t.Fatal("a full chunk was held back")
	}
	io.WriteString(w, "tail")
	if err := w.Flush(); err != nil || dst.String() != "first"+big+"tail" {
		t.Fatalf("flush: %v", err)
	}
}

func TestJSONListIsValidAndIndented(t *testing.T) {
	out, _ := run(t, Options{Format: JSON}, false, list(a, b))
	var items []map[string]any
	if err := json.Unmarshal([]byte(out), &items); err != nil || len(items) != 2 {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.HasPrefix(out, "[\n  {\n    \"id\": \"a1\",") || !strings.HasSuffix(out, "\n  }\n]\n") {
		t.Fatalf("layout:\n%s", out)
	}
	ios, _, _, _ := iostreams.Test()
	l := New(ios, Options{Format: JSON}).List(kind)
	if err := l.Add(json.RawMessage(`{"a":1,}`)); err == nil || !strings.Contains(err.Error(), "server sent invalid JSON") {
		t.Fatalf("invalid item: %v", err)
	}
}
