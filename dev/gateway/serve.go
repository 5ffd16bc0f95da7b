package gateway

import (
	"net/http"
	"strings"
)

// serve dispatches a request by path.
func (g *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	switch {
	case path == "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	case path == "/api/v1/namespaces" || path == "/api/v1/namespaces/":
		g.subjects.ServeHTTP(w, r)
	case r.ContentLength > maxEntity:
		// The controller checks the declared size before it looks for the action.
		writeError(w, http.StatusRequestEntityTooLarge, errTooLarge{r.ContentLength}.Error())
	default:
		action, owPath, ok := g.route(path)
		c := g.pools[action]
		if !ok || c == nil {
			writeError(w, http.StatusNotFound, msgNotFound)
			return
		}
		g.serveAction(w, r, c, owPath)
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
