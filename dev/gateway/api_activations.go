package gateway

import (
	"net/http"
	"strconv"
)

// serveActivations answers …/activations (the namespace's records, newest
// first: name, skip, limit), …/activations/<id>, …/<id>/result and
// …/<id>/logs. A record exists once its activation has ended.
func (g *Gateway) serveActivations(q *apiRequest) {
	if !q.own() {
		return
	}
	if q.r.Method != http.MethodGet {
		q.methodNotAllowed(http.MethodGet)
		return
	}
	if len(q.rest) == 0 {
		query := q.r.URL.Query()
		skip, _ := strconv.Atoi(query.Get("skip"))
		limit, err := strconv.Atoi(query.Get("limit"))
		if err != nil || limit <= 0 {
			limit = 30
		}
		out := []activationDoc{}
		for _, a := range g.store.listActivations(q.ns, query.Get("name"), skip, limit) {
			out = append(out, a.doc)
		}
		writeJSON(q.w, http.StatusOK, out)
		return
	}
	a, ok := g.store.activation(q.ns, q.rest[0])
	if !ok || len(q.rest) > 2 {
		writeError(q.w, http.StatusNotFound, msgNotFound)
		return
	}
	switch {
	case len(q.rest) == 1:
		writeJSON(q.w, http.StatusOK, a.doc)
	case q.rest[1] == "result":
		writeJSON(q.w, http.StatusOK, a.doc.Response)
	case q.rest[1] == "logs":
		writeJSON(q.w, http.StatusOK, map[string]any{"logs": a.doc.Logs})
	default:
		writeError(q.w, http.StatusNotFound, msgNotFound)
	}
}
