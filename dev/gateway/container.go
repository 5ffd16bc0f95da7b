package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/apache/openserverless-deployer/lib/actionloop"
)

// startTimeout bounds the wait for a new process's acknowledgement.
const startTimeout = 30 * time.Second

// errStopping means the gateway is stopping and runs nothing more.
var errStopping = errors.New("the gateway is stopping")

// errTimeLimit means an activation outlived its time limit and its process
// was killed.
var errTimeLimit = errors.New("the action exceeded its time limit")

// container is one action's warm process, kept as OpenWhisk keeps a
// container: one activation at a time, replaced after a failure.
type container struct {
	action string
	path   string
	env    []string
	log    io.Writer

	turn sync.Mutex // held for the whole of one activation

	mu     sync.Mutex // guards proc and closed
	proc   *actionloop.Process
	closed bool
}

// start runs a new process and makes it the container's current one.
func (c *container) start(ctx context.Context) (*actionloop.Process, error) {
	p, err := actionloop.Start(ctx, c.path, c.env, c.log, c.log)
	if err != nil {
		return nil, fmt.Errorf("starting action %s: %w", c.action, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = p.Stop()
		return nil, errStopping
	}
	c.proc = p
	return p, nil
}

// run runs one activation, after the one before it, with a deadline of limit
// from when it starts; a process that misses it is killed. After any failure
// the process is discarded and the next activation starts a new one.
func (c *container) run(a actionloop.Activation, limit time.Duration) (map[string]any, error) {
	c.turn.Lock()
	defer c.turn.Unlock()

	c.mu.Lock()
	p, closed := c.proc, c.closed
	c.mu.Unlock()
	if closed {
		return nil, errStopping
	}
	if p == nil {
		ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
		var err error
		p, err = c.start(ctx)
		cancel()
		if err != nil {
			return nil, err
		}
	}

	a.Deadline = time.Now().Add(limit)
	ctx, cancel := context.WithDeadline(context.Background(), a.Deadline)
	defer cancel()
	result, err := p.Invoke(ctx, a)
	if err != nil {
		c.discard(p)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w of %d milliseconds: %w", errTimeLimit, limit.Milliseconds(), err)
		}
		return nil, err
	}
	return result, nil
}

// discard stops p, which a failed activation left unusable.
func (c *container) discard(p *actionloop.Process) {
	c.mu.Lock()
	if c.proc == p {
		c.proc = nil
	}
	c.mu.Unlock()
	// Its exit status says nothing more than the failure already did.
	_ = p.Stop()
}

// stop stops the current process, if any, and refuses later activations. It
// does not wait for the activation in progress: stopping the process ends it.
func (c *container) stop() error {
	c.mu.Lock()
	c.closed = true
	p := c.proc
	c.proc = nil
	c.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.Stop(); err != nil {
		return fmt.Errorf("stopping action %s: %w", c.action, err)
	}
	return nil
}
