// Package local starts the deployer's whole production path on one machine,
// for development and the end-to-end tests: a real API server with the Job,
// garbage-collector and TTL controllers, and a real node (containerd, runc,
// the kubelet and the scheduler) whose Pods live on a bridge of the stack's
// own (dev/stack); the Debian registry with auth on that bridge's gateway,
// holding the build steps' images (dev/stepimages) and the fixture runtimes
// (dev/fixtures); and the gateway that serves the OpenWhisk API and runs the
// actions over ActionLoop as OpenWhisk would (dev/gateway), onto which the
// package is deployed from manifest.yaml by wskdeploy through `task
// deploy:manifest`, as on a cluster (deploy.go). Servers listen on 127.0.0.1
// or on the bridge's gateway, nowhere else. Nothing here is deployed; only
// the OpenWhisk controller, which cannot run here, is stood in for.
//
// The cluster is set up as an OpenServerless operator leaves it: namespace
// "nuvolaris" holding the registry pull secret "registry-pull-secret" and
// the "config" ConfigMap whose registry_host annotation names the registry.
// Then deploy/rbac.yaml is applied there as `./task deploy` applies it, and
// the actions get its service account's token as their kube_host,
// kube_token and kube_ca inputs: never the admin kubeconfig, so the Role is
// what they can do, as in production.
package local
