package runtimebuild

import (
	"context"
	"errors"
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

	"github.com/apache/openserverless-deployer/lib/fault"
)

// podEvent is a Warning event about the Pod named build-pod.
func podEvent(reason, message string, at time.Time) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "ev-" + reason, Namespace: "builds"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "build-pod", Namespace: "builds"},
		Type:           corev1.EventTypeWarning, Reason: reason, Message: message, LastTimestamp: metav1.NewTime(at),
	}
}

// jobCreatedPod is the Job controller's event on stateJob for the Pod name.
func jobCreatedPod(name string) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "ev-created-" + name, Namespace: "builds"},
		InvolvedObject: corev1.ObjectReference{Kind: "Job", Name: stateJob().Name, Namespace: "builds"},
		Type:           corev1.EventTypeNormal, Reason: "SuccessfulCreate", Message: "Created pod: " + name,
	}
}

// deletedPodEvent is a Warning event of the Pod name, which is gone.
func deletedPodEvent(name, reason, message string, at time.Time) *corev1.Event {
	e := podEvent(reason, message, at)
	e.InvolvedObject.Name = name
	return e
}

// TestServiceStatus reads a build's state through the fake clientset: the
// Job, its Pods, their Warning events when queued or failed, and the log
// tail of a failed build.
func TestServiceStatus(t *testing.T) {
	t0 := stateT0
	sourceLog := stamp(t0.Add(time.Second), kanikoInfo) + stamp(t0.Add(2*time.Second), kanikoSource)
	withState := func(p *corev1.Pod, s corev1.ContainerState) *corev1.Pod {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: containerName, State: s}}
		return p
	}
	pod := func(phase corev1.PodPhase, job *batchv1.Job) *corev1.Pod {
		return ownedPod(job, "build-pod", phase, t0)
	}
	tests := []struct {
		name       string
		job        *batchv1.Job
		pod        func(job *batchv1.Job) *corev1.Pod
		events     []runtime.Object
		log        string
		logErr     error
		state      State
		reason     string
		message    string
		tail       []string
		wantEvents bool // the events were listed
		wantLog    bool // the log was read
	}{
		{name: "queued without a pod", job: stateJob(), state: Queued},
		{
			name: "queued, pod stuck on the builder image", job: stateJob(),
			pod: func(j *batchv1.Job) *corev1.Pod {
				return withState(pod(corev1.PodPending, j), waiting("ImagePullBackOff", ""))
			},
			events: []runtime.Object{podEvent("Failed", pullMessage, t0.Add(time.Minute))},
			state:  Queued, reason: ReasonBuilderPullFailed, message: pullMessage, wantEvents: true,
		},
		{
			name: "queued, no node fits", job: stateJob(),
			pod: func(j *batchv1.Job) *corev1.Pod {
				p := pod(corev1.PodPending, j)
				p.Status.Conditions = unschedulable().Status.Conditions
				return p
			},
			events: []runtime.Object{podEvent("FailedScheduling", scheduleMessage, t0.Add(time.Minute))},
			state:  Queued, reason: ReasonUnschedulable, message: scheduleMessage, wantEvents: true,
		},
		{
			name: "running", job: stateJob(),
			pod:   func(j *batchv1.Job) *corev1.Pod { return withState(pod(corev1.PodRunning, j), running()) },
			state: Running,
		},
		{
			name: "succeeded", job: completeJob(),
			pod: func(j *batchv1.Job) *corev1.Pod {
				return withState(pod(corev1.PodSucceeded, j), exited(0, "Completed", stateDigest+"\n"))
			},
			state: Succeeded,
		},
		{
			name: "failed, the source image is missing", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pod:   func(j *batchv1.Job) *corev1.Pod { return withState(pod(corev1.PodFailed, j), exited(1, "Error", "")) },
			log:   sourceLog,
			state: Failed, reason: ReasonSourcePullFailed, tail: []string{kanikoInfo, kanikoSource},
			wantEvents: true, wantLog: true,
		},
		{
			name: "failed, the log cannot be read", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pod:    func(j *batchv1.Job) *corev1.Pod { return withState(pod(corev1.PodFailed, j), exited(3, "Error", "")) },
			logErr: apierrors.NewServiceUnavailable("down"),
			state:  Failed, reason: ReasonBuildFailed, message: "The build failed with exit code 3",
			wantEvents: true, wantLog: true,
		},
		{
			name: "failed, the builder image could not be pulled", job: failedJob(batchv1.JobReasonDeadlineExceeded),
			pod: func(j *batchv1.Job) *corev1.Pod {
				return withState(pod(corev1.PodPending, j), waiting("ErrImagePull", ""))
			},
			events: []runtime.Object{podEvent("Failed", pullMessage, t0.Add(time.Minute))},
			state:  Failed, reason: ReasonBuilderPullFailed, message: pullMessage,
			wantEvents: true, wantLog: false, // a Pending Pod has no log
		},
		{
			name: "failed, the Pod is gone", job: failedJob(batchv1.JobReasonDeadlineExceeded),
			state: Failed, reason: ReasonDeadlineExceeded, message: "The build did not finish within its deadline",
			wantEvents: true,
		},
		{
			// The Job controller deleted the Pod at the deadline; its events stay.
			name: "failed, the Pod that waited for an image is gone", job: failedJob(batchv1.JobReasonDeadlineExceeded),
			events: []runtime.Object{jobCreatedPod(stateJob().Name + "-x7k2p"), deletedPodEvent(stateJob().Name+"-x7k2p", "Failed", pullMessage, t0.Add(time.Minute))},
			state:  Failed, reason: ReasonDeadlineExceeded, message: "The build did not finish within its deadline: " + pullMessage,
			wantEvents: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objects := append([]runtime.Object{tt.job}, tt.events...)
			if tt.pod != nil {
				objects = append(objects, tt.pod(tt.job))
			}
			client := newLogClient(tt.log, tt.logErr, objects...)
			svc := NewService(client, buildsConfig())

			st, tail, err := svc.Status(context.Background(), "alice", stateID)
			require.NoError(t, err)
			assert.Equal(t, tt.state, st.State)
			assert.Equal(t, tt.reason, st.Reason)
			if tt.message != "" {
				assert.Equal(t, tt.message, st.Message)
			}
			if tt.state == Succeeded {
				assert.Equal(t, stateDigest, st.Digest)
			}
			assert.Equal(t, tt.tail, tail)
			assert.Equal(t, stateID, st.ID)
			assert.Equal(t, tt.job.Name, st.JobName)

			listedEvents := false
			for _, a := range client.Actions() {
				if a.GetVerb() == "list" && a.GetResource().Resource == "events" {
					listedEvents = true
				}
			}
			assert.Equal(t, tt.wantEvents, listedEvents, "events listed")
			reqs := client.logRequests()
			if !tt.wantLog {
				assert.Empty(t, reqs, "log read")
				return
			}
			require.Len(t, reqs, 1)
			assert.Equal(t, int64(failedLogLines), *reqs[0].TailLines)
		})
	}
}

func TestServiceStatusErrors(t *testing.T) {
	tests := []struct {
		name     string
		resource string
		err      error
		kind     fault.Kind
	}{
		{name: "jobs unavailable", resource: "jobs", err: apierrors.NewServiceUnavailable("down"), kind: fault.Unavailable},
		{name: "jobs unreachable", resource: "jobs", err: errors.New("dial tcp 127.0.0.1:6443: connect: connection refused"), kind: fault.Unavailable},
		{name: "jobs forbidden", resource: "jobs", err: errForbidden(), kind: fault.Internal},
		{name: "pods unavailable", resource: "pods", err: apierrors.NewTimeoutError("slow", 1), kind: fault.Unavailable},
		{name: "events unavailable", resource: "events", err: apierrors.NewTooManyRequests("busy", 1), kind: fault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := failedJob(batchv1.JobReasonBackoffLimitExceeded)
			client := newLogClient("", nil, job, ownedPod(job, "build-pod", corev1.PodFailed, stateT0))
			client.PrependReactor("list", tt.resource, func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			svc := NewService(client, buildsConfig())
			_, _, err := svc.Status(context.Background(), "alice", stateID)
			require.Error(t, err)
			assert.Equal(t, tt.kind, fault.KindOf(err))
			assert.ErrorIs(t, err, tt.err, "the cause is kept for the log")
		})
	}
}
