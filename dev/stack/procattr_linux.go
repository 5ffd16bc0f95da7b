package stack

import "syscall"

// childAttr puts a child in its own process group and has the kernel kill it
// when the test process dies, so a crash leaves no server running.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
