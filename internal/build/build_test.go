package build

import (
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Path: "github.com/tokenctl/tokenctl", Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-02-03T04:05:06Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	cases := []struct {
		name                  string
		version, commit, date string
		bi                    *debug.BuildInfo
		want                  Info
	}{
		{"ldflags win", "1.2.3", "abc", "2026-01-01T00:00:00Z", vcs, Info{"1.2.3", "abc", "2026-01-01T00:00:00Z", true}},
		{"go build in a clone", "dev", "none", "unknown", vcs, Info{"dev", "0123456789abcdef0123456789abcdef01234567", "2026-02-03T04:05:06Z", true}},
		{"go install @v1.4.0", "dev", "none", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, Info{"1.4.0", "none", "unknown", false}},
		{"go install @commit", "dev", "none", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260102030405-abcdef123456"}},
			Info{"0.0.0-20260102030405-abcdef123456", "abcdef123456", "2026-01-02T03:04:05Z", false}},
		{"pre-release pseudo", "dev", "none", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.4-0.20260102030405-abcdef123456"}},
			Info{"1.2.4-0.20260102030405-abcdef123456", "abcdef123456", "2026-01-02T03:04:05Z", false}},
		{"no record", "dev", "none", "unknown", nil, Info{"dev", "none", "unknown", false}},
		{"devel without vcs", "dev", "none", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, Info{"dev", "none", "unknown", false}},
		{"release with a dash", "dev", "none", "unknown", &debug.BuildInfo{Main: debug.Module{Version: "v2.0.0-rc-1"}}, Info{"2.0.0-rc-1", "none", "unknown", false}},
	}
	for _, c := range cases {
		if got := resolve(c.version, c.commit, c.date, c.bi); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
