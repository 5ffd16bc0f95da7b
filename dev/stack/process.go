package stack

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// stopGrace is how long a server gets to exit after SIGTERM before SIGKILL.
const stopGrace = 10 * time.Second

// child is a server process this package started and stops by process id.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // what Wait returned; read only after done is closed
}

// startChild starts path with args, its output going to out.
func startChild(path string, args []string, out io.Writer) (*child, error) {
	return startCmd(exec.Command(path, args...), out)
}

// startCmd starts cmd, its output going to out.
func startCmd(cmd *exec.Cmd, out io.Writer) (*child, error) {
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	c := &child{name: cmd.Path, cmd: cmd, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// pid is the process id of the child.
func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the child has exited.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the child's pid, then SIGKILL when it is still running
// after grace, and waits until it is gone.
func (c *child) stop(grace time.Duration) error {
	if c.exited() {
		return nil
	}
	if err := syscall.Kill(c.pid(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stopping %s (pid %d): %w", c.name, c.pid(), err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
	}
	if err := syscall.Kill(c.pid(), syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing %s (pid %d): %w", c.name, c.pid(), err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(grace):
		return fmt.Errorf("%s (pid %d) still running after SIGKILL", c.name, c.pid())
	}
}

// alive reports whether a process with this id exists (a zombie counts until
// it is reaped).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// killPid makes sure the process pid, which this package started through
// another component, is gone: SIGKILL if it is still there, then wait for its
// parent (the same test process) to reap it.
func killPid(pid int, grace time.Duration) error {
	if !alive(pid) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(grace)
	for alive(pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d still running after SIGKILL", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}
