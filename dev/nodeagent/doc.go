// Package nodeagent is test infrastructure: a stand-in for the kubelet and the
// scheduler that runs build Pods on a machine with no container runtime, so
// that the real Job controller completes or fails build Jobs and the deployer
// reads their state, logs and events exactly as on a cluster.
//
// An Agent registers a Ready Node whose kubelet endpoint is a small HTTPS
// server on 127.0.0.1 serving container logs, binds the Pods of one namespace
// to that Node, and runs each one as a kubelet would: volumes laid out on disk
// (ConfigMap and Secret volumes as folders of symlinks into "..data", subPath
// mounts as the single resolved file), status written through the status
// subresource, events through the events API and the container's output kept
// in the CRI log format.
//
// It runs one image only, the configured Kaniko executor image; a Pod asking
// for any other image stays Pending as after a failed pull. The executor runs
// inside a throwaway root with private mount and PID namespaces (unshare(1)
// and chroot), because Kaniko writes the image's filesystem into its own "/".
// It needs root. It is never part of the deployer itself.
package nodeagent
