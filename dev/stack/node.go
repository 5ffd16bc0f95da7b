package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// Node is a real Kubernetes node on this machine, attached to a Kube:
// containerd with runc, the kubelet and kube-scheduler, all pinned and built
// once per machine by tools/build.sh. Pods get network namespaces of their
// own on the stack's Bridge (CNI bridge, host-local and loopback, from
// Debian's containernetworking-plugins) and reach the machine's package
// indexes through it (masquerade); the kubelet listens on the bridge's
// gateway only. Every node on the machine has its own bridge, cgroup root,
// containerd sockets and state, so two stacks can run at once.
type Node struct {
	// Name is the Node's name, "stack-<bridge>".
	Name string
	// Dir holds the logs: containerd.log, kubelet.log, kube-scheduler.log.
	Dir string
	// State holds containerd's, the kubelet's and CNI's files (stateRoot).
	State string
	// Bridge is the Pods' network.
	Bridge *Bridge
	// Socket is containerd's socket, for ctr --address.
	Socket string

	kube       *Kube
	bins       nodeBinaries
	cgroupRoot string
	containerd *child
	kubelet    *child
	scheduler  *child
	// What a fault test's restart needs.
	containerdCmd func() *exec.Cmd
	containerdLog *os.File
	kubeletArgs   []string
	kubeletLog    *os.File
	logs          []*os.File
	tempDir       bool
	log           io.Writer

	mu       sync.Mutex // guards the children across Kill/Restart and Stop
	stopOnce sync.Once
	stopErr  error
}

// NodeOptions configures StartNode.
type NodeOptions struct {
	// RepoRoot is the repository root, to find tools/build.sh; "" means
	// RepoRoot().
	RepoRoot string
	// Dir is where the logs are kept; "" means a temporary folder that Stop
	// removes.
	Dir string
	// Bridge is the network the node's Pods get; its gateway is the node's
	// address. The caller creates it (servers the Pods use listen on its
	// gateway) and deletes it after Stop.
	Bridge *Bridge
	// PlainHTTP are registries ("host:port") the node pulls from over plain
	// HTTP.
	PlainHTTP []string
	// SandboxImage is the pause image's reference, and SandboxArchive a
	// docker or OCI archive of it that is imported into containerd, which
	// then never pulls it (the stack's registry wants credentials that only
	// a Pod's imagePullSecrets carry).
	SandboxImage, SandboxArchive string
	// InMemory keeps containerd's and the kubelet's files (images,
	// snapshots, containers' roots, volumes, logs) on a tmpfs of their own.
	// Why: a build unpacks ~40,000 files of a realistic base into its root,
	// and the node deletes them when the Pod goes; on an ext4 without a
	// journal (the disk of some VMs) each inode allocation then passes over
	// every inode deleted in the last minutes, so each build's unpack was
	// slower than the last (4.9, 8.6, 13.6 s in three rounds). A node's
	// container storage is scratch space.
	InMemory bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// nodeName is the name of the node on bridge: also its cgroup root.
func nodeName(bridge string) string { return "stack-" + bridge }

// stateRoot holds each node's state, in a folder named after it. Not in the
// node's Dir: in a user namespace, root of a container is an unprivileged
// user of the machine, and runc, already in that namespace, must walk down
// to the container's root and volumes; a Dir under /root (0700), or a test's
// temporary folder (0700), would refuse it.
const stateRoot = "/var/lib/openserverless-deployer"

// nodeState is the state folder of the node named name.
func nodeState(name string) string { return filepath.Join(stateRoot, name) }

// nodeDirs are the node's state folders in its State.
var nodeDirs = []string{"containerd", "kubelet", "cni"}

// mountTmpfs creates dir and mounts a tmpfs on it.
func mountTmpfs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("mounting a tmpfs on %s: %w", dir, err)
	}
	return nil
}

// Timeouts of StartNode.
const (
	nodeReadyTimeout = 90 * time.Second
	socketTimeout    = 30 * time.Second
)

// StartNode starts containerd, the kubelet and kube-scheduler for k, and
// returns once the Node is Ready and schedulable. The caller must call Stop.
func StartNode(ctx context.Context, k *Kube, o NodeOptions) (_ *Node, err error) {
	began := time.Now()
	if o.Bridge == nil {
		return nil, errors.New("starting a node: no bridge")
	}
	n := &Node{Dir: o.Dir, Bridge: o.Bridge, Name: nodeName(o.Bridge.Name), kube: k, log: o.Log}
	n.State = nodeState(n.Name)
	if n.log == nil {
		n.log = io.Discard
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, n.Stop())
		}
	}()
	if n.Dir == "" {
		if n.Dir, err = os.MkdirTemp("", "node-"); err != nil {
			return nil, fmt.Errorf("creating the node folder: %w", err)
		}
		n.tempDir = true
	}
	if n.Dir, err = filepath.Abs(n.Dir); err != nil {
		return nil, fmt.Errorf("resolving the node folder: %w", err)
	}
	root := o.RepoRoot
	if root == "" {
		if root, err = RepoRoot(); err != nil {
			return nil, err
		}
	}
	if n.bins, err = buildNodeBinaries(ctx, root, n.log); err != nil {
		return nil, err
	}
	// State from an earlier run in the same folder is stale: start clean.
	if err := os.MkdirAll(n.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the node folder: %w", err)
	}
	if err := os.MkdirAll(n.State, 0o755); err != nil {
		return nil, fmt.Errorf("creating the node's state folder: %w", err)
	}
	for _, d := range nodeDirs {
		if err := removeAllUnmounting(filepath.Join(n.State, d)); err != nil {
			return nil, err
		}
		if o.InMemory && d != "cni" {
			if err := mountTmpfs(filepath.Join(n.State, d)); err != nil {
				return nil, err
			}
		}
	}
	if err := n.createCgroupRoot(); err != nil {
		return nil, err
	}
	if err := n.startContainerd(ctx, o); err != nil {
		return nil, err
	}
	if err := n.startKubelet(ctx); err != nil {
		return nil, err
	}
	if err := n.startScheduler(); err != nil {
		return nil, err
	}
	if err := n.waitReady(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintf(n.log, "node: %s ready on %s (%s since start)\n", n.Name, n.Bridge.Gateway, time.Since(began).Round(time.Millisecond))
	return n, nil
}

// waitReady waits until the Node is Ready and carries no taint (the node
// lifecycle controller lifts not-ready once the kubelet reports Ready).
func (n *Node) waitReady(ctx context.Context) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, nodeReadyTimeout, true, func(ctx context.Context) (bool, error) {
		for _, c := range []*child{n.containerd, n.kubelet, n.scheduler} {
			if c.exited() {
				return false, fmt.Errorf("%s exited: %v", filepath.Base(c.name), c.err)
			}
		}
		node, err := n.kube.Client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		if len(node.Spec.Taints) > 0 {
			last = fmt.Sprintf("taints %v", node.Spec.Taints)
			return false, nil
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady {
				last = fmt.Sprintf("Ready=%s: %s", c.Status, c.Message)
				return c.Status == corev1.ConditionTrue, nil
			}
		}
		last = "no Ready condition"
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for node %s (last: %s; logs in %s): %w", n.Name, last, n.Dir, err)
	}
	return nil
}

// CgroupRoot is the node's cgroup, under which the kubelet puts its Pods.
func (n *Node) CgroupRoot() string { return n.cgroupRoot }

// openLog creates (or truncates) a log file in n.Dir that Stop closes.
func (n *Node) openLog(name string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(n.Dir, name), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating log %s: %w", name, err)
	}
	n.logs = append(n.logs, f)
	return f, nil
}
