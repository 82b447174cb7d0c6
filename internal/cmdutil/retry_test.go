package cmdutil

import (
	"testing"
	"time"

	"github.com/tokenctl/tokenctl/internal/exit"
)

func TestRetryBaseWaitEnv(t *testing.T) {
	t.Setenv(RetryBaseWaitEnv, "")
	if d, err := RetryBaseWait(); d != 0 || err != nil {
		t.Fatalf("unset: %v %v", d, err)
	}
	t.Setenv(RetryBaseWaitEnv, "5ms")
	if d, err := RetryBaseWait(); d != 5*time.Millisecond || err != nil {
		t.Fatalf("5ms: %v %v", d, err)
	}
	for _, bad := range []string{"soon", "-1s", "0"} {
		t.Setenv(RetryBaseWaitEnv, bad)
		if _, err := RetryBaseWait(); exit.CodeOf(err) != exit.Usage {
			t.Errorf("%q: %v, want a usage error", bad, err)
		}
	}
}
