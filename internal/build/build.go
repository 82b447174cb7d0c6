// Package build carries the version stamped at link time:
//
//	go build -ldflags "-X github.com/tokenctl/tokenctl/internal/build.Version=1.2.3 \
//	  -X github.com/tokenctl/tokenctl/internal/build.Commit=abc123 \
//	  -X github.com/tokenctl/tokenctl/internal/build.Date=2026-11-25T00:00:00Z"
package build

// Set by -ldflags -X; these are the only package variables in tokenctl and
// nothing writes them at run time.
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)
