package runtimebuild

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/userregistry"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

// A retried build with its own credentials gets a Secret and a context of
// its own while its earlier Job's are still there for the garbage
// collector: nothing of the earlier Job is deleted by the deployer, which
// has no right to delete them.
func TestEnsureRetryLeavesTheLeftoversToTheGarbageCollector(t *testing.T) {
	userHost := testregistry.Start(t).Host
	url, _ := couchStandIn(t, map[string]any{"login": "alice", "userenv": kv(userregistry.EnvRegistryHost, userHost, userregistry.EnvRegistrySecret, userRegUser+":"+userRegPassword)})
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
	job := jobs[0]
	owned := 0
	secrets, err := e.client.CoreV1().Secrets("builds").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	cms, err := e.client.CoreV1().ConfigMaps("builds").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	var names []string
	for _, o := range append(secretsMeta(secrets.Items), cmsMeta(cms.Items)...) {
		if ref := metav1.GetControllerOf(o); ref != nil && ref.UID == job.UID {
			owned++
		}
		names = append(names, o.GetName())
	}
	assert.Equal(t, 2, owned, "the new Job owns a Secret and a context of its own: %v", names)
	assert.Len(t, secrets.Items, 3, "the platform's Secret and one temporary Secret per Job")
	contexts := 0
	for _, cm := range cms.Items {
		if cm.Labels[kube.LabelBuildID] != "" {
			contexts++
		}
	}
	assert.Equal(t, 2, contexts, "one context per Job")
	for _, a := range e.client.Actions() {
		if a.GetVerb() == "delete" {
			assert.Equal(t, "jobs", a.GetResource().Resource, "only the failed Job is deleted")
		}
	}
}

func secretsMeta(items []corev1.Secret) []metav1.Object {
	out := make([]metav1.Object, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

func cmsMeta(items []corev1.ConfigMap) []metav1.Object {
	out := make([]metav1.Object, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
