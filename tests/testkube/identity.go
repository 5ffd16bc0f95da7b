package testkube

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
)

// Identity installs deploy/rbac.yaml in namespace ns of k, as the deploy
// task does, and returns the deployer's identity there: what the actions
// run with in production.
func Identity(t *testing.T, k *stack.Kube, ns string) local.Identity {
	t.Helper()
	root, err := stack.RepoRoot()
	require.NoError(t, err)
	id, err := local.InstallRBAC(context.Background(), k.Client, root, ns, k.Config.Host)
	require.NoError(t, err)
	return id
}

// Deployer returns a clientset of the deployer's identity in ns (see Identity).
func Deployer(t *testing.T, k *stack.Kube, ns string) kubernetes.Interface {
	t.Helper()
	c, err := Identity(t, k, ns).Client()
	require.NoError(t, err)
	return c
}
