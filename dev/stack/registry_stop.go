package stack

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Stop stops the registry by pid (SIGTERM, then SIGKILL after a grace period)
// and removes a temporary Dir. It is idempotent.
func (r *Registry) Stop() error {
	r.stopOnce.Do(func() {
		began := time.Now()
		var errs []error
		if r.proc != nil {
			errs = append(errs, r.proc.stop(stopGrace))
		}
		if r.logFile != nil {
			errs = append(errs, r.logFile.Close())
		}
		if r.tempDir {
			errs = append(errs, os.RemoveAll(r.Dir))
		}
		r.stopErr = errors.Join(errs...)
		fmt.Fprintf(r.log, "registry: stopped in %s\n", time.Since(began).Round(time.Millisecond))
	})
	return r.stopErr
}
