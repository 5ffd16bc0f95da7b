package stack

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Stop stops kube-controller-manager (by pid), then kube-apiserver and etcd,
// makes sure none of their processes remains, and removes a temporary Dir.
// It is idempotent.
func (k *Kube) Stop() error {
	k.stopOnce.Do(func() {
		began := time.Now()
		var errs []error
		if k.kcm != nil {
			// A paused controller manager would not act on SIGTERM.
			_ = k.ResumeControllers()
			errs = append(errs, k.kcm.stop(stopGrace))
		}
		if k.plane != nil {
			if err := k.plane.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("stopping etcd and kube-apiserver: %w", err))
			}
		}
		// envtest SIGKILLs a server that outlives its stop timeout without
		// waiting for it: check every pid and finish the job.
		for _, pid := range k.serverPids() {
			errs = append(errs, killPid(pid, stopGrace))
		}
		for _, f := range k.logs {
			errs = append(errs, f.Close())
		}
		if k.tempDir {
			errs = append(errs, os.RemoveAll(k.Dir))
		}
		k.stopErr = errors.Join(errs...)
		fmt.Fprintf(k.log, "kube: stopped in %s\n", time.Since(began).Round(time.Millisecond))
	})
	return k.stopErr
}

// serverPids are the process ids of etcd and kube-apiserver, from the pid
// files their launchers wrote; kube-controller-manager's is k.kcm.pid().
func (k *Kube) serverPids() []int {
	var pids []int
	for _, f := range k.pidFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // never started
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}
