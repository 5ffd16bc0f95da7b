package nodeagent

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// maxLogLine is the longest record a container log line becomes before it is
// split into partial ("P") records, as container runtimes do.
const maxLogLine = 16 * 1024

// logPath is where the log of one container of one pod is kept, laid out as
// the kubelet does under /var/log/pods so pods of the same name never share it.
func logPath(workDir, namespace, name string, uid types.UID, container string) string {
	return filepath.Join(podLogDir(workDir, namespace, name, uid), container, "0.log")
}

// podLogDir is the folder of all the container logs of one pod.
func podLogDir(workDir, namespace, name string, uid types.UID) string {
	return filepath.Join(workDir, "logs", fmt.Sprintf("%s_%s_%s", namespace, name, uid))
}

// containerLog writes what a container prints to a file in the CRI log
// format, one record per line: "<RFC3339Nano> <stream> <F|P> <text>". The
// timestamps are what sinceTime and timestamps=true read back.
type containerLog struct {
	mu  sync.Mutex
	f   *os.File
	now func() time.Time
}

// createContainerLog creates (truncating) the log file at path.
func createContainerLog(path string) (*containerLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating log folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("creating log file: %w", err)
	}
	return &containerLog{f: f, now: time.Now}, nil
}

// stream returns a writer for one output stream ("stdout" or "stderr").
// Call its flush once the container has exited.
func (l *containerLog) stream(name string) *logStream {
	return &logStream{log: l, name: name}
}

// record appends one CRI record.
func (l *containerLog) record(stream string, partial bool, text []byte) error {
	tag := "F"
	if partial {
		tag = "P"
	}
	var b bytes.Buffer
	b.WriteString(l.now().UTC().Format(time.RFC3339Nano))
	b.WriteByte(' ')
	b.WriteString(stream)
	b.WriteByte(' ')
	b.WriteString(tag)
	b.WriteByte(' ')
	b.Write(text)
	b.WriteByte('\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, err := l.f.Write(b.Bytes())
	return err
}

// Close closes the file.
func (l *containerLog) Close() error { return l.f.Close() }

// logStream splits one stream's bytes into lines and records each one.
type logStream struct {
	log     *containerLog
	name    string
	pending []byte
}

// Write records every complete line in p and keeps the rest for later.
func (s *logStream) Write(p []byte) (int, error) {
	s.pending = append(s.pending, p...)
	for {
		i := bytes.IndexByte(s.pending, '\n')
		switch {
		case i >= 0 && i <= maxLogLine:
			if err := s.log.record(s.name, false, s.pending[:i]); err != nil {
				return 0, err
			}
			s.pending = s.pending[i+1:]
		case len(s.pending) > maxLogLine:
			if err := s.log.record(s.name, true, s.pending[:maxLogLine]); err != nil {
				return 0, err
			}
			s.pending = s.pending[maxLogLine:]
		default:
			s.pending = append([]byte(nil), s.pending...)
			return len(p), nil
		}
	}
}

// flush records a last line that had no newline, as a full line.
func (s *logStream) flush() error {
	if len(s.pending) == 0 {
		return nil
	}
	err := s.log.record(s.name, false, s.pending)
	s.pending = nil
	return err
}
