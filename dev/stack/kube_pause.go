package stack

import (
	"fmt"
	"syscall"
)

// PauseControllers stops kube-controller-manager (SIGSTOP, by pid) until
// ResumeControllers: no controller acts meanwhile, so a test can see what
// happens while, say, the dependents of a deleted Job still exist.
func (k *Kube) PauseControllers() error { return k.signalControllers(syscall.SIGSTOP) }

// ResumeControllers continues a paused kube-controller-manager (SIGCONT).
func (k *Kube) ResumeControllers() error { return k.signalControllers(syscall.SIGCONT) }

func (k *Kube) signalControllers(sig syscall.Signal) error {
	if k.kcm == nil || k.kcm.exited() {
		return fmt.Errorf("kube-controller-manager is not running")
	}
	if err := syscall.Kill(k.kcm.pid(), sig); err != nil {
		return fmt.Errorf("sending %v to kube-controller-manager (pid %d): %w", sig, k.kcm.pid(), err)
	}
	return nil
}
