package gateway

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"
)

// shutdownGrace is how long Stop lets requests in progress finish.
const shutdownGrace = 5 * time.Second

// Stop stops the schedules of alarms and cron annotations, every action
// process (by process id: each is asked to exit by closing its input, then
// killed after a grace period) and the HTTP server, and waits for the
// activations in progress to end; their requests are answered 503. It
// removes the unpacked zips. It reports a process that had to be killed.
// Calling it again returns the same result.
func (g *Gateway) Stop() error {
	g.stopOnce.Do(func() { g.stopErr = g.stop() })
	return g.stopErr
}

func (g *Gateway) stop() error {
	g.mu.Lock()
	g.stopped = true
	srv := g.srv
	pools := append(g.store.allPools(), g.retired...)
	g.mu.Unlock()
	g.schedules.stop()

	// The processes go first: an activation in progress then ends, and the
	// request waiting for it is answered before the server shuts down.
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.stop(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()

	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		cancel()
	}
	g.inflight.Wait()
	g.mu.Lock()
	if g.workDir != "" {
		if err := os.RemoveAll(g.workDir); err != nil {
			errs = append(errs, err)
		}
	}
	g.mu.Unlock()
	return errors.Join(errs...)
}
