// Package build carries the version stamped at link time:
//
//	go build -ldflags "-X github.com/tokenctl/tokenctl/internal/build.Version=1.2.3 \
//	  -X github.com/tokenctl/tokenctl/internal/build.Commit=abc123 \
//	  -X github.com/tokenctl/tokenctl/internal/build.Date=2026-11-25T00:00:00Z"
//
// A binary built without them (`go install github.com/tokenctl/tokenctl@v1.2.3`,
// `go build` in a clone) reports what the Go toolchain recorded instead: the
// module version, and the VCS revision, time and modified flag.
package build

import (
	"runtime/debug"
	"strings"
	"sync"
)

// Set by -ldflags -X; these are the only package variables in tokenctl and
// nothing writes them at run time.
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)

// Info is what a binary knows about its own build.
type Info struct {
	Version string
	Commit  string
	Date    string
	// Modified: built from a work tree with uncommitted changes.
	Modified bool
}

// Get returns the build's info: the -ldflags values when set, else the
// Go toolchain's record (read once).
var Get = sync.OnceValue(func() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(Version, Commit, Date, bi)
})

// resolve prefers stamped values and fills the rest from bi.
func resolve(version, commit, date string, bi *debug.BuildInfo) Info {
	info := Info{Version: version, Commit: commit, Date: date}
	if bi == nil {
		return info
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	modVersion := bi.Main.Version
	if info.Version == "dev" && modVersion != "" && modVersion != "(devel)" {
		info.Version = strings.TrimPrefix(modVersion, "v")
	}
	pseudoTime, pseudoRev := pseudoVersion(modVersion)
	if info.Commit == "none" {
		switch {
		case settings["vcs.revision"] != "":
			info.Commit = settings["vcs.revision"]
		case pseudoRev != "":
			info.Commit = pseudoRev
		}
	}
	if info.Date == "unknown" {
		switch {
		case settings["vcs.time"] != "":
			info.Date = settings["vcs.time"]
		case pseudoTime != "":
			info.Date = pseudoTime
		}
	}
	info.Modified = settings["vcs.modified"] == "true"
	return info
}

// pseudoVersion reads the commit time and revision prefix out of a Go
// pseudo-version (v0.0.0-20260102030405-abcdef123456, also v1.2.4-0.2026...
// and v1.2.3-pre.0.2026...), which is all a binary installed from a module
// proxy knows of its commit. Anything else gives "", "".
func pseudoVersion(v string) (date, rev string) {
	v = strings.TrimSuffix(v, "+incompatible")
	parts := strings.Split(v, "-")
	if len(parts) < 3 {
		return "", ""
	}
	rev, ts := parts[len(parts)-1], parts[len(parts)-2]
	if i := strings.LastIndexByte(ts, '.'); i >= 0 {
		ts = ts[i+1:]
	}
	if len(rev) != 12 || len(ts) != 14 || strings.Trim(rev, "0123456789abcdef") != "" || strings.Trim(ts, "0123456789") != "" {
		return "", ""
	}
	return ts[0:4] + "-" + ts[4:6] + "-" + ts[6:8] + "T" + ts[8:10] + ":" + ts[10:12] + ":" + ts[12:14] + "Z", rev
}
