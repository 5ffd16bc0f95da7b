package actionproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
)

// Sentinel is the line the proxy appends to stdout and stderr after each
// activation so the platform can tell one activation's log from the next.
const Sentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

// Invoke sends one activation and returns the action's result. Activations run
// one at a time; a call waits for the one before it, or for ctx to end. After
// the answer it appends Sentinel to stdout and stderr, as the runtime's proxy
// does. When the process dies or ctx ends mid-activation the process is killed
// and every later Invoke fails: start a new one.
//
// With writers that are not files the child's output is copied in the
// background, so a log line written just before the answer may follow the
// sentinel; files keep the order exact.
func (p *Process) Invoke(ctx context.Context, a Activation) (map[string]any, error) {
	line, err := a.line()
	if err != nil {
		return nil, err
	}
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoking %s: waiting for the previous activation: %w", p.path, ctx.Err())
	}
	defer func() { <-p.turn }()
	if p.broken != nil {
		return nil, fmt.Errorf("invoking %s: %w", p.path, p.broken)
	}

	out, err := p.exchange(ctx, line)
	p.sentinel(p.stdout)
	p.sentinel(p.stderr)
	if err != nil {
		p.broken = fmt.Errorf("process %d is unusable after a failed activation: %w", p.Pid(), err)
		return nil, fmt.Errorf("invoking %s: %w", p.path, err)
	}
	var result map[string]any
	if err := json.Unmarshal(out, &result); err != nil || result == nil {
		return nil, fmt.Errorf("invoking %s: the action answered %q, not a JSON object", p.path, truncate(out))
	}
	return result, nil
}

func (p *Process) sentinel(w io.Writer) {
	if w != nil {
		_, _ = io.WriteString(w, Sentinel+"\n")
	}
}
