package runtimebuild

import (
	"context"
	"errors"
	"sort"
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
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
)

var cleanupNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// buildJob is a build Job of user in namespace "builds", finished at the
// given time with the given condition, or unfinished when cond is "".
func buildJob(name, user string, cond batchv1.JobConditionType, finishedAt time.Time) *batchv1.Job {
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			Namespace:         "builds",
			UID:               types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(cleanupNow.Add(-100 * time.Hour)),
			Labels:            map[string]string{kube.LabelComponent: kube.Component, kube.LabelUser: user, kube.LabelKind: "python"},
		},
	}
	switch cond {
	case batchv1.JobComplete:
		job.Status.CompletionTime = &metav1.Time{Time: finishedAt}
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(finishedAt)},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(finishedAt)},
		}
	case batchv1.JobFailed:
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(finishedAt)},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(finishedAt)},
		}
	}
	return job
}

func cleanupFixture() []runtime.Object {
	old := cleanupNow.Add(-48 * time.Hour)
	recent := cleanupNow.Add(-1 * time.Hour)

	notBuild := buildJob("alice-other-job", "alice", batchv1.JobComplete, old)
	delete(notBuild.Labels, kube.LabelComponent)

	// Complete=False: the condition is there but the Job is not finished.
	notDone := buildJob("alice-condition-false", "alice", "", old)
	notDone.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(old)}}

	// Complete without a completion time: the condition's time counts.
	noCompletionTime := buildJob("alice-no-completion-time", "alice", batchv1.JobComplete, old)
	noCompletionTime.Status.CompletionTime = nil

	otherNS := buildJob("alice-other-namespace", "alice", batchv1.JobComplete, old)
	otherNS.Namespace = "elsewhere"

	return []runtime.Object{
		buildJob("alice-old-complete", "alice", batchv1.JobComplete, old),
		buildJob("alice-old-failed", "alice", batchv1.JobFailed, old),
		buildJob("alice-recent-complete", "alice", batchv1.JobComplete, recent),
		buildJob("alice-recent-failed", "alice", batchv1.JobFailed, recent),
		buildJob("alice-running", "alice", "", time.Time{}),
		buildJob("alice-pushed", "alice", "", time.Time{}),
		buildJob("alice-push-failed", "alice", "", time.Time{}),
		noCompletionTime,
		notDone,
		notBuild,
		otherNS,
		buildJob("bob-old-complete", "bob", batchv1.JobComplete, old),
		buildJob("bob-running", "bob", "", time.Time{}),
		// Named like alice's builds, labelled for bob: selection is by label.
		buildJob("build-alice-0123456789abcdef", "bob", batchv1.JobFailed, old),
		buildJob("alice", "bob", batchv1.JobComplete, old),
	}
}

// cleanupPods are the Pods of two of cleanupFixture's unfinished Jobs: one
// whose push step wrote its digest an hour ago (its status says succeeded;
// the Job controller has yet to record it), one whose push failed.
func cleanupPods() []runtime.Object {
	pushed := podOf("alice-pushed", 0, "sha256:"+strings.Repeat("ab", 32))
	pushed.Status.ContainerStatuses[0].State.Terminated.FinishedAt = metav1.NewTime(cleanupNow.Add(-time.Hour))
	return []runtime.Object{pushed, podOf("alice-push-failed", 1, "")}
}

func TestCleanup(t *testing.T) {
	tests := []struct {
		name        string
		user        string
		system      bool
		maxAge      time.Duration
		wantDeleted []string
	}{
		{
			name: "caller's old finished builds", user: "alice", maxAge: 24 * time.Hour,
			wantDeleted: []string{"alice-no-completion-time", "alice-old-complete", "alice-old-failed"},
		},
		{
			name: "caller's finished builds, max age 0", user: "alice", maxAge: 0,
			wantDeleted: []string{"alice-no-completion-time", "alice-old-complete", "alice-old-failed", "alice-pushed", "alice-recent-complete", "alice-recent-failed"},
		},
		{
			name: "nothing old enough", user: "alice", maxAge: 8760 * time.Hour,
			wantDeleted: nil,
		},
		{
			name: "another user", user: "bob", maxAge: 24 * time.Hour,
			wantDeleted: []string{"alice", "bob-old-complete", "build-alice-0123456789abcdef"},
		},
		{
			name: "a user with no builds", user: "carol", maxAge: 0,
			wantDeleted: nil,
		},
		{
			name: "system scope", user: "whisk-system", system: true, maxAge: 24 * time.Hour,
			wantDeleted: []string{"alice", "alice-no-completion-time", "alice-old-complete", "alice-old-failed", "bob-old-complete", "build-alice-0123456789abcdef"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(append(cleanupFixture(), cleanupPods()...)...)
			s := NewService(client, config.Config{Namespace: "builds"}, WithClock(func() time.Time { return cleanupNow }))
			n, err := s.Cleanup(context.Background(), tt.user, tt.system, tt.maxAge)
			require.NoError(t, err)

			var deleted []string
			for _, a := range client.Actions() {
				if !a.Matches("delete", "jobs") {
					continue
				}
				d := a.(k8stesting.DeleteAction)
				assert.Equal(t, "builds", d.GetNamespace())
				opts := d.GetDeleteOptions()
				require.NotNil(t, opts.PropagationPolicy, "delete of %s has no propagation policy", d.GetName())
				assert.Equal(t, metav1.DeletePropagationBackground, *opts.PropagationPolicy)
				deleted = append(deleted, d.GetName())
			}
			sort.Strings(deleted)
			assert.Equal(t, tt.wantDeleted, deleted)
			assert.Equal(t, len(tt.wantDeleted), n)

			// What was not deleted is still there.
			left, err := client.BatchV1().Jobs("").List(context.Background(), metav1.ListOptions{})
			require.NoError(t, err)
			assert.Len(t, left.Items, len(cleanupFixture())-len(tt.wantDeleted))
		})
	}
}

func TestCleanupErrors(t *testing.T) {
	tests := []struct {
		name     string
		verb     string
		err      error
		wantKind fault.Kind
		wantN    int
	}{
		{name: "list refused", verb: "list", err: errForbidden(), wantKind: fault.Internal},
		{name: "list unavailable", verb: "list", err: errUnavailable(), wantKind: fault.Unavailable},
		{name: "connection refused", verb: "list", err: errors.New("dial tcp 127.0.0.1:6443: connect: connection refused"), wantKind: fault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(cleanupFixture()...)
			client.PrependReactor(tt.verb, "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			s := NewService(client, config.Config{Namespace: "builds"}, WithClock(func() time.Time { return cleanupNow }))
			n, err := s.Cleanup(context.Background(), "alice", false, 24*time.Hour)
			require.Error(t, err)
			assert.Equal(t, tt.wantKind, fault.KindOf(err))
			assert.Equal(t, tt.wantN, n)
		})
	}
}

func TestCleanupToleratesJobsAlreadyGone(t *testing.T) {
	client := fake.NewClientset(cleanupFixture()...)
	client.PrependReactor("delete", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errNotFound(a.(k8stesting.DeleteAction).GetName())
	})
	s := NewService(client, config.Config{Namespace: "builds"}, WithClock(func() time.Time { return cleanupNow }))
	n, err := s.Cleanup(context.Background(), "alice", false, 24*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
}

// One Job that cannot be deleted does not stop the others; the reply names it.
func TestCleanupGoesOnPastAJobItCannotDelete(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Group: "batch", Resource: "jobs"}, "alice-old-failed", errors.New("uid precondition"))
	tests := []struct {
		name        string
		err         error
		wantDeleted int
		wantReason  string
	}{
		{"replaced since listed", conflict, 2, "replaced by a new build since it was listed"},
		{"refused", errForbidden(), 2, "Kubernetes refused deleting build job alice-old-failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(cleanupFixture()...)
			client.PrependReactor("delete", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if a.(k8stesting.DeleteAction).GetName() == "alice-old-failed" {
					return true, nil, tt.err
				}
				return false, nil, nil
			})
			s := NewService(client, config.Config{Namespace: "builds"}, WithClock(func() time.Time { return cleanupNow }))
			n, err := s.Cleanup(context.Background(), "alice", false, 24*time.Hour)
			assert.Equal(t, tt.wantDeleted, n)
			var partial *CleanupFailures
			require.ErrorAs(t, err, &partial)
			assert.Equal(t, []CleanupFailure{{Job: "alice-old-failed", Reason: tt.wantReason}}, partial.Failed)
			assert.Equal(t, "Cleaned up 2 jobs; could not delete 1: alice-old-failed ("+tt.wantReason+").",
				CleanupMessage(n, partial.Failed))
			assert.NotContains(t, CleanupMessage(n, partial.Failed), "not allowed", "the API server's own words stay in the log")
		})
	}
}

// An API server that stops answering mid-way stops the cleanup at once:
// every further delete would wait out the same timeout.
func TestCleanupStopsWhenTheAPIServerStopsAnswering(t *testing.T) {
	client := fake.NewClientset(cleanupFixture()...)
	deletes := 0
	client.PrependReactor("delete", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		deletes++
		if deletes == 2 {
			return true, nil, errors.New("net/http: request canceled (Client.Timeout exceeded while awaiting headers)")
		}
		return false, nil, nil
	})
	s := NewService(client, config.Config{Namespace: "builds"}, WithClock(func() time.Time { return cleanupNow }))
	n, err := s.Cleanup(context.Background(), "alice", false, 24*time.Hour)
	assert.Equal(t, 1, n)
	assert.Equal(t, 2, deletes, "no delete after the one that timed out")
	fe := fault.As(err)
	require.NotNil(t, fe)
	assert.Equal(t, fault.Unavailable, fe.Kind)
	assert.Equal(t, "KubernetesUnavailable", fe.Reason)
	assert.Equal(t, 1, fe.Details["deleted"])
	assert.Len(t, fe.Details["failed"], 1)
}

func TestCleanupMessageOfASuccess(t *testing.T) {
	assert.Equal(t, "Cleaned up 0 jobs successfully.", CleanupMessage(0, nil))
	assert.Equal(t, "Cleaned up 3 jobs successfully.", CleanupMessage(3, nil))
}
