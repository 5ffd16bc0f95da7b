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

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

var (
	kube    *stack.Kube
	reg     *stack.Registry
	runtime name.Digest // a fixture runtime in reg, with /bin/extend and user 1001
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
	var err error
	if kube, err = stack.StartKube(ctx, stack.KubeOptions{Log: os.Stderr}); err != nil {
		fmt.Fprintln(os.Stderr, "starting the API server:", err)
		return 1
	}
	defer kube.Stop()
	if reg, err = stack.StartRegistry(ctx, stack.RegistryOptions{Log: os.Stderr}); err != nil {
		fmt.Fprintln(os.Stderr, "starting the registry:", err)
		return 1
	}
	defer reg.Stop()
	if runtime, err = fixtures.Push(ctx, reg.Host, reg.Auth(), fixtures.Runtime{Repo: "runtime-python", Tag: "v3.13", User: "1001", Extend: true}); err != nil {
		fmt.Fprintln(os.Stderr, "pushing the fixture runtime:", err)
		return 1
	}
	return m.Run()
}

// namespace makes a fresh namespace holding the registry pull secret, and a
// configuration for it.
func namespace(t *testing.T) config.Config {
	t.Helper()
	ns := testkube.Namespace(t, kube.Client, "it-", reg.DockerConfigJSON())
	cfg, err := config.Load(map[string]any{
		"namespace":          ns,
		"registry_push_host": reg.Host,
		"registry_insecure":  "true",
	}, nil, "")
	require.NoError(t, err)
	return cfg
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
