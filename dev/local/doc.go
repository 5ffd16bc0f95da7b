// Package local starts the deployer's whole production path on one machine,
// on loopback only, for development and the end-to-end tests: a real API
// server with the Job, garbage-collector and TTL controllers (dev/stack),
// the Debian registry with auth, the node agent running build Pods with the
// real Kaniko in a sandbox (dev/nodeagent), fixture runtimes pushed to the
// registry (dev/fixtures), and the gateway that serves the OpenWhisk API
// and runs the actions over ActionLoop as OpenWhisk would (dev/gateway),
// onto which the package is deployed from manifest.yaml by wskdeploy through
// `task deploy:manifest`, as on a cluster (deploy.go). Nothing here is
// deployed; it stands in for a cluster and an OpenWhisk controller.
//
// The cluster is set up as an OpenServerless operator leaves it: namespace
// "nuvolaris" holding the registry pull secret "registry-pull-secret" and
// the "config" ConfigMap whose registry_host annotation names the registry.
// Then deploy/rbac.yaml is applied there as `./task deploy` applies it, and
// the actions get its service account's token as their kube_host,
// kube_token and kube_ca inputs: never the admin kubeconfig, so the Role is
// what they can do, as in production.
package local
