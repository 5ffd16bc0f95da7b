package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/apache/openserverless-deployer/dev/actionproxy"
)

// startTimeout bounds the wait for a new process's acknowledgement.
const startTimeout = 30 * time.Second

// errStopping means the gateway is stopping and runs nothing more.
var errStopping = errors.New("the gateway is stopping")

// errTimeLimit means an activation outlived its time limit and its process
// was killed.
var errTimeLimit = errors.New("the action exceeded its time limit")

// errNoProcess means every process of the action stayed busy for as long as
// the activation could wait: the action is overloaded.
var errNoProcess = errors.New("no process of the action became free in time")

// pool holds the warm processes of one action, as OpenWhisk keeps the
// containers of an action: one activation per process at a time, a new
// process when all are busy, at most size of them, and a failed process
// replaced by a new one.
type pool struct {
	action string
	path   string
	env    []string
	log    io.Writer

	// slots holds one token per activation that has, or is getting, a
	// process; its capacity is the pool's size. A new process starts only
	// when no idle one is left, so there are never more processes than slots.
	slots chan struct{}

	mu     sync.Mutex // guards idle, live and closed
	idle   []*actionproxy.Process
	live   map[*actionproxy.Process]*processLogs // every process started and not yet stopped
	closed bool
}

func newPool(action, path string, env []string, log io.Writer, size int) *pool {
	return &pool{
		action: action, path: path, env: env, log: log,
		slots: make(chan struct{}, size),
		live:  map[*actionproxy.Process]*processLogs{},
	}
}

// warm starts one process and keeps it idle, as a prewarmed container.
func (c *pool) warm(ctx context.Context) error {
	p, err := c.start(ctx)
	if err != nil {
		return err
	}
	c.put(p)
	return nil
}

// start runs a new process and records it, so that stop finds it.
func (c *pool) start(ctx context.Context) (*actionproxy.Process, error) {
	logs, err := newProcessLogs(c.log)
	if err != nil {
		return nil, fmt.Errorf("starting action %s: %w", c.action, err)
	}
	p, err := actionproxy.Start(ctx, c.path, c.env, logs.stdout, logs.stderr)
	if err != nil {
		logs.close()
		return nil, fmt.Errorf("starting action %s: %w", c.action, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = p.Stop()
		logs.close()
		return nil, errStopping
	}
	c.live[p] = logs
	return p, nil
}

// run runs one activation on a free process, waiting for one until wait
// ends when all are busy, and returns its result and the lines it logged.
// Its deadline is limit from when it starts; a process that misses it is
// killed. After any failure the process is discarded, and a later
// activation starts a new one.
func (c *pool) run(a actionproxy.Activation, wait time.Time, limit time.Duration) (map[string]any, []string, error) {
	timer := time.NewTimer(time.Until(wait))
	defer timer.Stop()
	select {
	case c.slots <- struct{}{}:
	case <-timer.C:
		return nil, nil, fmt.Errorf("%w (at most %d at once)", errNoProcess, cap(c.slots))
	}
	defer func() { <-c.slots }()

	p, err := c.take()
	if err != nil {
		return nil, nil, err
	}
	logs := c.logsOf(p)
	a.Deadline = time.Now().Add(limit)
	ctx, cancel := context.WithDeadline(context.Background(), a.Deadline)
	defer cancel()
	result, err := p.Invoke(ctx, a)
	// Invoke has written the sentinels: the activation's lines are complete.
	lines := logs.take()
	if err != nil {
		c.discard(p)
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, lines, fmt.Errorf("%w of %d milliseconds: %w", errTimeLimit, limit.Milliseconds(), err)
		}
		return nil, lines, err
	}
	c.put(p)
	return result, lines, nil
}

// logsOf returns the log capture of p.
func (c *pool) logsOf(p *actionproxy.Process) *processLogs {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l := c.live[p]; l != nil {
		return l
	}
	return &processLogs{} // p is stopping; its lines are lost with it
}

// take returns an idle process, the most recently used one (the warmest),
// or starts a new one. The caller holds a slot.
func (c *pool) take() (*actionproxy.Process, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errStopping
	}
	if n := len(c.idle); n > 0 {
		p := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return p, nil
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	return c.start(ctx)
}

// put makes p idle again, unless the pool stopped meanwhile (stop then
// stops it, as one of the live processes).
func (c *pool) put(p *actionproxy.Process) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, live := c.live[p]; !c.closed && live {
		c.idle = append(c.idle, p)
	}
}

// discard stops p, which a failed activation left unusable.
func (c *pool) discard(p *actionproxy.Process) {
	c.mu.Lock()
	logs := c.live[p]
	delete(c.live, p)
	c.mu.Unlock()
	// Its exit status says nothing more than the failure already did.
	_ = p.Stop()
	if logs != nil {
		logs.close()
	}
}

// size is the number of live processes.
func (c *pool) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.live)
}

// busy is the number of activations that hold, or are getting, a process.
func (c *pool) busy() int { return len(c.slots) }

// stop stops every live process, idle or busy, and refuses later
// activations. It does not wait for the activations in progress: stopping
// their processes ends them.
func (c *pool) stop() error {
	c.mu.Lock()
	c.closed = true
	procs := make([]*actionproxy.Process, 0, len(c.live))
	logs := make([]*processLogs, 0, len(c.live))
	for p, l := range c.live {
		procs, logs = append(procs, p), append(logs, l)
	}
	c.live = map[*actionproxy.Process]*processLogs{}
	c.idle = nil
	c.mu.Unlock()

	// At once: each may take its grace period before it is killed.
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.Stop(); err != nil {
				errs[i] = fmt.Errorf("stopping action %s: %w", c.action, err)
			}
			logs[i].close()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
