package actionproxy

import (
	"io"
	"os"
	"sync"
)

// SharedWriter returns w made safe for several writers at once: the copies of
// a child's output, the sentinels Invoke appends, and whatever else the
// caller writes there (the gateway's own log lines). A file is written by the
// children themselves, each write whole, so it needs no lock and keeps the
// order of log lines and sentinels exact; anything else gets one lock for all
// of them. nil stays nil.
func SharedWriter(w io.Writer) io.Writer {
	switch w.(type) {
	case nil:
		return nil
	case *os.File:
		return w
	default:
		return &lockedWriter{w: w}
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
