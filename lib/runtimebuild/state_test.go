package runtimebuild

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

// Times of the state fixtures: the Job is created at stateT0, its
// controller starts it a second later, the container runs from +5s.
var (
	stateT0      = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	stateJobAt   = stateT0.Add(time.Second)
	stateRunAt   = stateT0.Add(5 * time.Second)
	stateEndAt   = stateT0.Add(40 * time.Second)
	stateID      = buildjob.ID(buildjob.Inputs{Kind: "python", Source: "r.example.com/rt@sha256:aa", Target: "alice:py1"})
	stateDigest  = "sha256:" + strings.Repeat("0123456789abcdef", 4)
	stateImage   = "pull.example.com/alice:py1"
	kanikoSource = "error building image: unable to complete operation after 0 attempts, last error: " +
		"GET http://127.0.0.1:5000/v2/x/manifests/sha256:" + strings.Repeat("ab", 32) + ": MANIFEST_UNKNOWN: manifest unknown"
	kanikoInfo = "INFO[0000] Retrieving image manifest 127.0.0.1:5000/x@sha256:" + strings.Repeat("ab", 32)
)

// stateJob is alice's build Job in namespace "builds", created and started
// but not finished.
func stateJob() *batchv1.Job {
	name := buildjob.JobName("alice", stateID)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "builds", UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(stateT0),
			Labels:            map[string]string{kube.LabelComponent: kube.Component, kube.LabelUser: "alice", kube.LabelBuildID: buildjob.LabelID(stateID), kube.LabelKind: "python"},
			Annotations:       map[string]string{kube.AnnotationBuildID: stateID, kube.AnnotationImage: stateImage},
		},
		Status: batchv1.JobStatus{StartTime: &metav1.Time{Time: stateJobAt}},
	}
}

// completeJob is stateJob finished successfully at stateEndAt.
func completeJob() *batchv1.Job {
	j := stateJob()
	j.Status.CompletionTime = &metav1.Time{Time: stateEndAt}
	j.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(stateEndAt)},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(stateEndAt)},
	}
	return j
}

// failedJob is stateJob failed at stateEndAt for reason (a Job condition
// reason such as DeadlineExceeded or BackoffLimitExceeded).
func failedJob(reason string) *batchv1.Job {
	j := stateJob()
	j.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: reason, LastTransitionTime: metav1.NewTime(stateEndAt)},
		{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: reason, LastTransitionTime: metav1.NewTime(stateEndAt)},
	}
	return j
}

// statePod is a Pod of stateJob in phase with the Kaniko container in state.
func statePod(phase corev1.PodPhase, state corev1.ContainerState) corev1.Pod {
	p := corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "build-pod", Namespace: "builds", CreationTimestamp: metav1.NewTime(stateJobAt)},
		Status:     corev1.PodStatus{Phase: phase},
	}
	if state != (corev1.ContainerState{}) {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: containerName, State: state}}
	}
	return p
}

func waiting(reason, message string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
}

func running() corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(stateRunAt)}}
}

func exited(code int32, reason, message string) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, Message: message,
		StartedAt: metav1.NewTime(stateRunAt), FinishedAt: metav1.NewTime(stateEndAt.Add(-time.Second)),
	}}
}

// unschedulable is a Pending Pod the scheduler could not place.
func unschedulable() corev1.Pod {
	p := statePod(corev1.PodPending, corev1.ContainerState{})
	p.Status.Conditions = []corev1.PodCondition{{
		Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
		Message: "condition message",
	}}
	return p
}

// evicted is a Pod its node evicted, as the kubelet leaves it: its step
// ended with an unknown status, with no start or finish time.
func evicted(message string) corev1.Pod {
	p := statePod(corev1.PodFailed, exited(137, "ContainerStatusUnknown", "The container could not be located when the pod was terminated"))
	p.Status.ContainerStatuses[0].State.Terminated.StartedAt = metav1.Time{}
	p.Status.Reason, p.Status.Message = "Evicted", message
	return p
}

func warning(reason, message string) corev1.Event {
	return corev1.Event{Type: corev1.EventTypeWarning, Reason: reason, Message: message}
}

const (
	pullMessage       = `Failed to pull image "gcr.io/kaniko-project/executor:v9": not found`
	sourcePullMessage = `Failed to pull image "r.example.com/rt@sha256:aa": failed to extract layer: exec: "unpigz": executable file not found in $PATH`
	scheduleMessage   = "0/3 nodes are available: 3 Insufficient memory."
)

func TestStatusOf(t *testing.T) {
	tests := []struct {
		name     string
		job      *batchv1.Job
		pods     []corev1.Pod
		warnings []corev1.Event
		tail     []string

		state       State
		reason      string
		message     string   // the message, exactly
		contains    []string // or words the message holds
		digest      string
		started     *time.Time
		finished    *time.Time
		notContains string
	}{
		{name: "queued without a pod", job: stateJob(), state: Queued},
		{
			name: "queued with a pod being created", job: stateJob(),
			pods:  []corev1.Pod{statePod(corev1.PodPending, waiting("ContainerCreating", ""))},
			state: Queued,
		},
		{
			name: "queued with a pod not yet scheduled", job: stateJob(),
			pods:  []corev1.Pod{statePod(corev1.PodPending, corev1.ContainerState{})},
			state: Queued,
		},
		{
			name: "queued, the builder image cannot be pulled", job: stateJob(),
			pods:     []corev1.Pod{statePod(corev1.PodPending, waiting("ErrImagePull", "rpc error"))},
			warnings: []corev1.Event{warning("Failed", pullMessage), warning("Failed", "an older pull failure")},
			state:    Queued, reason: ReasonBuilderPullFailed, message: pullMessage,
		},
		{
			name: "queued, the builder image pull backs off", job: stateJob(),
			pods:     []corev1.Pod{statePod(corev1.PodPending, waiting("ImagePullBackOff", "Back-off pulling image"))},
			warnings: []corev1.Event{warning("BackOff", "Back-off pulling image"), warning("Failed", pullMessage)},
			state:    Queued, reason: ReasonBuilderPullFailed, message: pullMessage,
		},
		{
			name: "queued, pull back-off without an event", job: stateJob(),
			pods:  []corev1.Pod{statePod(corev1.PodPending, waiting("ImagePullBackOff", "Back-off pulling image x"))},
			state: Queued, reason: ReasonBuilderPullFailed, message: "Back-off pulling image x",
		},
		{
			name: "queued, a pull failure known only from its event", job: stateJob(),
			pods:     []corev1.Pod{statePod(corev1.PodPending, corev1.ContainerState{})},
			warnings: []corev1.Event{warning("Failed", pullMessage)},
			state:    Queued, reason: ReasonBuilderPullFailed, message: pullMessage,
		},
		{
			name: "queued, no node fits", job: stateJob(),
			pods:     []corev1.Pod{unschedulable()},
			warnings: []corev1.Event{warning("FailedScheduling", scheduleMessage)},
			state:    Queued, reason: ReasonUnschedulable, message: scheduleMessage,
		},
		{
			name: "queued, unschedulable without an event", job: stateJob(),
			pods:  []corev1.Pod{unschedulable()},
			state: Queued, reason: ReasonUnschedulable, message: "condition message",
		},
		{
			name: "queued, a scheduling failure known only from its event", job: stateJob(),
			pods:     []corev1.Pod{statePod(corev1.PodPending, corev1.ContainerState{})},
			warnings: []corev1.Event{warning("FailedScheduling", scheduleMessage)},
			state:    Queued, reason: ReasonUnschedulable, message: scheduleMessage,
		},
		{
			name: "queued, an unrelated warning", job: stateJob(),
			pods:     []corev1.Pod{statePod(corev1.PodPending, waiting("ContainerCreating", ""))},
			warnings: []corev1.Event{warning("FailedMount", "MountVolume.SetUp failed for volume \"context\"")},
			state:    Queued,
		},
		{
			name: "running", job: stateJob(),
			pods:  []corev1.Pod{statePod(corev1.PodRunning, running())},
			state: Running, started: &stateRunAt,
		},
		{
			name: "running, the newest pod counts", job: stateJob(),
			pods:  []corev1.Pod{statePod(corev1.PodRunning, running()), statePod(corev1.PodFailed, exited(1, "Error", ""))},
			state: Running, started: &stateRunAt,
		},
		{
			name: "the pod ended, the Job not yet", job: stateJob(),
			pods:  []corev1.Pod{statePod(corev1.PodSucceeded, exited(0, "Completed", stateDigest))},
			state: Running, started: &stateRunAt,
		},
		{
			name: "the push step wrote its digest, the Job not yet", job: stateJob(),
			pods:  []corev1.Pod{pushedPod(0, stateDigest)},
			state: Succeeded, digest: stateDigest, started: &stateRunAt, finished: ptrTo(stateEndAt.Add(-time.Second)),
		},
		{
			name: "the push step failed, the Job not yet", job: stateJob(),
			pods:  []corev1.Pod{pushedPod(1, stateDigest)},
			state: Running, started: &stateRunAt,
		},
		{
			name: "the push step ended without a digest, the Job not yet", job: stateJob(),
			pods:  []corev1.Pod{pushedPod(0, "")},
			state: Running, started: &stateRunAt,
		},
		{
			name: "queued, the layer engine's source image cannot be pulled", job: layerJob(),
			pods:     []corev1.Pod{layerPod(waiting("ErrImagePull", "pull failed"))},
			warnings: []corev1.Event{warning("Failed", `Failed to pull image "r.example.com/rt@sha256:aa": not found`)},
			state:    Queued, reason: ReasonSourcePullFailed,
			message: `The source image could not be pulled: Failed to pull image "r.example.com/rt@sha256:aa": not found`,
		},
		{
			// The step's image volume (the layer engine's helper) is pulled before its image.
			name: "queued, the layer engine's helper image cannot be pulled", job: layerJob(),
			pods:     []corev1.Pod{layerPod(waiting("ErrImagePull", "pull failed"))},
			warnings: []corev1.Event{warning("Failed", `Failed to pull image "r.example.com/deployer/layer@sha256:bb": no space left on device`)},
			state:    Queued, reason: ReasonBuilderPullFailed,
			message: `Failed to pull image "r.example.com/deployer/layer@sha256:bb": no space left on device`,
		},
		{
			name: "running without container status", job: stateJob(),
			pods:  []corev1.Pod{statePod(corev1.PodRunning, corev1.ContainerState{})},
			state: Running, started: &stateJobAt,
		},
		{
			name: "succeeded", job: completeJob(),
			pods:  []corev1.Pod{statePod(corev1.PodSucceeded, exited(0, "Completed", stateDigest))},
			state: Succeeded, digest: stateDigest, started: &stateRunAt, finished: &stateEndAt,
		},
		{
			name: "succeeded, digest with a trailing newline", job: completeJob(),
			pods:  []corev1.Pod{statePod(corev1.PodSucceeded, exited(0, "Completed", stateDigest+"\n"))},
			state: Succeeded, digest: stateDigest, started: &stateRunAt, finished: &stateEndAt,
		},
		{
			name: "succeeded, no termination message", job: completeJob(),
			pods:  []corev1.Pod{statePod(corev1.PodSucceeded, exited(0, "Completed", ""))},
			state: Succeeded, started: &stateRunAt, finished: &stateEndAt,
		},
		{
			name: "succeeded, the pod is gone", job: completeJob(),
			state: Succeeded, started: &stateJobAt, finished: &stateEndAt,
		},
		{
			name: "failed, deadline exceeded", job: failedJob(batchv1.JobReasonDeadlineExceeded),
			state: Failed, reason: ReasonDeadlineExceeded, contains: []string{"deadline"},
			started: &stateJobAt, finished: &stateEndAt,
		},
		{
			name: "failed, deadline exceeded, the Pod that waited for a builder image deleted", job: failedJob(batchv1.JobReasonDeadlineExceeded),
			warnings: []corev1.Event{warning("Failed", pullMessage)},
			state:    Failed, reason: ReasonDeadlineExceeded, message: "The build did not finish within its deadline: " + pullMessage,
		},
		{
			name: "failed, deadline exceeded, the Pod that waited for the source deleted", job: failedLayerJob(batchv1.JobReasonDeadlineExceeded),
			warnings: []corev1.Event{warning("BackOff", "Back-off pulling image"), warning("Failed", sourcePullMessage)},
			state:    Failed, reason: ReasonDeadlineExceeded,
			message: "The build did not finish within its deadline: The source image could not be pulled: " + sourcePullMessage,
		},
		{
			name: "failed, deadline exceeded while pulling the source", job: failedJob(batchv1.JobReasonDeadlineExceeded),
			pods:  []corev1.Pod{statePod(corev1.PodFailed, exited(137, "Error", ""))},
			tail:  []string{kanikoInfo},
			state: Failed, reason: ReasonDeadlineExceeded, started: &stateRunAt, finished: &stateEndAt,
		},
		{
			name: "failed, the source image is missing", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods:  []corev1.Pod{statePod(corev1.PodFailed, exited(1, "Error", ""))},
			tail:  []string{kanikoInfo, kanikoSource},
			state: Failed, reason: ReasonSourcePullFailed, contains: []string{kanikoSource},
			started: &stateRunAt, finished: &stateEndAt,
		},
		{
			name: "failed, the source error is not the last line", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods:  []corev1.Pod{statePod(corev1.PodFailed, exited(1, "Error", ""))},
			tail:  []string{kanikoInfo, kanikoSource, "exit status 1"},
			state: Failed, reason: ReasonSourcePullFailed, contains: []string{kanikoSource},
		},
		{
			name: "failed, the source manifest line is only information", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods:  []corev1.Pod{statePod(corev1.PodFailed, exited(1, "Error", ""))},
			tail:  []string{kanikoInfo},
			state: Failed, reason: ReasonBuildFailed, contains: []string{"exit code 1", kanikoInfo},
		},
		{
			name: "failed, an information line that says error", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods:  []corev1.Pod{statePod(corev1.PodFailed, exited(1, "Error", ""))},
			tail:  []string{"INFO[0001] Retrieving image error-handler:latest from registry 127.0.0.1:5000"},
			state: Failed, reason: ReasonBuildFailed,
		},
		{
			name: "failed, the push was refused", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods: []corev1.Pod{statePod(corev1.PodFailed, exited(1, "Error", ""))},
			tail: []string{kanikoInfo, "error checking push permissions -- make sure you entered the correct tag name: " +
				"POST http://127.0.0.1:5000/v2/alice/blobs/uploads/: UNAUTHORIZED: authentication required"},
			state: Failed, reason: ReasonBuildFailed, contains: []string{"exit code 1", "UNAUTHORIZED"},
		},
		{
			name: "failed, the builder image cannot be pulled", job: failedJob(batchv1.JobReasonDeadlineExceeded),
			pods:     []corev1.Pod{statePod(corev1.PodPending, waiting("ImagePullBackOff", "Back-off pulling image"))},
			warnings: []corev1.Event{warning("Failed", pullMessage)},
			state:    Failed, reason: ReasonBuilderPullFailed, message: pullMessage,
			started: &stateJobAt, finished: &stateEndAt,
		},
		{
			name: "failed, out of memory", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods:  []corev1.Pod{statePod(corev1.PodFailed, exited(137, "OOMKilled", ""))},
			tail:  []string{kanikoInfo, "INFO[0009] RUN /bin/extend"},
			state: Failed, reason: ReasonOutOfMemory, contains: []string{"memory"},
			started: &stateRunAt, finished: &stateEndAt,
		},
		{
			name: "failed, evicted over its disk limit", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods:  []corev1.Pod{evicted("Pod ephemeral local storage usage exceeds the total limit of containers 10Gi. ")},
			tail:  []string{"INFO[0009] RUN /bin/extend"},
			state: Failed, reason: ReasonBuildFailed,
			message: "The build used more disk than build_ephemeral_storage_limit allows: " +
				"Pod ephemeral local storage usage exceeds the total limit of containers 10Gi.",
			finished: &stateEndAt,
		},
		{
			name: "failed, evicted by a node short of memory", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods:  []corev1.Pod{evicted("The node was low on resource: memory. ")},
			state: Failed, reason: ReasonBuildFailed, message: "The node evicted the build: The node was low on resource: memory.",
			finished: &stateEndAt,
		},
		{
			name: "failed, never scheduled", job: failedJob(batchv1.JobReasonDeadlineExceeded),
			pods:     []corev1.Pod{unschedulable()},
			warnings: []corev1.Event{warning("FailedScheduling", scheduleMessage)},
			state:    Failed, reason: ReasonUnschedulable, message: scheduleMessage,
		},
		{
			name: "failed, the build step failed", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods: []corev1.Pod{statePod(corev1.PodFailed, exited(2, "Error", ""))},
			tail: []string{"INFO[0009] RUN /bin/extend", "ERROR: No matching distribution found for nosuchpackage",
				"error building image: error building stage: failed to execute command: waiting for process to exit: exit status 1"},
			state: Failed, reason: ReasonBuildFailed,
			contains:    []string{"ERROR: No matching distribution found for nosuchpackage\n", "exit code 2", "failed to execute command: waiting for process to exit: exit status 1"},
			notContains: "INFO[", started: &stateRunAt, finished: &stateEndAt,
		},
		{
			name: "failed, the container could not start", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			pods:  []corev1.Pod{statePod(corev1.PodFailed, exited(128, "StartError", "exec: \"/kaniko/executor\": no such file or directory\n"))},
			tail:  []string{kanikoSource},
			state: Failed, reason: ReasonBuildFailed,
			message: "The build container could not start: exec: \"/kaniko/executor\": no such file or directory",
		},
		{
			name: "failed without pod or log", job: failedJob(batchv1.JobReasonBackoffLimitExceeded),
			state: Failed, reason: ReasonBuildFailed, message: "The build failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StatusOf(tt.job, tt.pods, tt.warnings, tt.tail)
			assert.Equal(t, tt.state, got.State)
			assert.Equal(t, tt.state == Succeeded || tt.state == Failed, got.Final())
			assert.Equal(t, tt.reason, got.Reason)
			if tt.message != "" || len(tt.contains) == 0 && tt.reason == "" {
				assert.Equal(t, tt.message, got.Message)
			}
			for _, c := range tt.contains {
				assert.Contains(t, got.Message, c)
			}
			if tt.notContains != "" {
				assert.NotContains(t, got.Message, tt.notContains)
			}
			assert.Equal(t, tt.digest, got.Digest)

			// What every state carries from the Job.
			assert.Equal(t, stateID, got.ID)
			assert.Equal(t, tt.job.Name, got.JobName)
			assert.Equal(t, "alice", got.User)
			assert.Equal(t, "python", got.Kind)
			assert.Equal(t, stateImage, got.Image)
			assert.True(t, stateT0.Equal(got.Created), "created %v", got.Created)

			switch {
			case tt.state == Queued:
				assert.Nil(t, got.Started, "a queued build has not started")
				assert.Nil(t, got.Finished)
			case tt.started != nil:
				if assert.NotNil(t, got.Started) {
					assert.True(t, tt.started.Equal(*got.Started), "started %v, want %v", *got.Started, *tt.started)
				}
			}
			if tt.state == Running {
				assert.Nil(t, got.Finished)
			}
			if tt.finished != nil && assert.NotNil(t, got.Finished) {
				assert.True(t, tt.finished.Equal(*got.Finished), "finished %v, want %v", *got.Finished, *tt.finished)
			}
		})
	}
}

// A Job whose finished condition is False has not finished, whatever its Pod says.
func TestStatusOfConditionFalse(t *testing.T) {
	j := stateJob()
	j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionFalse, Reason: batchv1.JobReasonDeadlineExceeded}}
	got := StatusOf(j, []corev1.Pod{statePod(corev1.PodRunning, running())}, nil, nil)
	assert.Equal(t, Running, got.State)
	assert.Empty(t, got.Reason)
	assert.Nil(t, got.Finished)
}

// Complete without a completion time finishes at the condition's time.
func TestStatusOfCompleteWithoutCompletionTime(t *testing.T) {
	j := completeJob()
	j.Status.CompletionTime = nil
	at := stateEndAt.Add(time.Minute)
	j.Status.Conditions[1].LastTransitionTime = metav1.NewTime(at)
	got := StatusOf(j, nil, nil, nil)
	assert.Equal(t, Succeeded, got.State)
	if assert.NotNil(t, got.Finished) {
		assert.True(t, at.Equal(*got.Finished))
	}
}

// containerName is the one container of a build made before the steps
// were split: such Jobs live on for their TTL, and their state still reads.
const containerName = "kaniko"

// pushedPod is a Pod of stateJob whose push step ended with code, having
// written message to its termination log.
func pushedPod(code int32, message string) corev1.Pod {
	p := statePod(corev1.PodSucceeded, corev1.ContainerState{})
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: buildjob.StepPush, State: exited(code, "Completed", message)}}
	return p
}

// layerJob is stateJob built by the layer engine, whose build step runs
// its source; layerPod is its Pod, the build step in state.
func layerJob() *batchv1.Job {
	j := stateJob()
	j.Annotations[kube.AnnotationSource] = "r.example.com/rt@sha256:aa"
	return j
}

// failedLayerJob is layerJob, failed for reason.
func failedLayerJob(reason string) *batchv1.Job {
	j := failedJob(reason)
	j.Annotations[kube.AnnotationSource] = "r.example.com/rt@sha256:aa"
	return j
}

func layerPod(state corev1.ContainerState) corev1.Pod {
	p := statePod(corev1.PodPending, corev1.ContainerState{})
	p.Spec.InitContainers = []corev1.Container{{Name: buildjob.StepTools, Image: "layer"}, {Name: buildjob.StepBuild, Image: "r.example.com/rt@sha256:aa"}}
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: buildjob.StepTools, State: exited(0, "Completed", "")}, {Name: buildjob.StepBuild, State: state}}
	return p
}

func ptrTo[T any](v T) *T { return &v }
