// Package builds serves the deployer's operations on builds and images as
// web actions: each reads its typed request with lib/api, calls one
// runtimebuild.Service method (images: the caller's registry from
// lib/userregistry) and writes the reply. Ops makes the Kubernetes client
// of each call; an action's main is
// api.Handle(api.Process(), args, builds.Process().Start).
package builds
