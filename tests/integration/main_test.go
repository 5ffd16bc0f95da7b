// Package integration tests the build library against a real API server
// with the real Job controller and garbage collector (dev/stack), and the
// Debian registry with auth.
package integration

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

var (
	apiserver *stack.Kube
	reg       *stack.Registry
	runtime   name.Digest // a fixture runtime in reg, with /bin/extend and user 1001
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("integration: skipped in -short mode (needs the local stack)")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := testkube.StartCluster(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Stop()
	apiserver, reg, runtime = c.Kube, c.Registry, c.Runtime
	return m.Run()
}

// namespace makes a fresh namespace holding the registry pull secret and the
// deployer's service account and Role (deploy/rbac.yaml), and returns a
// configuration for it and a client of that service account: the library
// runs with the rights the actions have in production.
func namespace(t *testing.T) (config.Config, kubernetes.Interface) {
	t.Helper()
	ns := testkube.Namespace(t, apiserver.Client, "it-", reg.DockerConfigJSON())
	deployer := testkube.Deployer(t, apiserver, ns)
	cfg, err := config.Load(map[string]any{
		"namespace":          ns,
		"registry_push_host": reg.Host,
		"registry_insecure":  "true",
		// As an operator allows the runtimes of their own registry.
		"allowed_sources": runtime.Context().Name(),
	}, nil, "")
	require.NoError(t, err)
	return cfg, deployer
}

// eventually polls cond every 100 ms until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
