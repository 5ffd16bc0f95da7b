// Package buildjob describes one build as Kubernetes objects, from a Plan
// and nothing else: the Job that extends a runtime image in three steps —
// fetch the base with the platform's credentials, build it with Kaniko and
// no credential at all (the step that runs the user's code), push the
// result — with its build context ConfigMap and, for a user's own registry,
// a temporary registry Secret. It also names them: the content-addressed
// build id, the Job name, the labels. Every function is pure, so the
// objects can be checked field by field; package runtimebuild creates them.
package buildjob
