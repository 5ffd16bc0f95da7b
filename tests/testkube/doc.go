// Package testkube holds test helpers that make Kubernetes objects in a
// chosen state on a real API server.
package testkube
