// Package stack starts the real components the deployer talks to, on
// 127.0.0.1 only, for integration and end-to-end tests and the local stack:
//
//   - Kube: etcd and kube-apiserver (through envtest) plus the real
//     kube-controller-manager running the job, garbagecollector,
//     ttl-after-finished, serviceaccount, serviceaccount-token and namespace
//     controllers. There is no scheduler and no kubelet: a Job's Pod is
//     created and stays Pending until something else plays the node. The API
//     server authorizes with RBAC, and service-account token Secrets are
//     filled and accepted, so a Role is enforced as in production. Optionally
//     it writes an audit log; the controller manager can be paused.
//   - Registry: Debian's docker-registry (distribution 2.8) with htpasswd
//     (bcrypt) authentication and deletion enabled.
//
// Unlike the envtest default, the API server runs with the ServiceAccount
// admission plugin, as a real cluster does: a Pod is refused until its
// namespace has its ServiceAccount, which the serviceaccount controller
// creates moments after the namespace (the Job controller retries).
//
// Every process is started by this package and stopped by process id: SIGTERM,
// then SIGKILL after a grace period. Each also gets the parent-death signal
// SIGKILL, so a test binary that crashes does not leave servers behind.
// kube-apiserver and kube-controller-manager are built once per machine by
// tools/build.sh; etcd, docker-registry, htpasswd and setpriv come from Debian
// packages (etcd-server, docker-registry, apache2-utils, util-linux).
package stack
