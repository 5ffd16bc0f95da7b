package runtimebuild

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// stamp is a log line as the API server writes it with timestamps.
func stamp(at time.Time, text string) string { return at.Format(time.RFC3339Nano) + " " + text + "\n" }

func TestReadLog(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	three := stamp(ms(100), "one") + stamp(ms(200), "two") + stamp(ms(300), "three")
	tests := []struct {
		name  string
		in    string
		since time.Time
		want  []string
		next  time.Time
	}{
		{name: "empty", in: ""},
		{name: "every line", in: three, want: []string{"one", "two", "three"}, next: ms(300)},
		{name: "no trailing newline", in: strings.TrimSuffix(three, "\n"), want: []string{"one", "two", "three"}, next: ms(300)},
		{name: "since drops the lines at or before it", in: three, since: ms(200), want: []string{"three"}, next: ms(300)},
		{name: "since between two lines", in: three, since: ms(150), want: []string{"two", "three"}, next: ms(300)},
		{name: "since a nanosecond before a line", in: three, since: ms(300).Add(-time.Nanosecond), want: []string{"three"}, next: ms(300)},
		{name: "since the last line", in: three, since: ms(300)},
		{name: "since before every line", in: three, since: t0, want: []string{"one", "two", "three"}, next: ms(300)},
		{name: "since in another zone", in: three, since: ms(200).In(time.FixedZone("CEST", 2*3600)), want: []string{"three"}, next: ms(300)},
		{
			name: "a line without a timestamp is kept", in: stamp(ms(100), "one") + "continued without a stamp\n",
			since: ms(50), want: []string{"one", "continued without a stamp"}, next: ms(100),
		},
		{
			name: "a line without a timestamp is kept even before since", in: "no stamp\n" + stamp(ms(300), "three"),
			since: ms(200), want: []string{"no stamp", "three"}, next: ms(300),
		},
		{name: "only lines without a timestamp", in: "a b\nc\n", want: []string{"a b", "c"}},
		{name: "the kubelet's answer for a container it no longer has", in: "unable to retrieve container logs for containerd://0ce5b3cb", want: nil},
		{name: "spaces in the text kept", in: stamp(ms(1), "a  b   c "), want: []string{"a  b   c "}, next: ms(1)},
		{name: "empty text", in: ms(1).Format(time.RFC3339Nano) + "\n", want: []string{""}, next: ms(1)},
		{name: "text sanitized", in: stamp(ms(1), "\x1b[32mINFO\x1b[0m\tok\r"), want: []string{"INFO ok"}, next: ms(1)},
		{name: "whole-second timestamp", in: stamp(t0, "x"), want: []string{"x"}, next: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := readLog(strings.NewReader(tt.in), tt.since)
			require.NoError(t, err)
			assert.Equal(t, tt.want, page.Lines)
			assert.True(t, tt.next.Equal(page.Next), "next %v, want %v", page.Next, tt.next)
			assert.False(t, page.Truncated)
		})
	}
}

// TestReadLogSizeLimit checks that a page stays within maxLogBytes once
// encoded as JSON, dropping the oldest lines.
func TestReadLogSizeLimit(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		line      string // each line's text, numbered in front
		n         int
		truncated bool
	}{
		{name: "small log", line: strings.Repeat("x", 100), n: 100},
		{name: "log over the limit", line: strings.Repeat("x", 1024), n: 600, truncated: true},
		{name: "characters JSON escapes", line: strings.Repeat("<a href=\"&\">\\", 100), n: 600, truncated: true},
		{name: "line separators", line: strings.Repeat("\u2028", 300), n: 600, truncated: true},
		{name: "multi-byte characters", line: strings.Repeat("日本", 200), n: 600, truncated: true},
		{name: "one line over the limit", line: strings.Repeat("y", maxLogBytes+1), n: 1, truncated: true},
		{name: "a line longer than the scan buffer", line: strings.Repeat("z", 1<<20+10), n: 2, truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in strings.Builder
			var texts []string
			for i := range tt.n {
				text := fmt.Sprintf("%04d %s", i, tt.line)
				texts = append(texts, text)
				in.WriteString(stamp(t0.Add(time.Duration(i)*time.Millisecond), text))
			}
			page, err := readLog(strings.NewReader(in.String()), time.Time{})
			require.NoError(t, err)
			assert.Equal(t, tt.truncated, page.Truncated)
			assert.True(t, t0.Add(time.Duration(tt.n-1)*time.Millisecond).Equal(page.Next), "next is the last line's time, kept or not")

			// The limit counts each line with its quotes and comma: the
			// array's brackets are the one byte over.
			encoded, err := json.Marshal(page.Lines)
			require.NoError(t, err)
			assert.LessOrEqual(t, len(encoded), maxLogBytes+1)
			if !tt.truncated {
				assert.Equal(t, texts, page.Lines)
				return
			}
			// The kept lines are the newest ones, in order, and as many as fit.
			kept := len(page.Lines)
			assert.Less(t, kept, tt.n)
			if kept == 0 {
				return
			}
			assert.Equal(t, texts[tt.n-kept:], page.Lines)
			withOneMore, err := json.Marshal(texts[tt.n-kept-1:])
			require.NoError(t, err)
			assert.Greater(t, len(withOneMore), maxLogBytes+1, "a line that fits was dropped")
		})
	}
}

// logClient is a fake clientset that answers pod log requests with body
// (or err) and records their options.
type logClient struct {
	*fake.Clientset
	mu   sync.Mutex
	opts []*corev1.PodLogOptions
}

func newLogClient(body string, err error, objects ...runtime.Object) *logClient {
	c := &logClient{Clientset: fake.NewClientset(objects...)}
	c.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		c.mu.Lock()
		c.opts = append(c.opts, a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions))
		c.mu.Unlock()
		if err != nil {
			return true, nil, err
		}
		return true, &runtime.Unknown{Raw: []byte(body)}, nil
	})
	return c
}

func (c *logClient) logRequests() []*corev1.PodLogOptions {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*corev1.PodLogOptions(nil), c.opts...)
}

// ownedPod is a Pod of job in phase, created at the given time.
func ownedPod(job metav1.Object, name string, phase corev1.PodPhase, created time.Time) *corev1.Pod {
	controller := true
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: job.GetNamespace(), CreationTimestamp: metav1.NewTime(created),
			Labels: map[string]string{kube.LabelComponent: kube.Component, kube.LabelBuildID: job.GetLabels()[kube.LabelBuildID]},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "Job", Name: job.GetName(), UID: job.GetUID(), Controller: &controller,
			}},
		},
		Status: corev1.PodStatus{Phase: phase, ContainerStatuses: stepsIn(phase)},
	}
}

// stepsIn is the status of a Pod's one step in phase: started unless Pending.
func stepsIn(phase corev1.PodPhase) []corev1.ContainerStatus {
	switch phase {
	case corev1.PodRunning:
		return []corev1.ContainerStatus{{Name: containerName, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
	case corev1.PodSucceeded, corev1.PodFailed:
		return []corev1.ContainerStatus{{Name: containerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{}}}}
	}
	return nil
}

func buildsConfig() config.Config { return config.Config{Namespace: "builds"} }

func TestLogs(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	body := stamp(t0.Add(200*time.Millisecond), "before") + stamp(t0.Add(700*time.Millisecond), "\x1b[1mafter\x1b[0m")
	gone := apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "build-pod")
	waitingToStart := apierrors.NewBadRequest(`container "kaniko" in pod "build-pod" is waiting to start: ContainerCreating`)
	tests := []struct {
		name      string
		phase     corev1.PodPhase // "" for no Pod
		opts      LogOptions
		err       error
		wantTail  int64 // 0: no log request
		wantSince *time.Time
		want      []string
		wantErr   bool
		wantKind  fault.Kind
	}{
		{name: "default tail", phase: corev1.PodRunning, wantTail: DefaultLogTail, want: []string{"before", "after"}},
		{name: "tail given", phase: corev1.PodRunning, opts: LogOptions{Tail: 7}, wantTail: 7, want: []string{"before", "after"}},
		{name: "tail at the maximum", phase: corev1.PodSucceeded, opts: LogOptions{Tail: MaxLogTail}, wantTail: MaxLogTail, want: []string{"before", "after"}},
		{name: "tail over the maximum", phase: corev1.PodFailed, opts: LogOptions{Tail: MaxLogTail + 1}, wantTail: MaxLogTail, want: []string{"before", "after"}},
		{name: "negative tail", phase: corev1.PodRunning, opts: LogOptions{Tail: -3}, wantTail: DefaultLogTail, want: []string{"before", "after"}},
		{
			name: "since with a fraction of a second", phase: corev1.PodRunning, opts: LogOptions{Since: t0.Add(500 * time.Millisecond)},
			wantTail: DefaultLogTail, wantSince: &t0, want: []string{"after"},
		},
		{name: "no pod yet", phase: ""},
		{name: "pod pending", phase: corev1.PodPending},
		{name: "pod gone", phase: corev1.PodFailed, err: gone, wantTail: DefaultLogTail},
		{name: "container never started", phase: corev1.PodFailed, err: waitingToStart, wantTail: DefaultLogTail},
		{name: "API server unavailable", phase: corev1.PodRunning, err: apierrors.NewServiceUnavailable("down"), wantTail: DefaultLogTail, wantErr: true, wantKind: fault.Unavailable},
		{name: "forbidden", phase: corev1.PodRunning, err: apierrors.NewForbidden(schema.GroupResource{Resource: "pods/log"}, "build-pod", fmt.Errorf("no")), wantTail: DefaultLogTail, wantErr: true, wantKind: fault.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := stateJob()
			objects := []runtime.Object{job}
			if tt.phase != "" {
				objects = append(objects, ownedPod(job, "build-pod", tt.phase, t0))
			}
			client := newLogClient(body, tt.err, objects...)
			svc := NewService(client, buildsConfig())

			page, err := svc.Logs(context.Background(), "alice", stateID, tt.opts)
			if tt.wantErr {
				require.Error(t, err)
				assert.Equal(t, tt.wantKind, fault.KindOf(err))
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.want, page.Lines)
			}
			reqs := client.logRequests()
			if tt.wantTail == 0 {
				assert.Empty(t, reqs, "no log is read")
				return
			}
			require.Len(t, reqs, 1)
			o := reqs[0]
			assert.Equal(t, containerName, o.Container)
			assert.True(t, o.Timestamps, "timestamps are asked for, to page with sub-second times")
			require.NotNil(t, o.TailLines)
			assert.Equal(t, tt.wantTail, *o.TailLines)
			require.NotNil(t, o.LimitBytes)
			assert.GreaterOrEqual(t, *o.LimitBytes, int64(maxLogBytes))
			if tt.wantSince == nil {
				assert.Nil(t, o.SinceTime)
			} else if assert.NotNil(t, o.SinceTime) {
				assert.True(t, tt.wantSince.Equal(o.SinceTime.Time), "sinceTime %v, want %v", o.SinceTime.Time, *tt.wantSince)
			}
			assert.False(t, o.Previous)
			assert.False(t, o.Follow)
		})
	}
}
