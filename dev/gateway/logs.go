package gateway

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/apache/openserverless-deployer/dev/actionproxy"
)

// maxLogLines bounds the lines one activation record keeps.
const maxLogLines = 1000

// processLogs splits the output of one action process into activations, as
// the invoker does: what a stream carries up to the sentinel the proxy
// writes after each activation belongs to that activation. Everything is
// also copied to the gateway's log. The child writes into pipes, and the
// proxy writes its sentinels into the same pipes after the result, so the
// order of the lines and the sentinels is exact.
type processLogs struct {
	stdout, stderr *os.File // the write ends, the child's and the sentinels'
	batches        [2]chan []logLine
	closers        []io.Closer
}

type logLine struct {
	at   time.Time
	text string
}

// newProcessLogs makes the pipes of a process's output; close releases them.
func newProcessLogs(out io.Writer) (*processLogs, error) {
	l := &processLogs{}
	for i, name := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			l.close()
			return nil, fmt.Errorf("making the %s pipe: %w", name, err)
		}
		l.closers = append(l.closers, r, w)
		l.batches[i] = make(chan []logLine, 8)
		if i == 0 {
			l.stdout = w
		} else {
			l.stderr = w
		}
		s := &logStream{name: name, out: out, batches: l.batches[i]}
		go func() { _, _ = io.Copy(s, r) }()
	}
	return l, nil
}

// take returns the lines of the activation that just ended, oldest first,
// in the controller's form: "<RFC 3339 time> stdout: <text>". It waits a
// little for the sentinels to come through the pipes: two seconds for both
// streams together, after which a stream that has not delivered is not
// waited for (a process being stopped may never deliver). A processLogs
// without pipes (a stopping process's) has no lines.
func (l *processLogs) take() []string {
	var lines []logLine
	expired := make(chan struct{})
	timer := time.AfterFunc(2*time.Second, func() { close(expired) })
	defer timer.Stop()
	for _, ch := range l.batches {
		if ch == nil {
			continue
		}
		select {
		case b := <-ch:
			lines = append(lines, b...)
		case <-expired:
			select { // the wait is over; a batch already there still counts
			case b := <-ch:
				lines = append(lines, b...)
			default:
			}
		}
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	if len(lines) > maxLogLines {
		lines = append(lines[:maxLogLines-1], logLine{time.Now(), formatLogLine(time.Now(), "stderr", "Logs were truncated because the total bytes size exceeds the limit.")})
	}
	out := make([]string, 0, len(lines))
	for _, ln := range lines {
		out = append(out, ln.text)
	}
	return out
}

// close closes both pipes, once the process is gone.
func (l *processLogs) close() {
	for _, c := range l.closers {
		_ = c.Close()
	}
}

// logStream reads one of a process's two output streams.
type logStream struct {
	name    string
	out     io.Writer
	batches chan<- []logLine
	mu      sync.Mutex
	partial []byte
	lines   []logLine
}

func (s *logStream) Write(b []byte) (int, error) {
	if s.out != nil {
		_, _ = s.out.Write(b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partial = append(s.partial, b...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			break
		}
		text := string(s.partial[:i])
		s.partial = s.partial[i+1:]
		if text == actionproxy.Sentinel {
			select {
			case s.batches <- s.lines:
			default: // nobody took the last ones: the process is going
			}
			s.lines = nil
			continue
		}
		if len(s.lines) < maxLogLines {
			now := time.Now()
			s.lines = append(s.lines, logLine{now, formatLogLine(now, s.name, text)})
		}
	}
	return len(b), nil
}

func formatLogLine(at time.Time, stream, text string) string {
	return at.UTC().Format(time.RFC3339Nano) + " " + stream + ": " + text
}
