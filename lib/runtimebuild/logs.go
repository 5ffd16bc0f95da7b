package runtimebuild

import (
	"bufio"
	"context"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// Limits of a log page.
const (
	DefaultLogTail = 200
	MaxLogTail     = 5000
	// maxLogBytes keeps a reply under 512 KiB with room for its JSON envelope.
	maxLogBytes = 448 << 10
	// readLogBytes is how much of the log is read: more than a page holds,
	// as timestamps, escape sequences and lines before since take no room in it.
	readLogBytes = 4 * maxLogBytes
)

// LogOptions select a page of a build's log.
type LogOptions struct {
	// Tail is how many of the last lines (1..MaxLogTail; 0 means DefaultLogTail).
	Tail int
	// Since, when set, keeps only lines logged after it.
	Since time.Time
}

// LogPage is a page of a build's log.
type LogPage struct {
	Lines []string
	// Next is the time of the last line: pass it as Since for the following page.
	Next time.Time
	// Truncated is true when lines were left out to stay within the size limit.
	Truncated bool
}

// Logs returns the tail of the log of the user's build id, with ANSI colour
// and control characters stripped. A build whose Pod has not started yet
// has an empty log.
func (s *Service) Logs(ctx context.Context, user, id string, o LogOptions) (LogPage, error) {
	job, err := s.find(ctx, user, id)
	if err != nil {
		return LogPage{}, err
	}
	pods, err := s.pods(ctx, job)
	if err != nil || len(pods) == 0 {
		return LogPage{}, err
	}
	return s.podLogs(ctx, &pods[0], o)
}

// podLogs reads the log of a Pod's steps, one after the other in the order
// they ran, with timestamps, so that a page can say where the next one
// starts even though the API's sinceTime has whole seconds.
func (s *Service) podLogs(ctx context.Context, pod *corev1.Pod, o LogOptions) (LogPage, error) {
	if o.Tail <= 0 {
		o.Tail = DefaultLogTail
	}
	o.Tail = min(o.Tail, MaxLogTail)
	var all LogPage
	for _, cs := range steps(pod) {
		if !started(cs) {
			continue // not started: no log yet
		}
		page, err := s.stepLog(ctx, pod, cs.Name, o)
		if err != nil {
			return LogPage{}, err
		}
		all.Lines = append(all.Lines, page.Lines...)
		all.Truncated = all.Truncated || page.Truncated
		if !page.Next.IsZero() {
			all.Next = page.Next
		}
	}
	if n := len(all.Lines) - o.Tail; n > 0 {
		all.Lines = all.Lines[n:]
	}
	size := 0
	for _, l := range all.Lines {
		size += encodedLen(l)
	}
	for size > maxLogBytes && len(all.Lines) > 0 {
		size -= encodedLen(all.Lines[0])
		all.Lines = all.Lines[1:]
		all.Truncated = true
	}
	return all, nil
}

// stepLog reads the last lines of one step's log.
func (s *Service) stepLog(ctx context.Context, pod *corev1.Pod, step string, o LogOptions) (LogPage, error) {
	opts := &corev1.PodLogOptions{Container: step, Timestamps: true, TailLines: ptr.To(int64(o.Tail)), LimitBytes: ptr.To(int64(readLogBytes))}
	if !o.Since.IsZero() {
		t := metav1.NewTime(o.Since.Truncate(time.Second))
		opts.SinceTime = &t
	}
	rc, err := s.client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, opts).Stream(ctx)
	switch {
	case apierrors.IsNotFound(err), apierrors.IsBadRequest(err):
		// The Pod is gone, or the step never started (the API server
		// answers 400 "waiting to start"): there is no log to show.
		return LogPage{}, nil
	case err != nil:
		return LogPage{}, kube.Error(err, "reading the log of %s", pod.Name)
	}
	defer rc.Close()
	return readLog(rc, o.Since)
}

// kubeletNoLog begins what the kubelet answers, as the log itself, for a
// step whose container the runtime no longer has (an evicted Pod's).
const kubeletNoLog = "unable to retrieve container logs for "

// readLog turns "<RFC3339Nano> <text>" lines into a page, dropping lines not
// after since and, from the front, lines past the size limit.
func readLog(r io.Reader, since time.Time) (LogPage, error) {
	var page LogPage
	size := 0
	sc := bufio.NewScanner(r)
	// No line of what was read is too long to scan: a long line is cut by
	// the size limit, not answered as an error.
	sc.Buffer(make([]byte, 64<<10), readLogBytes+1)
	for sc.Scan() {
		stamp, text, _ := strings.Cut(sc.Text(), " ")
		at, err := time.Parse(time.RFC3339Nano, stamp)
		if err != nil {
			if strings.HasPrefix(sc.Text(), kubeletNoLog) {
				continue // the kubelet's words, not the step's
			}
			at, text = time.Time{}, sc.Text()
		}
		if !since.IsZero() && !at.IsZero() && !at.After(since) {
			continue
		}
		line := Sanitize(text)
		page.Lines = append(page.Lines, line)
		size += encodedLen(line)
		for size > maxLogBytes && len(page.Lines) > 0 {
			size -= encodedLen(page.Lines[0])
			page.Lines = page.Lines[1:]
			page.Truncated = true
		}
		if !at.IsZero() {
			page.Next = at
		}
	}
	if err := sc.Err(); err != nil {
		return page, fault.Wrap(err, fault.Unavailable, "KubernetesUnavailable", "Reading the build log failed")
	}
	return page, nil
}

// encodedLen is the size of a sanitized line in the JSON reply, with its
// quotes and comma: encoding/json escapes quotes and backslashes, and <, >,
// & and the line separators U+2028 and U+2029 as \uXXXX, so a line can grow
// up to six times.
func encodedLen(line string) int {
	n := len(line) + 3
	for _, r := range line {
		switch r {
		case '"', '\\':
			n++
		case '<', '>', '&':
			n += 5
		case '\u2028', '\u2029':
			n += 3
		}
	}
	return n
}
