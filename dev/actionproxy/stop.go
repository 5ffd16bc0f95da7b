package actionproxy

import (
	"fmt"
	"time"
)

// stopGrace is how long a process may take to exit once its stdin closes.
const stopGrace = 3 * time.Second

// Stop closes the process's stdin, which ends an ActionLoop executable's
// loop; a process still running after a grace period is killed by pid. Stop
// waits for the process to be gone. It reports a process that had to be
// killed or that exited with a failure; a process already killed by a failed
// Invoke is not reported again. Calling Stop again returns the same result.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() { p.stopErr = p.stop() })
	return p.stopErr
}

func (p *Process) stop() error {
	_ = p.stdin.Close()
	var killedNow bool
	select {
	case <-p.exited:
	case <-time.After(p.grace):
		killedNow = !p.killed.Load()
		p.kill()
		<-p.exited
	}
	_ = p.results.Close()
	switch {
	case killedNow:
		return fmt.Errorf("stopping %s: process %d did not exit within %s of its input closing; killed", p.path, p.Pid(), p.grace)
	case p.killed.Load():
		return nil
	case p.waitErr != nil:
		return fmt.Errorf("stopping %s: process %d: %w", p.path, p.Pid(), p.waitErr)
	}
	return nil
}
