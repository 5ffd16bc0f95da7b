package testkube

import (
	"context"
	"fmt"
	"os"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/stack"
)

// Cluster is a real API server with the Job controller and garbage
// collector, and the Debian registry with auth holding one fixture runtime.
type Cluster struct {
	Kube     *stack.Kube
	Registry *stack.Registry
	// Runtime is runtime-python:v3.13 in Registry, with /bin/extend and user 1001.
	Runtime name.Digest
}

// StartCluster starts a Cluster, logging progress on stderr; on error it
// stops what it started.
func StartCluster(ctx context.Context) (_ *Cluster, err error) {
	c := &Cluster{}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if c.Kube, err = stack.StartKube(ctx, stack.KubeOptions{Log: os.Stderr}); err != nil {
		return nil, fmt.Errorf("starting the API server: %w", err)
	}
	if c.Registry, err = stack.StartRegistry(ctx, stack.RegistryOptions{Log: os.Stderr}); err != nil {
		return nil, fmt.Errorf("starting the registry: %w", err)
	}
	c.Runtime, err = fixtures.Push(ctx, c.Registry.Host, c.Registry.Auth(), fixtures.Runtime{Repo: "runtime-python", Tag: "v3.13", User: "1001", Extend: true})
	if err != nil {
		return nil, fmt.Errorf("pushing the fixture runtime: %w", err)
	}
	return c, nil
}

// Stop stops the registry and the API server, by pid.
func (c *Cluster) Stop() {
	if c.Registry != nil {
		_ = c.Registry.Stop()
	}
	if c.Kube != nil {
		_ = c.Kube.Stop()
	}
}
