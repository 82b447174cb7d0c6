// Command floor is the least a Go program can do for two of the
// benchmark's rows, to show what part of tokenctl's time is Go's own:
//
//	floor get URL      one GET with Basic auth (user admin, password from
//	                   $BENCH_PW), the JSON body indented on stdout, as
//	                   `tokenctl token get ID -o json` prints it
//	floor version      one line on stdout, as `tokenctl version`
//
// It checks the status and that the body is JSON, and does nothing else:
// no config, no flags, no retries, no command tree.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "version" {
		fmt.Printf("floor (%s %s/%s)\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return
	}
	if len(os.Args) != 3 || os.Args[1] != "get" {
		fmt.Fprintln(os.Stderr, "usage: floor get URL | floor version")
		os.Exit(2)
	}
	req, err := http.NewRequest(http.MethodGet, os.Args[2], nil)
	if err != nil {
		fail(err)
	}
	req.SetBasicAuth("admin", os.Getenv("BENCH_PW"))
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fail(err)
	}
	if resp.StatusCode != http.StatusOK {
		fail(fmt.Errorf("%s: %s", resp.Status, body))
	}
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(body), "", "  "); err != nil {
		fail(err)
	}
	out.WriteByte('\n')
	os.Stdout.Write(out.Bytes())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "floor:", err)
	os.Exit(1)
}
