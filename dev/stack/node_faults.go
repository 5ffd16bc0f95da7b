package stack

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// Fault tests kill the node's kubelet or containerd (SIGKILL by pid) in the
// middle of a build and start it again with the same configuration, as a
// node's supervisor would. Nothing else uses these.

// KillKubelet kills the kubelet and waits until it is gone. Its containers
// go on running under their shims.
func (n *Node) KillKubelet() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return kill(n.kubelet)
}

// RestartKubelet starts the kubelet again after KillKubelet; it adopts the
// Pods it was running.
func (n *Node) RestartKubelet() (err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.kubelet.exited() {
		return fmt.Errorf("kubelet (pid %d) is still running", n.kubelet.pid())
	}
	n.kubelet, err = startChild(n.bins.kubelet, n.kubeletArgs, n.kubeletLog)
	return err
}

// KillContainerd kills containerd and waits until it is gone. Its shims,
// and so the containers, go on running.
func (n *Node) KillContainerd() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return kill(n.containerd)
}

// RestartContainerd starts containerd again after KillContainerd and waits
// for its socket; it reconnects to the running shims.
func (n *Node) RestartContainerd(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.containerd.exited() {
		return fmt.Errorf("containerd (pid %d) is still running", n.containerd.pid())
	}
	return n.runContainerd(ctx)
}

// kill sends SIGKILL to c and waits until it has been reaped.
func kill(c *child) error {
	if c == nil || c.exited() {
		return nil
	}
	if err := syscall.Kill(c.pid(), syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing %s (pid %d): %w", c.name, c.pid(), err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(stopGrace):
		return fmt.Errorf("%s (pid %d) still running after SIGKILL", c.name, c.pid())
	}
}
