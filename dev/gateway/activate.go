package gateway

import (
	"errors"
	"net/http"
	"time"
)

// serveWeb runs the web action act for r and answers with its result.
func (g *Gateway) serveWeb(w http.ResponseWriter, r *http.Request, act *action, owPath string) {
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
	inputs := g.inputsOf(act)
	params, err := webParams(r, b, owPath, inputs, act.doc.Annotations.truthy("final"))
	switch {
	case errors.Is(err, errNotAllowed):
		writeError(w, http.StatusBadRequest, msgParamsNotAllowed)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, msgMalformed+err.Error())
		return
	}

	// A web action runs as its owner, with a key of the owner's.
	id, done, err := g.run(invocation{act: act, params: params, namespace: act.q.ns, key: g.keyOf(act.q.ns)})
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	w.Header().Set("X-Openwhisk-Activation-Id", id)
	wait := time.NewTimer(g.wait)
	defer wait.Stop()
	select {
	case f := <-done:
		g.reply(w, f.o)
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
