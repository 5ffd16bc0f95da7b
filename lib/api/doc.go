// Package api is the deployer's HTTP API as web actions: Handle turns one
// activation into a response (configuration, logging, identity, the
// Kubernetes client), and each operation (Start, Cleanup, …) reads its
// request, calls one runtimebuild.Service method and writes the reply. An action's
// main is one call to Handle with its operation.
package api
