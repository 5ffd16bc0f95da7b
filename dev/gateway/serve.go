package gateway

import (
	"net/http"
	"strings"
)

// serve dispatches a request by path.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case path == "/" || path == "/api/v1" || path == "/api/v1/":
		g.serveInfo(w)
	case path == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	case path == namespacesPath || path == namespacePrefix:
		g.subjects.ServeHTTP(w, r)
	case strings.HasPrefix(path, namespacePrefix):
		g.serveAPI(w, r)
	case r.ContentLength > maxEntity:
		// The controller checks the declared size before it looks for the action.
		writeError(w, http.StatusRequestEntityTooLarge, errTooLarge{r.ContentLength, maxEntity}.Error())
	default:
		q, owPath, ok := g.route(path)
		if !ok {
			writeError(w, http.StatusNotFound, msgNotFound)
			return
		}
		act, ok := g.store.action(q)
		if !ok || !act.webExported() {
			writeError(w, http.StatusNotFound, msgNotFound)
			return
		}
		g.serveWeb(w, r, act, owPath)
	}
}

// allowed are the methods the controller accepts on a web action.
var allowed = map[string]bool{
	http.MethodGet: true, http.MethodDelete: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodHead: true, http.MethodOptions: true, http.MethodPatch: true,
}

// cors sets the CORS headers the controller adds to every web action reply
// (CorsSettings.WebActions), echoing the headers a preflight asks for.
func cors(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH")
	if asked := r.Header.Get("Access-Control-Request-Headers"); strings.TrimSpace(asked) != "" {
		h.Set("Access-Control-Allow-Headers", asked)
	} else {
		h.Set("Access-Control-Allow-Headers", "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent")
	}
}

// serveInfo answers the controller's description of itself, whose runtimes
// wskdeploy reads to check the kinds of a manifest.
func (g *Gateway) serveInfo(w http.ResponseWriter) {
	type runtime struct {
		Kind       string `json:"kind"`
		Default    bool   `json:"default"`
		Deprecated bool   `json:"deprecated"`
	}
	runtimes := map[string][]runtime{}
	for _, kind := range sortedKeys(g.runtimes) {
		family, _, _ := strings.Cut(kind, ":")
		runtimes[family] = append(runtimes[family], runtime{Kind: kind, Default: len(runtimes[family]) == 0})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"description": "OpenWhisk API stand-in of the deployer's local stack",
		"api_paths":   []string{"/api/v1"},
		"runtimes":    runtimes,
		"limits": map[string]any{
			"actions_per_minute": 600, "triggers_per_minute": 600, "concurrent_actions": 100,
			"max_action_duration": maxTimeout, "max_action_memory": 2048 << 20, "max_action_logs": 10 << 20,
		},
	})
}
