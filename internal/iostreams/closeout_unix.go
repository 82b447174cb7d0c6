//go:build unix

package iostreams

import (
	"os"

	"golang.org/x/sys/unix"
)

// closeStdout puts /dev/null on file descriptor 1, which closes the pipe or
// file there in one step; a bare close would let the next file opened take
// descriptor 1 and receive anything later written to stdout.
func closeStdout() error {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	return unix.Dup2(int(null.Fd()), int(os.Stdout.Fd()))
}
