package iostreams

import (
	"io"
	"os"
)

// CloseOut ends stdout early, so that a pipe's reader sees the end of its
// input while tokenctl goes on (`token create ... --wait | sh` waits after
// printing the script). Later writes to Out are discarded. Streams that are
// not the process's stdout are closed if they can be.
func (s *IOStreams) CloseOut() error {
	out := s.Out
	s.Out = io.Discard
	if f, ok := out.(*os.File); ok && f == os.Stdout {
		return closeStdout()
	}
	if c, ok := out.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
