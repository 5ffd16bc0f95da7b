package runtimebuild

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

// stepsPod is a Pod of stateJob in phase whose fetch, build and push steps
// are in the given states (a zero state: not started).
func stepsPod(phase corev1.PodPhase, fetch, build, push corev1.ContainerState) corev1.Pod {
	return corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "build-pod", Namespace: "builds", CreationTimestamp: metav1.NewTime(stateJobAt)},
		Status: corev1.PodStatus{
			Phase: phase,
			InitContainerStatuses: []corev1.ContainerStatus{
				{Name: buildjob.StepFetch, State: fetch},
				{Name: buildjob.StepBuild, State: build},
			},
			ContainerStatuses: []corev1.ContainerStatus{{Name: buildjob.StepPush, State: push}},
		},
	}
}

func TestStatusOfSteps(t *testing.T) {
	none := corev1.ContainerState{}
	initializing := waiting("PodInitializing", "")
	ok := exited(0, "Completed", "")
	tests := []struct {
		name        string
		failed      bool
		pod         corev1.Pod
		tail        []string
		wantState   State
		wantReason  string
		wantMessage string
		wantDigest  string
	}{
		{
			name: "fetching the base: running, though the Pod is Pending",
			pod:  stepsPod(corev1.PodPending, running(), none, initializing), wantState: Running,
		},
		{
			name: "building",
			pod:  stepsPod(corev1.PodPending, ok, running(), initializing), wantState: Running,
		},
		{
			name:      "pushed: the digest from the push step",
			pod:       stepsPod(corev1.PodSucceeded, ok, ok, exited(0, "Completed", "127.0.0.1:5000/alice@"+stateDigest+"\n")),
			wantState: Succeeded, wantDigest: stateDigest,
		},
		{
			name: "the base could not be fetched", failed: true,
			pod:       stepsPod(corev1.PodFailed, exited(1, "Error", "Error: MANIFEST_UNKNOWN: manifest unknown\n"), none, initializing),
			tail:      []string{"INFO Retrieving image", "error: MANIFEST_UNKNOWN: manifest unknown"},
			wantState: Failed, wantReason: ReasonSourcePullFailed,
			wantMessage: "The source image could not be pulled: error: MANIFEST_UNKNOWN: manifest unknown",
		},
		{
			name: "the base could not be fetched, no log: the termination message", failed: true,
			pod:       stepsPod(corev1.PodFailed, exited(1, "Error", "line one\n\x1b[31mUNAUTHORIZED\x1b[0m\n"), none, initializing),
			wantState: Failed, wantReason: ReasonSourcePullFailed,
			wantMessage: "The source image could not be pulled: UNAUTHORIZED",
		},
		{
			name: "the build failed", failed: true,
			pod:       stepsPod(corev1.PodFailed, ok, exited(1, "Error", ""), initializing),
			tail:      []string{"installing", "error building image: error building stage: exit status 1"},
			wantState: Failed, wantReason: ReasonBuildFailed,
			wantMessage: "The build failed with exit code 1: error building image: error building stage: exit status 1",
		},
		{
			name: "the push failed", failed: true,
			pod:       stepsPod(corev1.PodFailed, ok, ok, exited(1, "Error", "")),
			tail:      []string{"Error: PUT …: UNAUTHORIZED: authentication required"},
			wantState: Failed, wantReason: ReasonPushFailed,
			wantMessage: "The image could not be pushed to " + stateImage + ": Error: PUT …: UNAUTHORIZED: authentication required",
		},
		{
			name: "the build ran out of memory", failed: true,
			pod:       stepsPod(corev1.PodFailed, ok, exited(137, "OOMKilled", ""), initializing),
			wantState: Failed, wantReason: ReasonOutOfMemory,
		},
		{
			name:      "the warmer image cannot be pulled",
			pod:       stepsPod(corev1.PodPending, waiting("ImagePullBackOff", "Back-off pulling image"), none, initializing),
			wantState: Queued, wantReason: ReasonBuilderPullFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := stateJob()
			if tt.failed {
				job = failedJob("BackoffLimitExceeded")
			} else if tt.wantState == Succeeded {
				job = completeJob()
			}
			st := StatusOf(job, []corev1.Pod{tt.pod}, nil, tt.tail)
			assert.Equal(t, tt.wantState, st.State)
			assert.Equal(t, tt.wantReason, st.Reason)
			if tt.wantMessage != "" {
				assert.Equal(t, tt.wantMessage, st.Message)
			}
			assert.Equal(t, tt.wantDigest, st.Digest)
		})
	}
}

func TestOverKept(t *testing.T) {
	job := func(name string, finishedMin int) batchv1.Job {
		j := stateJob()
		j.Name = name
		if finishedMin > 0 {
			j = completeJob()
			j.Name = name
			at := metav1.NewTime(stateT0.Add(time.Duration(finishedMin) * time.Minute))
			j.Status.CompletionTime = &at
		}
		return *j
	}
	jobs := []batchv1.Job{job("running", 0), job("done-1", 1), job("done-5", 5), job("done-3", 3), job("done-2", 2)}
	names := func(js []batchv1.Job) []string {
		var out []string
		for _, j := range js {
			out = append(out, j.Name)
		}
		return out
	}
	assert.Equal(t, []string{"done-2", "done-1"}, names(overKept(jobs, 2)), "the oldest finished beyond the newest two")
	assert.Empty(t, overKept(jobs, 4))
	assert.Empty(t, overKept(jobs, 5))
	assert.Equal(t, []string{"done-5", "done-3", "done-2", "done-1"}, names(overKept(jobs, 0)), "running builds are never pruned")

	// Past a bound of 5 or more, a fifth more goes, so the next builds do
	// not each delete one.
	many := []batchv1.Job{job("running", 0)}
	for i := 1; i <= 11; i++ {
		many = append(many, job(fmt.Sprintf("done-%02d", i), i))
	}
	assert.Empty(t, overKept(many, 11))
	assert.Equal(t, []string{"done-03", "done-02", "done-01"}, names(overKept(many, 10)), "10 kept at most: down to 8")
}

func TestCheckBaseUser(t *testing.T) {
	for _, u := range []string{"", "1001", "nobody", "app:app", "1001:1001", "www-data", "node_1"} {
		assert.NoError(t, buildjob.CheckBaseUser(u), u)
	}
	for _, u := range []string{"1001\nRUN cat /kaniko/.docker/config.json", "root\n", "a b", "$(id)", "-x", "u:g:h", "a;b", strings.Repeat("u", 33)} {
		assert.Error(t, buildjob.CheckBaseUser(u), u)
	}
}

// A failed install leads the message with the installer's own words.
func TestStatusOfFailedInstall(t *testing.T) {
	ok := exited(0, "Completed", "")
	pod := stepsPod(corev1.PodFailed, ok, exited(1, "Error", ""), waiting("PodInitializing", ""))
	tail := []string{
		"INFO[0003] RUN /bin/extend",
		"npm ERR! code E404",
		"npm ERR! 404 Not Found - GET https://registry.npmjs.org/no-such-package-here - Not found",
		"npm ERR! A complete log of this run can be found in: /root/.npm/_logs/debug-0.log",
		"error building image: error building stage: failed to execute command: waiting for process to exit: exit status 1",
	}
	st := StatusOf(failedJob("BackoffLimitExceeded"), []corev1.Pod{pod}, nil, tail)
	assert.Equal(t, ReasonBuildFailed, st.Reason)
	assert.True(t, strings.HasPrefix(st.Message, "npm ERR! code E404\n"), "message: %q", st.Message)
	assert.Contains(t, st.Message, "404 Not Found")
	assert.True(t, strings.HasSuffix(st.Message, "The build failed with exit code 1: "+tail[4]), "Kaniko's words last: %q", st.Message)
}
