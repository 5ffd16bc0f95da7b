package stack

import "fmt"

// PauseControllers stops kube-controller-manager (SIGSTOP, by pid) until
// ResumeControllers: no controller acts meanwhile, so a test can see what
// happens while, say, the dependents of a deleted Job still exist.
func (k *Kube) PauseControllers() error { return k.signalControllers(Freeze) }

// ResumeControllers continues a paused kube-controller-manager (SIGCONT).
func (k *Kube) ResumeControllers() error { return k.signalControllers(Thaw) }

func (k *Kube) signalControllers(signal func(pid int) error) error {
	if k.kcm == nil || k.kcm.exited() {
		return fmt.Errorf("kube-controller-manager is not running")
	}
	if err := signal(k.kcm.pid()); err != nil {
		return fmt.Errorf("kube-controller-manager: %w", err)
	}
	return nil
}
