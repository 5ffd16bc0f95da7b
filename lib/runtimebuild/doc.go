// Package runtimebuild is the deployer's build domain: it validates a build request
// and applies the source policy, derives a content-addressed build id, and
// describes the Job that extends a runtime image with a dependency file in
// three steps — fetch the base with the platform's credentials, build it
// with Kaniko and no credential at all (the step that runs the user's
// code), push the result — together with its build context ConfigMap and,
// for a user's own registry, a temporary registry Secret. The Kubernetes
// objects come from pure functions (NewJob, NewContext, NewSecret) so they
// can be checked field by field; Service creates, reads and deletes them
// through a kubernetes.Interface, and decides the quotas on a record the
// API server orders.
package runtimebuild
