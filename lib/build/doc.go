// Package build is the deployer's build domain: it validates a build request,
// derives a content-addressed build id, and describes the Kaniko Job that
// extends a runtime image with a dependency file, together with its build
// context ConfigMap. The Kubernetes objects come from pure functions
// (NewJob, NewContext) so they can be checked field by field; Service
// creates, reads and deletes them through a kubernetes.Interface.
package build
