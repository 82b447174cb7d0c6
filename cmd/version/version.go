// Package version is `tokenctl version`.
package version

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/tokenctl/tokenctl/internal/cmdutil"
	"github.com/tokenctl/tokenctl/internal/output"
)

// Info is version's JSON output.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	// Modified: built from a work tree with uncommitted changes.
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
	OS       string `json:"os"`
	Arch     string `json:"arch"`
}

// NewCmdVersion builds `tokenctl version`.
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print tokenctl's version",
		Long:  "Print tokenctl's version, commit, build date, Go version and platform (also: tokenctl --version).",
		Example: `  tokenctl version
  tokenctl version -o json --jq .version`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b := f.Build
			info := Info{Version: b.Version, Commit: b.Commit, Date: b.Date, Modified: b.Modified, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
			kind := output.Kind{Noun: "version", IDField: "version"}
			o, err := f.OutputFor(kind, output.One)
			if err != nil {
				return err
			}
			if o.IsTable() {
				_, err := fmt.Fprintln(f.IOStreams.Out, Line(b))
				return err
			}
			raw, err := output.MarshalJSON(info)
			if err != nil {
				return err
			}
			return f.Printer(o).Object(raw, kind)
		},
	}
}

// Line is the one-line version of `tokenctl version` and `tokenctl --version`.
func Line(b cmdutil.BuildInfo) string {
	commit := b.Commit
	if b.Modified {
		commit += ", modified"
	}
	return fmt.Sprintf("tokenctl %s (commit %s, built %s, %s %s/%s)", b.Version, commit, b.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
