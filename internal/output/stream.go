package output

import (
	"io"
	"sync"
	"time"
)

// streamWriter batches a list's many small writes (one per item) into
// writes of up to 64 KiB, so that printing 100,000 items costs a few
// thousand system calls instead of 100,000. It still streams: what it holds
// is written within flushDelay, even while the next page is being fetched.
type streamWriter struct {
	mu    sync.Mutex
	w     io.Writer
	buf   []byte
	timer *time.Timer
	err   error
}

const (
	streamChunk = 64 << 10
	flushDelay  = 100 * time.Millisecond
)

func newStreamWriter(w io.Writer) *streamWriter {
	return &streamWriter{w: w}
}

func (s *streamWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	s.buf = append(s.buf, p...)
	if len(s.buf) >= streamChunk {
		return len(p), s.flushLocked()
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(flushDelay, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.timer = nil
			s.flushLocked()
		})
	}
	return len(p), nil
}

// Flush writes what is held and stops the timer.
func (s *streamWriter) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	return s.flushLocked()
}

func (s *streamWriter) flushLocked() error {
	if s.err != nil || len(s.buf) == 0 {
		return s.err
	}
	_, s.err = s.w.Write(s.buf)
	s.buf = s.buf[:0]
	return s.err
}
