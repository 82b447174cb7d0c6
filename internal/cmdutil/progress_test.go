package cmdutil

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tokenctl/tokenctl/internal/iostreams"
)

func TestRunBulkDrawsProgressOnATerminalOnly(t *testing.T) {
	batch := func(f *Factory) {
		f.RunBulk(context.Background(), "created", []string{"a", "b", "c"}, 1, func(ctx context.Context, i int, pr *Progress) (json.RawMessage, error) {
			f.NoticeAbove(pr, "item %d", i)
			if i == 1 {
				return nil, errors.New("boom")
			}
			return json.RawMessage(`{}`), nil
		})
	}
	ios, _, stdout, stderr := iostreams.Test()
	ios.SetTTY(false, false, true)
	batch(NewFactory(ios, BuildInfo{}))
	got := stderr.String()
	for _, want := range []string{"] 0/3 created", "item 0\n", "] 1/3 created", "] 1/3 created, 1 failed", "] 2/3 created, 1 failed", "[########################] 2/3"} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr lacks %q:\n%q", want, got)
		}
	}
	if !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("the bar is not erased at the end: %q", got)
	}
	if stdout.Len() != 0 {
		t.Errorf("progress on stdout: %q", stdout)
	}

	ios, _, _, stderr = iostreams.Test() // not a terminal: notices only
	batch(NewFactory(ios, BuildInfo{}))
	if got := stderr.String(); got != "item 0\nitem 1\nitem 2\n" {
		t.Errorf("without a terminal: %q", got)
	}
}
