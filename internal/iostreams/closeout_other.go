//go:build !unix

package iostreams

import "os"

func closeStdout() error { return os.Stdout.Close() }
