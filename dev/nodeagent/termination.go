package nodeagent

import (
	"bytes"
	"context"
	"io"
	"os"

	v1 "k8s.io/api/core/v1"
)

// The kubelet's limits on a termination message: the file is read up to
// 4 KiB; the log fallback takes at most the last 80 lines and 2 KiB.
const (
	maxTerminationMessage = 4 * 1024
	maxFallbackLines      = 80
	maxFallbackBytes      = 2 * 1024
)

// terminationMessage is what the kubelet puts in the terminated state's
// message: the file the container wrote at its terminationMessagePath, or,
// with policy FallbackToLogsOnError, the tail of its log when it failed and
// wrote nothing.
func terminationMessage(ctx context.Context, file, log string, c *v1.Container, exitCode int) string {
	msg := ""
	if f, err := os.Open(file); err == nil {
		b, _ := io.ReadAll(io.LimitReader(f, maxTerminationMessage))
		f.Close()
		msg = string(b)
	}
	if msg != "" || exitCode == 0 || c.TerminationMessagePolicy != v1.TerminationMessageFallbackToLogsOnError {
		return msg
	}
	var b bytes.Buffer
	closed := make(chan struct{})
	close(closed)
	o := logOptions{tail: maxFallbackLines, limit: -1, stdout: true, stderr: true}
	if err := readLogs(ctx, log, o, &b, closed); err != nil {
		return ""
	}
	out := b.Bytes()
	if len(out) > maxFallbackBytes {
		out = out[len(out)-maxFallbackBytes:]
	}
	return string(out)
}
