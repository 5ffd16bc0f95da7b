package runtimebuild

import (
	"context"
	"testing"

	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

func TestCancelDeletesInBackground(t *testing.T) {
	job := stateJob()
	other := userJob("bob", buildjob.ID(buildjob.Inputs{Kind: "go"}))
	client := fake.NewClientset(job, other, ownedPod(job, "build-pod", corev1.PodRunning, stateT0))
	logger, hook := logtest.NewNullLogger()
	svc := NewService(client, buildsConfig(), WithLogger(logger))

	st, err := svc.Cancel(context.Background(), "alice", stateID)
	require.NoError(t, err)
	assert.Equal(t, job.Name, st.JobName)
	assert.Equal(t, stateID, st.ID)

	var deletes []k8stesting.DeleteAction
	for _, a := range client.Actions() {
		if d, ok := a.(k8stesting.DeleteAction); ok {
			deletes = append(deletes, d)
		}
	}
	require.Len(t, deletes, 1, "one delete: the Job, whose Pods and context go with it")
	d := deletes[0]
	assert.Equal(t, "jobs", d.GetResource().Resource)
	assert.Equal(t, "builds", d.GetNamespace())
	assert.Equal(t, job.Name, d.GetName())
	opts := d.GetDeleteOptions()
	require.NotNil(t, opts.PropagationPolicy, "a plain delete orphans the Pods")
	assert.Equal(t, metav1.DeletePropagationBackground, *opts.PropagationPolicy)
	require.NotNil(t, opts.Preconditions)
	require.NotNil(t, opts.Preconditions.UID)
	assert.Equal(t, job.UID, *opts.Preconditions.UID, "only the Job that was found is deleted")

	_, err = client.BatchV1().Jobs("builds").Get(context.Background(), job.Name, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the Job is gone: %v", err)
	_, err = client.BatchV1().Jobs("builds").Get(context.Background(), other.Name, metav1.GetOptions{})
	assert.NoError(t, err, "another user's Job stays")

	require.NotNil(t, hook.LastEntry())
	assert.Equal(t, "build cancelled", hook.LastEntry().Message)
	assert.Equal(t, job.Name, hook.LastEntry().Data["job"])
	assert.Equal(t, stateID, hook.LastEntry().Data["build_id"])

	// Cancelling again: the build is gone.
	_, err = svc.Cancel(context.Background(), "alice", stateID)
	assert.Equal(t, fault.NotFound, fault.KindOf(err))
	assert.NotNil(t, fault.As(err))
}

func TestCancelDeleteErrors(t *testing.T) {
	gr := schema.GroupResource{Group: "batch", Resource: "jobs"}
	tests := []struct {
		name    string
		err     error
		wantErr bool
		kind    fault.Kind
		reason  string
	}{
		{name: "already gone", err: apierrors.NewNotFound(gr, "x")},
		{name: "replaced since it was read", err: apierrors.NewConflict(gr, "x", assert.AnError), wantErr: true, kind: fault.Conflict, reason: "BuildChanged"},
		{name: "API server unavailable", err: apierrors.NewServiceUnavailable("down"), wantErr: true, kind: fault.Unavailable, reason: "KubernetesUnavailable"},
		{name: "forbidden", err: errForbidden(), wantErr: true, kind: fault.Internal, reason: "KubernetesError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset(stateJob())
			client.PrependReactor("delete", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			svc := NewService(client, buildsConfig())
			st, err := svc.Cancel(context.Background(), "alice", stateID)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, buildjob.JobName("alice", stateID), st.JobName)
				return
			}
			require.Error(t, err)
			fe := fault.As(err)
			require.NotNil(t, fe)
			assert.Equal(t, tt.kind, fe.Kind)
			assert.Equal(t, tt.reason, fe.Reason)
			assert.ErrorIs(t, err, tt.err)
		})
	}
}
