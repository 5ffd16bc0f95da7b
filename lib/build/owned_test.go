package build

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/apache/openserverless-deployer/lib/config"
)

func TestCreateOwned(t *testing.T) {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "build-alice-0123456789abcdef", Namespace: "builds", UID: "uid-new"}}
	oldJob := job.DeepCopy()
	oldJob.UID = "uid-old"
	otherJob := job.DeepCopy()
	otherJob.Name, otherJob.UID = "build-bob-0123456789abcdef", "uid-bob"
	existing := func(owner *batchv1.Job) *corev1.ConfigMap {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: job.Name, Namespace: "builds", UID: "uid-cm-old"}, Data: map[string]string{"old": "1"}}
		if owner != nil {
			cm.OwnerReferences = []metav1.OwnerReference{ownedBy(owner)}
		}
		return cm
	}
	tests := []struct {
		name     string
		existing *corev1.ConfigMap
		wantErr  bool
	}{
		{name: "nothing there"},
		{name: "left over by the earlier Job of the name", existing: existing(oldJob)},
		{name: "owned by another Job", existing: existing(otherJob), wantErr: true},
		{name: "owned by nothing", existing: existing(nil), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := fake.NewClientset()
			if tt.existing != nil {
				require.NoError(t, client.Tracker().Add(tt.existing))
			}
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: job.Name, Namespace: "builds", OwnerReferences: []metav1.OwnerReference{ownedBy(job)}}, Data: map[string]string{"new": "1"}}
			err := createOwned(context.Background(), client.CoreV1().ConfigMaps("builds"), cm, job)
			got, getErr := client.CoreV1().ConfigMaps("builds").Get(context.Background(), job.Name, metav1.GetOptions{})
			require.NoError(t, getErr)
			if tt.wantErr {
				assert.True(t, apierrors.IsAlreadyExists(err), "error %v", err)
				assert.Equal(t, tt.existing.Data, got.Data, "another's object is left alone")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, map[string]string{"new": "1"}, got.Data)
			assert.Equal(t, types.UID("uid-new"), got.OwnerReferences[0].UID)
		})
	}
}

// A retried build with its own credentials replaces the Secret its earlier
// Job left for the garbage collector.
func TestEnsureRetryReplacesTheLeftoverSecret(t *testing.T) {
	userHost := testRegistry(t)
	url, _ := couchStandIn(t, map[string]any{"login": "alice", "userenv": kv(EnvRegistryHost, userHost, EnvRegistrySecret, userRegUser+":"+userRegPassword)})
	catalog := map[string]config.Builder{}
	e := newStartEnv(t, withCouch(url, func(c *config.Config) { c.Builders = catalog }), registrySecret("builds"))
	catalog["python:3.13"] = config.Builder{Kind: "python", Source: e.source}
	req := EnsureRequest{Builder: "python:3.13", Retry: true}

	first, err := e.svc.Ensure(context.Background(), "alice", req)
	require.NoError(t, err)
	require.True(t, first.Created)
	e.markJob(t, first.ID, failJob)
	second, err := e.svc.Ensure(context.Background(), "alice", req)
	require.NoError(t, err)
	require.True(t, second.Created)

	jobs := e.jobs(t)
	require.Len(t, jobs, 1)
	secret, err := e.client.CoreV1().Secrets("builds").Get(context.Background(), jobs[0].Name, metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, secret.OwnerReferences, 1)
	assert.Equal(t, jobs[0].UID, secret.OwnerReferences[0].UID, "the Secret belongs to the new Job")
}
