package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
)

// podsGoneTimeout bounds the wait for the kubelet to stop the Pods it runs.
const podsGoneTimeout = 20 * time.Second

// Stop stops the node and removes what it made, in this order: the Pods
// bound to it (through the API, so the kubelet stops their containers and
// tears their networks down), kube-scheduler and the kubelet, any process
// still in the node's cgroups, containerd and its shims (by pid), then the
// traces outside Dir: masquerade rules, CNI's cache, /var/log/containers
// links, the mounts and the state, the cgroups, and with the machine's last
// node what every kubelet shares (removeSharedTraces). The bridge is the
// caller's. It is idempotent.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() {
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 2*podsGoneTimeout)
		defer cancel()
		var errs []error
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.kubelet != nil && !n.kubelet.exited() && n.containerd != nil && !n.containerd.exited() {
			if err := n.deletePods(ctx); err != nil {
				fmt.Fprintf(n.log, "node: %v (stopping them by force)\n", err)
			}
		}
		for _, c := range []*child{n.scheduler, n.kubelet} {
			if c != nil {
				errs = append(errs, c.stop(stopGrace))
			}
		}
		errs = append(errs, n.killCgroupProcesses())
		if n.containerd != nil {
			errs = append(errs, n.containerd.stop(stopGrace))
		}
		errs = append(errs, n.killShims())
		errs = append(errs, n.removeMasquerade(ctx), n.removeCNICache(), n.removeContainerLogLinks())
		for _, d := range nodeDirs {
			errs = append(errs, removeAllUnmounting(filepath.Join(n.State, d)))
		}
		errs = append(errs, removeEmpty(n.State), removeSharedTraces(ctx), removeEmpty(stateRoot))
		errs = append(errs, n.removeCgroupRoot())
		for _, f := range n.logs {
			errs = append(errs, f.Close())
		}
		if n.tempDir {
			errs = append(errs, os.RemoveAll(n.Dir))
		}
		n.stopErr = errors.Join(errs...)
		fmt.Fprintf(n.log, "node: stopped in %s\n", time.Since(began).Round(time.Millisecond))
	})
	return n.stopErr
}

// deletePods deletes every Pod bound to the node with a short grace and waits
// until the kubelet has stopped them and the API server has let them go.
func (n *Node) deletePods(ctx context.Context) error {
	pods := n.kube.Client.CoreV1().Pods(metav1.NamespaceAll)
	sel := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", n.Name).String()}
	list, err := pods.List(ctx, sel)
	if err != nil {
		return fmt.Errorf("listing the node's pods: %w", err)
	}
	grace := int64(1)
	for _, p := range list.Items {
		err := n.kube.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	var left []corev1.Pod
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, podsGoneTimeout, true, func(ctx context.Context) (bool, error) {
		list, err := pods.List(ctx, sel)
		if err != nil {
			return false, nil
		}
		left = list.Items
		return len(left) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%d pods still on the node after %s", len(left), podsGoneTimeout)
	}
	return nil
}

// killCgroupProcesses kills every process left in the node's cgroup tree:
// containers of Pods the kubelet did not stop.
func (n *Node) killCgroupProcesses() error {
	if n.cgroupRoot == "" {
		return nil
	}
	var pids []int
	_ = filepath.WalkDir(filepath.Join(cgroupMount, "pids", n.cgroupRoot), func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || e.Name() != "cgroup.procs" {
			return nil
		}
		data, _ := os.ReadFile(p)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return waitGone(pids)
}

// killShims kills the runc shims of the node's containerd, found by the
// address on their command line: they outlive containerd by design.
func (n *Node) killShims() error {
	if n.Socket == "" {
		return nil
	}
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 0 && strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") && argValue(args, "-address") == n.Socket {
			pids = append(pids, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return waitGone(pids)
}

// argValue is the value that follows flag in args.
func argValue(args []string, flag string) string {
	for i := range args {
		if args[i] == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// waitGone waits until none of pids exists.
func waitGone(pids []int) error {
	deadline := time.Now().Add(stopGrace)
	for _, pid := range pids {
		for alive(pid) && !zombie(pid) {
			if time.Now().After(deadline) {
				return fmt.Errorf("pid %d still running after SIGKILL", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// zombie reports whether pid has exited and waits for its parent (not us).
func zombie(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// cniCache is where CNI's libraries cache each attachment's result.
const cniCache = "/var/lib/cni/results"

// removeCNICache removes the cached results of the node's network.
func (n *Node) removeCNICache() error {
	entries, err := os.ReadDir(cniCache)
	if err != nil {
		return nil
	}
	var errs []error
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), n.cniNetwork()+"-") {
			if err := os.Remove(filepath.Join(cniCache, e.Name())); err != nil && !os.IsNotExist(err) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// shimSockets is where every containerd's shims put their sockets, whatever
// the state folder.
const shimSockets = "/run/containerd/s"

// removeStaleShimSockets removes shim sockets nobody listens on any more
// (the shims are gone); a live node's sockets answer and stay.
func removeStaleShimSockets() error {
	entries, err := os.ReadDir(shimSockets)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		p := filepath.Join(shimSockets, e.Name())
		conn, err := net.DialTimeout("unix", p, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			continue
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			_ = os.Remove(p)
		}
	}
	return nil
}

// containerLogLinks is where the kubelet links each container's log.
const containerLogLinks = "/var/log/containers"

// removeContainerLogLinks removes the links into the node's Pod logs.
func (n *Node) removeContainerLogLinks() error {
	entries, err := os.ReadDir(containerLogLinks)
	if err != nil {
		return nil
	}
	prefix := filepath.Join(n.State, "kubelet") + "/"
	for _, e := range entries {
		p := filepath.Join(containerLogLinks, e.Name())
		if target, err := os.Readlink(p); err == nil && strings.HasPrefix(target, prefix) {
			_ = os.Remove(p)
		}
	}
	return nil
}

// RemoveNode removes what a node whose process was killed left behind (its
// containers, shims, mounts, cgroups, masquerade rules, caches, state),
// given its bridge's name, then the bridge: what `./task down` runs after a
// local stack that did not stop by itself.
func RemoveNode(bridge string) error {
	n := &Node{
		Name:       nodeName(bridge),
		State:      nodeState(nodeName(bridge)),
		Bridge:     &Bridge{Name: bridge},
		Socket:     containerdSocket(nodeState(nodeName(bridge))),
		cgroupRoot: "/" + nodeName(bridge),
		log:        io.Discard,
	}
	return errors.Join(n.Stop(), n.Bridge.Delete(context.Background()))
}

// removeEmpty removes dir if it is empty (another node's state keeps
// stateRoot).
func removeEmpty(dir string) error {
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("removing %s: %w", dir, err)
	}
	return nil
}

// sharedTraces are what every kubelet on the machine makes outside its root
// folder, whatever its settings: the device plugins' socket (a constant of
// the kubelet), the folder of container log links, CNI's result cache.
var sharedTraces = []string{
	"/var/lib/kubelet/device-plugins/kubelet.sock",
	"/var/lib/kubelet/device-plugins",
	"/var/lib/kubelet",
	"/var/log/containers",
	cniCache,
	filepath.Dir(cniCache),
}

// removeSharedTraces removes, once no other node of the machine runs, the
// kubelet's iptables chains, the shims' stale sockets and sharedTraces,
// each only when it holds nothing else.
func removeSharedTraces(ctx context.Context) error {
	if entries, err := os.ReadDir(stateRoot); err == nil && len(entries) > 0 {
		return nil // another node uses them
	}
	// A shim of another node binds its socket a moment before it listens:
	// sockets are judged stale only when no other node runs.
	errs := []error{removeKubeletChains(ctx), removeStaleShimSockets()}
	for _, p := range sharedTraces {
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			errs = append(errs, os.Remove(p))
			continue
		}
		errs = append(errs, removeEmpty(p))
	}
	return errors.Join(errs...)
}
