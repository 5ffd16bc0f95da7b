//go:build !linux

package stack

import "syscall"

// childAttr puts a child in its own process group; only Linux has a
// parent-death signal.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
