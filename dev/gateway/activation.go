package gateway

import (
	"errors"
	"fmt"
	"time"

	"github.com/apache/openserverless-deployer/dev/actionproxy"
)

// activationDoc is an activation record as the controller returns it.
type activationDoc struct {
	Namespace    string             `json:"namespace"`
	Name         string             `json:"name"`
	Version      string             `json:"version"`
	Subject      string             `json:"subject"`
	ActivationID string             `json:"activationId"`
	Cause        string             `json:"cause,omitempty"`
	Start        int64              `json:"start"`
	End          int64              `json:"end"`
	Duration     int64              `json:"duration"`
	StatusCode   int                `json:"statusCode"`
	Response     activationResponse `json:"response"`
	Logs         []string           `json:"logs"`
	Annotations  keyValues          `json:"annotations"`
	Publish      bool               `json:"publish"`
}

type activationResponse struct {
	Status     string `json:"status"`
	StatusCode int    `json:"statusCode"`
	Success    bool   `json:"success"`
	Result     any    `json:"result"`
}

// The controller's activation statuses (ActivationResponse), by statusCode.
var activationStatus = []string{"success", "application error", "action developer error", "whisk internal error"}

// activation is one finished activation.
type activation struct {
	doc activationDoc
}

// path is the fully qualified name of what ran, without the leading slash.
func (a *activation) path() string {
	p, _ := a.doc.Annotations.get("path")
	s, _ := p.(string)
	return s
}

// outcome is how an activation ended.
type outcome struct {
	result map[string]any
	err    error
}

// invocation is one activation to run.
type invocation struct {
	act    *action
	params map[string]any
	// namespace is who the activation runs as (__OW_NAMESPACE) and key that
	// namespace's key (__OW_API_KEY): the caller of a plain invoke, the
	// owner of a web action, of a rule's trigger or of a cron annotation.
	namespace, key string
	// cause is the activation id of the trigger that caused it, if any.
	cause string
}

// finished is an activation's end: its record and outcome.
type finished struct {
	rec *activation
	o   outcome
}

// timeLimit is an action's time limit.
func (a *action) timeLimit() time.Duration {
	return time.Duration(a.doc.Limits.Timeout) * time.Millisecond
}

// run starts inv in the background and returns its activation id at once;
// done receives its end once its record is saved. It fails only when the
// gateway is stopping.
func (g *Gateway) run(inv invocation) (id string, done <-chan finished, err error) {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return "", nil, errStopping
	}
	g.inflight.Add(1)
	g.mu.Unlock()

	id = newID()
	ch := make(chan finished, 1)
	go func() {
		defer g.inflight.Done()
		begin := time.Now()
		a := actionproxy.Activation{
			Value:        inv.params,
			Namespace:    inv.namespace,
			ActionName:   inv.act.q.String(),
			APIHost:      g.URL(),
			APIKey:       inv.key,
			ActivationID: id,
		}
		var o outcome
		var lines []string
		switch {
		case inv.act.builtin != nil:
			o.result = inv.act.builtin(inv)
		case inv.act.initErr != nil:
			o.err = inv.act.initErr
		default:
			// Waiting for a free process counts against the time limit.
			limit := inv.act.timeLimit()
			o.result, lines, o.err = inv.act.pool.run(a, begin.Add(limit), limit)
			if o.err == nil && tooLarge(o.result) {
				o.result, o.err = nil, errResultTooLarge
			}
		}
		g.note(a, o)
		rec := g.record(inv, id, begin, o, lines)
		g.store.saveActivation(rec)
		ch <- finished{rec, o}
	}()
	return id, ch, nil
}

// record makes the activation record of an ended activation.
func (g *Gateway) record(inv invocation, id string, begin time.Time, o outcome, lines []string) *activation {
	end := time.Now()
	code, result := 0, any(o.result)
	switch {
	case o.err == nil:
		if _, ok := o.result["error"]; ok {
			code = 1
		}
	case errors.Is(o.err, errStopping), errors.Is(o.err, errNoProcess):
		code, result = 3, map[string]any{"error": msgUnavailable}
	case errors.Is(o.err, errTimeLimit):
		code, result = 2, map[string]any{"error": fmt.Sprintf("The action exceeded its time limits of %d milliseconds.", inv.act.doc.Limits.Timeout)}
	case errors.Is(o.err, errResultTooLarge):
		code, result = 2, map[string]any{"error": errResultTooLarge.Error()}
	case errors.Is(o.err, inv.act.initErr):
		code, result = 2, map[string]any{"error": "The action failed to initialize: " + inv.act.initErr.Error()}
	default:
		code, result = 2, map[string]any{"error": "The action did not produce a valid response and exited unexpectedly."}
	}
	if lines == nil {
		lines = []string{}
	}
	return &activation{doc: activationDoc{
		Namespace:    inv.namespace,
		Name:         inv.act.q.name,
		Version:      inv.act.doc.Version,
		Subject:      inv.namespace,
		ActivationID: id,
		Cause:        inv.cause,
		Start:        begin.UnixMilli(),
		End:          end.UnixMilli(),
		Duration:     end.Sub(begin).Milliseconds(),
		StatusCode:   code,
		Response: activationResponse{
			Status: activationStatus[code], StatusCode: code, Success: code == 0, Result: result,
		},
		Logs: lines,
		Annotations: keyValues{
			{"path", inv.act.q.String()[1:]},
			{"kind", inv.act.doc.Exec.Kind},
			{"limits", inv.act.doc.Limits},
			{"timeout", false},
		},
	}}
}

// note logs an activation that failed, whether or not a request still waits
// for it: the log is where the reason can be read.
func (g *Gateway) note(a actionproxy.Activation, o outcome) {
	switch {
	case errors.Is(o.err, errStopping), o.err != nil && g.isStopped():
	case o.err != nil:
		g.logf("activation %s of %s failed: %v", a.ActivationID, a.ActionName, o.err)
	default:
		if e, ok := o.result["error"]; ok {
			b, _ := marshal(e)
			g.logf("activation %s of %s: application error: %s", a.ActivationID, a.ActionName, truncate(b))
		}
	}
}

func (g *Gateway) isStopped() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopped
}

// errResultTooLarge means a result is over OpenWhisk's result limit.
var errResultTooLarge = errors.New("the action produced a response that exceeded the allowed length of 1048576 bytes")

// tooLarge reports whether a result is over OpenWhisk's result limit.
func tooLarge(result map[string]any) bool {
	b, err := marshal(result)
	return err != nil || len(b) > maxEntity
}

// truncate shortens b for a log line.
func truncate(b []byte) string {
	const max = 1000
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
