// Package runtimebuild runs the deployer's build operations over
// Kubernetes: start, ensure, status, logs, cancel and cleanup of the Jobs
// that extend a runtime image with a dependency file. It checks a request
// (the kind, a start's target, the source policy, the file), pins the
// source in the registry userregistry chooses for the user, makes the
// build's Plan (plan.go, the one place a Plan is filled) and creates its
// objects, which package buildjob describes, with the races of concurrent
// requests decided by the API server: a deterministic Job name, and the
// quotas on a record updated at the resourceVersion read. It reads a
// build's state back from its Job, Pod, events and log.
package runtimebuild
