package nodeagent

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeTestLog writes lines to a container log, one second apart from t0,
// on the stream each names ("out:" or "err:" prefix).
func writeTestLog(t *testing.T, t0 time.Time, chunks ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c", "0.log")
	l, err := createContainerLog(path)
	require.NoError(t, err)
	now := t0
	l.now = func() time.Time { now = now.Add(time.Second); return now }
	out, errs := l.stream("stdout"), l.stream("stderr")
	for _, c := range chunks {
		s, text, _ := strings.Cut(c, ":")
		w := out
		if s == "err" {
			w = errs
		}
		_, err := w.Write([]byte(text))
		require.NoError(t, err)
	}
	require.NoError(t, out.flush())
	require.NoError(t, errs.flush())
	require.NoError(t, l.Close())
	return path
}

func TestContainerLogFormat(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	path := writeTestLog(t, t0, "out:one\ntw", "out:o\n", "err:oops\n", "out:last")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "2025-01-02T03:04:06Z stdout F one\n"+
		"2025-01-02T03:04:07Z stdout F two\n"+
		"2025-01-02T03:04:08Z stderr F oops\n"+
		"2025-01-02T03:04:09Z stdout F last\n", string(b))
}

func TestContainerLogSplitsLongLines(t *testing.T) {
	long := strings.Repeat("x", maxLogLine+10)
	path := writeTestLog(t, time.Now(), "out:"+long+"\n")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], " stdout P ")
	assert.Contains(t, lines[1], " stdout F ")

	var out bytes.Buffer
	require.NoError(t, readLogs(context.Background(), path, logOptions{tail: -1, limit: -1, stdout: true, stderr: true}, &out, closedChan()))
	assert.Equal(t, long+"\n", out.String(), "a split line reads back whole")
}

func TestReadLogs(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	path := writeTestLog(t, t0, "out:a\n", "err:b\n", "out:c\n", "out:d\n")
	tests := []struct {
		name  string
		query string
		want  string
	}{
		{"everything", "", "a\nb\nc\nd\n"},
		{"tail", "tailLines=2", "c\nd\n"},
		{"tail zero", "tailLines=0", ""},
		{"tail more than there is", "tailLines=10", "a\nb\nc\nd\n"},
		{"old tail parameter", "tail=1", "d\n"},
		{"since", "sinceTime=2025-01-02T03:04:08Z", "c\nd\n"},
		{"tail then since", "tailLines=3&sinceTime=2025-01-02T03:04:08Z", "c\nd\n"},
		{"timestamps", "tailLines=1&timestamps=true", "2025-01-02T03:04:09.000000000Z d\n"},
		{"limit", "limitBytes=3", "a\nb"},
		{"stdout only", "stream=Stdout", "a\nc\nd\n"},
		{"stderr only", "stream=Stderr", "b\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			require.NoError(t, err)
			o, err := parseLogOptions(q, t0)
			require.NoError(t, err)
			var out bytes.Buffer
			require.NoError(t, readLogs(context.Background(), path, o, &out, closedChan()))
			assert.Equal(t, tt.want, out.String())
		})
	}
	t.Run("sinceSeconds is relative to now", func(t *testing.T) {
		o, err := parseLogOptions(url.Values{"sinceSeconds": {"2"}}, t0.Add(10*time.Second))
		require.NoError(t, err)
		assert.Equal(t, t0.Add(8*time.Second), o.since)
		var out bytes.Buffer
		require.NoError(t, readLogs(context.Background(), path, o, &out, closedChan()))
		assert.Empty(t, out.String(), "all lines are older")
	})
}

func TestParseLogOptionsRejects(t *testing.T) {
	for _, q := range []string{"tailLines=-1", "limitBytes=0", "sinceSeconds=0", "sinceTime=yesterday",
		"sinceSeconds=5&sinceTime=2025-01-02T03:04:08Z", "timestamps=maybe", "stream=both"} {
		t.Run(q, func(t *testing.T) {
			v, err := url.ParseQuery(q)
			require.NoError(t, err)
			_, err = parseLogOptions(v, time.Now())
			assert.Error(t, err)
		})
	}
}

func TestReadLogsFollows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	l, err := createContainerLog(path)
	require.NoError(t, err)
	out := l.stream("stdout")
	_, err = out.Write([]byte("first\n"))
	require.NoError(t, err)

	exited := make(chan struct{})
	var got bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- readLogs(context.Background(), path, logOptions{tail: -1, limit: -1, follow: true, stdout: true, stderr: true}, &got, exited)
	}()
	time.Sleep(3 * followPoll)
	_, err = out.Write([]byte("second\n"))
	require.NoError(t, err)
	require.NoError(t, l.Close())
	close(exited)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("a followed log did not end when the container exited")
	}
	assert.Equal(t, "first\nsecond\n", got.String())
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
