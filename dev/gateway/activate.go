package gateway

import (
	"errors"
	"net/http"
	"time"

	"github.com/apache/openserverless-deployer/dev/actionproxy"
)

// outcome is how an activation ended.
type outcome struct {
	result map[string]any
	err    error
}

// serveAction runs the web action of c for r and answers with its result.
func (g *Gateway) serveAction(w http.ResponseWriter, r *http.Request, c *pool, owPath string) {
	if !allowed[r.Method] {
		writeError(w, http.StatusMethodNotAllowed, msgMethodNotAllowed)
		return
	}
	cors(w, r)
	if r.Method == http.MethodOptions {
		// The controller answers the preflight itself unless the action
		// asks for OPTIONS (web-custom-options), which ours do not.
		w.WriteHeader(http.StatusOK)
		return
	}
	b, err := readBody(r)
	if err != nil {
		var tooLarge errTooLarge
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, tooLarge.Error())
			return
		}
		writeError(w, http.StatusBadRequest, msgMalformed+err.Error())
		return
	}
	params, err := g.params(r, b, owPath)
	switch {
	case errors.Is(err, errNotAllowed):
		writeError(w, http.StatusBadRequest, msgParamsNotAllowed)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, msgMalformed+err.Error())
		return
	}

	a := actionproxy.Activation{
		Value:        params,
		Namespace:    g.namespace, // a web action runs as its owner
		ActionName:   g.qualifiedName(c.action),
		APIHost:      g.URL(),
		APIKey:       g.systemKey,
		ActivationID: newID(),
	}
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	g.inflight.Add(1)
	g.mu.Unlock()

	w.Header().Set("X-Openwhisk-Activation-Id", a.ActivationID)
	// Waiting for a free process counts against the activation's time limit.
	until := time.Now().Add(g.timeout)
	wait := time.NewTimer(g.wait)
	defer wait.Stop()
	done := make(chan outcome, 1)
	go func() {
		defer g.inflight.Done()
		result, err := c.run(a, until, g.timeout)
		if err == nil && tooLarge(result) {
			result, err = nil, errResultTooLarge
		}
		o := outcome{result, err}
		g.note(a, o)
		done <- o
	}()

	select {
	case o := <-done:
		g.reply(w, o)
	case <-wait.C:
		// The activation runs on; see the package documentation.
		writeError(w, http.StatusAccepted, msgNotReady)
	case <-r.Context().Done():
		// The client left; the activation runs on, as it would in OpenWhisk.
	}
}

// reply answers with how an activation ended: its result as HTTP (the
// "error" field of an application error), or, for an activation that did not
// produce a result the controller accepts, 400 as the controller answers a
// web call after a developer or system error.
func (g *Gateway) reply(w http.ResponseWriter, o outcome) {
	switch {
	case errors.Is(o.err, errStopping), errors.Is(o.err, errNoProcess), o.err != nil && g.isStopped():
		// The controller answers an overloaded action the same way.
		writeError(w, http.StatusServiceUnavailable, msgUnavailable)
	case o.err != nil:
		writeError(w, http.StatusBadRequest, msgProcessingError)
	default:
		if e, ok := o.result["error"]; ok {
			writeHTTP(w, e)
			return
		}
		writeHTTP(w, o.result)
	}
}

func (g *Gateway) isStopped() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopped
}

// note logs an activation that failed, whether or not a request still waits
// for it: the log is where the reason can be read, as in an activation record.
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
