package builds

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/tests/testweb"
)

func TestStatusReply(t *testing.T) {
	started, finished := apiRunAt, apiEndAt
	base := runtimebuild.Status{
		ID: strings.Repeat("ab", 32), JobName: "build-alice-abababababababab", User: "alice", Kind: "python",
		Image: "pull.example.com/alice:py", Created: apiT0,
	}
	with := func(change func(*runtimebuild.Status)) runtimebuild.Status {
		s := base
		change(&s)
		return s
	}
	tests := []struct {
		name        string
		st          runtimebuild.Status
		tail        []string
		wantStatus  int
		wantOK      bool
		wantMessage string
		want        map[string]any // fields that must have these values
		absent      []string       // fields that must not be there
	}{
		{
			name: "succeeded",
			st: with(func(s *runtimebuild.Status) {
				s.State, s.Digest, s.Started, s.Finished = runtimebuild.Succeeded, "sha256:"+strings.Repeat("0", 64), &started, &finished
			}),
			wantStatus: http.StatusOK, wantOK: true, wantMessage: "Build succeeded.",
			want: map[string]any{
				"state": "succeeded", "digest": "sha256:" + strings.Repeat("0", 64),
				"started": "2025-06-01T12:00:05Z", "finished": "2025-06-01T12:00:40Z",
			},
			absent: []string{"reason", "logs"},
		},
		{
			name:       "queued",
			st:         with(func(s *runtimebuild.Status) { s.State = runtimebuild.Queued }),
			wantStatus: http.StatusAccepted, wantOK: true, wantMessage: "Build queued.",
			want:   map[string]any{"state": "queued"},
			absent: []string{"digest", "started", "finished", "reason", "logs"},
		},
		{
			name: "queued, stuck",
			st: with(func(s *runtimebuild.Status) {
				s.State, s.Reason, s.Message = runtimebuild.Queued, runtimebuild.ReasonBuilderPullFailed, `Failed to pull image "kaniko": not found`
			}),
			wantStatus: http.StatusAccepted, wantOK: true, wantMessage: `Failed to pull image "kaniko": not found`,
			want: map[string]any{"state": "queued", "reason": runtimebuild.ReasonBuilderPullFailed},
		},
		{
			name:       "running",
			st:         with(func(s *runtimebuild.Status) { s.State, s.Started = runtimebuild.Running, &started }),
			wantStatus: http.StatusAccepted, wantOK: true, wantMessage: "Build running.",
			want:   map[string]any{"state": "running", "started": "2025-06-01T12:00:05Z"},
			absent: []string{"digest", "finished"},
		},
		{
			name: "failed",
			st: with(func(s *runtimebuild.Status) {
				s.State, s.Reason, s.Message, s.Started, s.Finished = runtimebuild.Failed, runtimebuild.ReasonSourcePullFailed, "The source image could not be pulled", &started, &finished
			}),
			tail:       []string{"line 1", "error building image"},
			wantStatus: http.StatusConflict, wantMessage: "The source image could not be pulled",
			want: map[string]any{
				"state": "failed", "reason": runtimebuild.ReasonSourcePullFailed,
				"logs": []string{"line 1", "error building image"}, "finished": "2025-06-01T12:00:40Z",
			},
			absent: []string{"digest"},
		},
		{
			name: "failed without a log",
			st: with(func(s *runtimebuild.Status) {
				s.State, s.Reason, s.Message = runtimebuild.Failed, runtimebuild.ReasonDeadlineExceeded, "late"
			}),
			wantStatus: http.StatusConflict, wantMessage: "late",
			want: map[string]any{"state": "failed", "reason": runtimebuild.ReasonDeadlineExceeded, "logs": []string{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := statusReply(tt.st, tt.tail)
			assert.Equal(t, tt.wantStatus, resp.Status)
			if tt.wantOK {
				assert.Equal(t, "ok", resp.Body["status"])
			} else {
				assert.Equal(t, "ko", resp.Body["status"])
			}
			assert.Equal(t, tt.wantMessage, resp.Body["message"])
			assert.Equal(t, tt.st.ID, resp.Body["id"])
			assert.Equal(t, tt.st.JobName, resp.Body["job_name"])
			assert.Equal(t, tt.st.Image, resp.Body["image"])
			assert.Equal(t, "python", resp.Body["kind"])
			assert.Equal(t, "2025-06-01T12:00:00Z", resp.Body["created"])
			for k, v := range tt.want {
				assert.Equal(t, v, resp.Body[k], k)
			}
			for _, k := range tt.absent {
				assert.NotContains(t, resp.Body, k)
			}
		})
	}
}

// statusFixture is alice's builds in every state, and one of bob's.
type statusFixture struct {
	queued, running, succeeded, failed, stuck, bobs *batchv1.Job
	objects                                         []runtime.Object
}

const (
	fixtureDigest = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
	pullFailure   = `Failed to pull image "gcr.io/kaniko-project/executor:v1.24.0": not found`
	sourceFailure = "error building image: unable to complete operation after 0 attempts, last error: GET http://127.0.0.1:5000/v2/x/manifests/sha256:" +
		"4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945: MANIFEST_UNKNOWN: manifest unknown"
)

func newStatusFixture() *statusFixture {
	f := &statusFixture{
		queued:    apiJob("alice", "go"),
		running:   apiJob("alice", "nodejs"),
		succeeded: finish(apiJob("alice", "python"), batchv1.JobComplete, ""),
		failed:    finish(apiJob("alice", "ruby"), batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded),
		stuck:     apiJob("alice", "php"),
		bobs:      apiJob("bob", "python"),
	}
	runningState := corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(apiRunAt)}}
	stuckPod := apiPod(f.stuck, corev1.PodPending, corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}})
	f.objects = []runtime.Object{
		f.queued, f.running, f.succeeded, f.failed, f.stuck, f.bobs,
		apiPod(f.running, corev1.PodRunning, runningState),
		apiPod(f.succeeded, corev1.PodSucceeded, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason: "Completed", Message: fixtureDigest + "\n", StartedAt: metav1.NewTime(apiRunAt), FinishedAt: metav1.NewTime(apiEndAt),
		}}),
		apiPod(f.failed, corev1.PodFailed, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			ExitCode: 1, Reason: "Error", StartedAt: metav1.NewTime(apiRunAt), FinishedAt: metav1.NewTime(apiEndAt),
		}}),
		stuckPod,
		&corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "pull", Namespace: "builds"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: stuckPod.Name, Namespace: "builds"},
			Type:           corev1.EventTypeWarning, Reason: "Failed", Message: pullFailure, LastTimestamp: metav1.NewTime(apiRunAt),
		},
		apiPod(f.bobs, corev1.PodRunning, runningState),
	}
	return f
}

// buildLog is what every Pod's log holds: Kaniko failing to pull the source.
var buildLog = apiT0.Add(time.Second).Format(time.RFC3339Nano) + " INFO[0000] Retrieving image manifest 127.0.0.1:5000/x\n" +
	apiT0.Add(1500*time.Millisecond).Format(time.RFC3339Nano) + " \x1b[31m" + sourceFailure + "\x1b[0m\n"

func TestStatusRoutes(t *testing.T) {
	f := newStatusFixture()
	id := buildIDOf
	tests := []struct {
		name       string
		method     string
		path       string
		params     map[string]any
		token      string // default: alice's
		wantStatus int
		wantReason string
		want       map[string]any
		deleted    *batchv1.Job // the Job a cancel deletes
	}{
		{name: "succeeded", method: "get", path: "/" + id(f.succeeded), wantStatus: http.StatusOK,
			want: map[string]any{"state": "succeeded", "digest": fixtureDigest, "image": "pull.example.com/alice:python", "finished": "2025-06-01T12:00:40Z"}},
		{name: "queued", method: "get", path: "/" + id(f.queued), wantStatus: http.StatusAccepted,
			want: map[string]any{"state": "queued", "message": "Build queued."}},
		{name: "queued, stuck on the builder image", method: "get", path: "/" + id(f.stuck), wantStatus: http.StatusAccepted,
			want: map[string]any{"state": "queued", "reason": runtimebuild.ReasonBuilderPullFailed, "message": pullFailure}},
		{name: "running", method: "get", path: "/" + id(f.running), wantStatus: http.StatusAccepted,
			want: map[string]any{"state": "running", "started": "2025-06-01T12:00:05Z"}},
		{name: "failed", method: "get", path: "/" + id(f.failed), wantStatus: http.StatusConflict, wantReason: runtimebuild.ReasonSourcePullFailed,
			want: map[string]any{"state": "failed", "logs": []string{"INFO[0000] Retrieving image manifest 127.0.0.1:5000/x", sourceFailure}}},
		{name: "trailing slash", method: "get", path: "/" + id(f.running) + "/", wantStatus: http.StatusAccepted},
		{name: "id as a parameter", method: "get", path: "", params: map[string]any{"id": id(f.running)}, wantStatus: http.StatusAccepted,
			want: map[string]any{"state": "running", "id": id(f.running)}},
		{name: "no id", method: "get", path: "", wantStatus: http.StatusBadRequest, wantReason: "MissingID"},
		{name: "no id, a slash", method: "get", path: "/", wantStatus: http.StatusBadRequest, wantReason: "MissingID"},
		{name: "another user's build", method: "get", path: "/" + id(f.bobs), wantStatus: http.StatusNotFound, wantReason: "BuildNotFound"},
		{name: "own build asked by another user", method: "get", path: "/" + id(f.running), token: bobToken, wantStatus: http.StatusNotFound, wantReason: "BuildNotFound"},
		{name: "malformed id", method: "get", path: "/not-an-id", wantStatus: http.StatusNotFound, wantReason: "BuildNotFound"},
		{name: "unknown id", method: "get", path: "/" + strings.Repeat("0", 64), wantStatus: http.StatusNotFound, wantReason: "BuildNotFound"},
		{name: "unknown sub-resource", method: "get", path: "/" + id(f.running) + "/x", wantStatus: http.StatusNotFound, wantReason: "NotFound"},
		{name: "below logs", method: "get", path: "/" + id(f.running) + "/logs/x", wantStatus: http.StatusNotFound, wantReason: "NotFound"},
		{name: "logs", method: "get", path: "/" + id(f.running) + "/logs", wantStatus: http.StatusOK,
			want: map[string]any{"id": id(f.running), "lines": []string{"INFO[0000] Retrieving image manifest 127.0.0.1:5000/x", sourceFailure}, "truncated": false}},
		{name: "logs of another user's build", method: "get", path: "/" + id(f.bobs) + "/logs", wantStatus: http.StatusNotFound, wantReason: "BuildNotFound"},
		{name: "logs of a queued build", method: "get", path: "/" + id(f.queued) + "/logs", wantStatus: http.StatusOK,
			want: map[string]any{"lines": []string{}}},
		{name: "cancel", method: "delete", path: "/" + id(f.running), wantStatus: http.StatusOK, deleted: f.running,
			want: map[string]any{"id": id(f.running), "job_name": f.running.Name}},
		{name: "cancel with the id as a parameter", method: "delete", path: "", params: map[string]any{"id": id(f.queued)}, wantStatus: http.StatusOK, deleted: f.queued},
		{name: "cancel another user's build", method: "delete", path: "/" + id(f.bobs), wantStatus: http.StatusNotFound, wantReason: "BuildNotFound"},
		{name: "cancel unknown", method: "delete", path: "/" + strings.Repeat("0", 64), wantStatus: http.StatusNotFound, wantReason: "BuildNotFound"},
		{name: "delete the logs", method: "delete", path: "/" + id(f.running) + "/logs", wantStatus: http.StatusMethodNotAllowed, wantReason: "MethodNotAllowed"},
		{name: "post", method: "post", path: "/" + id(f.running), wantStatus: http.StatusMethodNotAllowed, wantReason: "MethodNotAllowed"},
		{name: "put", method: "put", path: "/" + id(f.running), wantStatus: http.StatusMethodNotAllowed, wantReason: "MethodNotAllowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAPIEnv(f.objects...)
			e.log = buildLog
			token := tt.token
			if token == "" {
				token = aliceToken
			}
			resp := e.serve(Ops.Status, testweb.Args(tt.method, tt.path, token, tt.params))
			require.Equal(t, tt.wantStatus, resp.Status, "%v", resp.Body)
			if tt.wantReason != "" {
				assert.Equal(t, tt.wantReason, resp.Body["reason"])
			}
			if resp.Status < 300 {
				assert.Equal(t, "ok", resp.Body["status"])
			} else {
				assert.Equal(t, "ko", resp.Body["status"])
				assert.NotEmpty(t, resp.Body["message"])
			}
			for k, v := range tt.want {
				assert.Equal(t, v, resp.Body[k], k)
			}

			var deletes []k8stesting.DeleteAction
			for _, a := range e.client.Actions() {
				if d, ok := a.(k8stesting.DeleteAction); ok {
					deletes = append(deletes, d)
				}
			}
			if tt.deleted == nil {
				assert.Empty(t, deletes, "nothing is deleted")
				return
			}
			require.Len(t, deletes, 1)
			assert.Equal(t, tt.deleted.Name, deletes[0].GetName())
			_, err := e.client.BatchV1().Jobs("builds").Get(context.Background(), tt.deleted.Name, metav1.GetOptions{})
			assert.True(t, apierrors.IsNotFound(err), "%v", err)
		})
	}
}

func TestLogsParameters(t *testing.T) {
	f := newStatusFixture()
	id := buildIDOf(f.running)
	tests := []struct {
		name       string
		params     map[string]any
		wantStatus int
		wantReason string
		wantTail   int64
		wantSince  string // the sinceTime asked of the API server, RFC 3339
		wantLines  int
	}{
		{name: "defaults", wantStatus: http.StatusOK, wantTail: runtimebuild.DefaultLogTail, wantLines: 2},
		{name: "tail 1", params: map[string]any{"tail": "1"}, wantStatus: http.StatusOK, wantTail: 1, wantLines: 1},
		{name: "tail at the maximum", params: map[string]any{"tail": "5000"}, wantStatus: http.StatusOK, wantTail: 5000, wantLines: 2},
		{name: "tail as a JSON number", params: map[string]any{"tail": float64(30)}, wantStatus: http.StatusOK, wantTail: 30, wantLines: 2},
		{name: "tail 0", params: map[string]any{"tail": "0"}, wantStatus: http.StatusBadRequest, wantReason: "InvalidTail"},
		{name: "tail over the maximum", params: map[string]any{"tail": "5001"}, wantStatus: http.StatusBadRequest, wantReason: "InvalidTail"},
		{name: "tail negative", params: map[string]any{"tail": "-1"}, wantStatus: http.StatusBadRequest, wantReason: "InvalidTail"},
		{name: "tail not a number", params: map[string]any{"tail": "x"}, wantStatus: http.StatusBadRequest, wantReason: "InvalidTail"},
		{name: "tail a fraction", params: map[string]any{"tail": "1.5"}, wantStatus: http.StatusBadRequest, wantReason: "InvalidTail"},
		{
			name: "since", params: map[string]any{"since": "2025-06-01T12:00:01.2Z"}, wantStatus: http.StatusOK,
			wantTail: runtimebuild.DefaultLogTail, wantSince: "2025-06-01T12:00:01Z", wantLines: 1,
		},
		{
			name: "since with an offset", params: map[string]any{"since": "2025-06-01T14:00:00+02:00"}, wantStatus: http.StatusOK,
			wantTail: runtimebuild.DefaultLogTail, wantSince: "2025-06-01T12:00:00Z", wantLines: 2,
		},
		{name: "since a date", params: map[string]any{"since": "2025-06-01"}, wantStatus: http.StatusBadRequest, wantReason: "InvalidSince"},
		{name: "since words", params: map[string]any{"since": "yesterday"}, wantStatus: http.StatusBadRequest, wantReason: "InvalidSince"},
		{name: "since seconds", params: map[string]any{"since": "1748779200"}, wantStatus: http.StatusBadRequest, wantReason: "InvalidSince"},
	}
	for _, tt := range tests {
		for _, route := range []struct {
			name string
			op   opOf
			path string
		}{{"status action", Ops.Status, "/" + id + "/logs"}, {"logs action", Ops.Logs, "/" + id}} {
			t.Run(tt.name+"/"+route.name, func(t *testing.T) {
				e := newAPIEnv(f.objects...)
				e.log = buildLog
				resp := e.serve(route.op, testweb.Args("get", route.path, aliceToken, tt.params))
				require.Equal(t, tt.wantStatus, resp.Status, "%v", resp.Body)
				e.mu.Lock()
				defer e.mu.Unlock()
				if tt.wantReason != "" {
					assert.Equal(t, "ko", resp.Body["status"])
					assert.Equal(t, tt.wantReason, resp.Body["reason"])
					assert.Empty(t, e.logOpts, "the log is not read")
					return
				}
				lines, ok := resp.Body["lines"].([]string)
				require.True(t, ok, "%T", resp.Body["lines"])
				assert.Len(t, lines, tt.wantLines)
				assert.Equal(t, apiT0.Add(1500*time.Millisecond).Format(time.RFC3339Nano), resp.Body["next_since"])
				require.Len(t, e.logOpts, 1)
				o := e.logOpts[0]
				require.NotNil(t, o.TailLines)
				assert.Equal(t, tt.wantTail, *o.TailLines)
				if tt.wantSince == "" {
					assert.Nil(t, o.SinceTime)
				} else if assert.NotNil(t, o.SinceTime) {
					assert.Equal(t, tt.wantSince, o.SinceTime.UTC().Format(time.RFC3339))
				}
			})
		}
	}
}
