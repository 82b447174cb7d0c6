// Command gen writes tokenctl's generated files from the real command tree:
// the command reference (docs/reference/*.md), the man pages
// (docs/man/*.1) and the shell completion scripts (completions/). Run it
// from the module root after changing any command:
//
//	go run ./internal/gen
//
// The output is byte-reproducible (no generation date, no auto-gen tag, no
// machine-dependent defaults), so gen_test.go fails when the committed
// files are stale.
package main

import (
	"fmt"
	"os"
)

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := Generate(dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
