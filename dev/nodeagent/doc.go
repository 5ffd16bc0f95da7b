// Package nodeagent is test infrastructure: a stand-in for the kubelet and the
// scheduler that runs build Pods on a machine with no container runtime, so
// that the real Job controller completes or fails build Jobs and the deployer
// reads their state, logs and events exactly as on a cluster.
//
// An Agent registers a Ready Node whose kubelet endpoint is a small HTTPS
// server on 127.0.0.1 serving container logs, binds the Pods of one namespace
// to that Node, and runs each one as a kubelet would: volumes laid out in its
// work folder (on disk, or on a tmpfs with Options.InMemory)
// (ConfigMap and Secret volumes as folders of symlinks into "..data", subPath
// mounts as the single resolved file), status written through the status
// subresource, events through the events API and the container's output kept
// in the CRI log format.
//
// It runs the images it is given only (Options.Images: Kaniko's executor
// and warmer and crane, each a host binary with what its image's config
// says); a container of any other image leaves its Pod Pending as after a
// failed pull. Init containers run one after the other, then the container,
// as a kubelet runs a Pod with restartPolicy Never; the first step that fails
// fails the Pod. Each step runs inside a throwaway root of its own with
// private mount and PID namespaces (unshare(1) and chroot), because Kaniko
// writes the image's filesystem into its own "/"; a root holds only the
// volumes its container mounts, so a Secret mounted in one step is in no
// other step's root, while an emptyDir is one host folder every step that
// mounts it shares. It needs root. It is never part of the deployer itself.
package nodeagent
