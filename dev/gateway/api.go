package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// More of the controller's messages (org.apache.openwhisk.http.Messages).
const (
	msgConflict      = "resource already exists"
	msgNotAuthorized = "The supplied authentication is not authorized to access '%s'."
	msgNotEmpty      = "Package not empty (contains %d %s). Delete or remove package content first."
)

// maxCode is the controller's limit on an action's code: 48 MiB.
const maxCode = 48 << 20

// apiRequest is one authenticated request to the entity API.
type apiRequest struct {
	w          http.ResponseWriter
	r          *http.Request
	caller     string // the namespace of the caller's key
	key        string // the caller's key, uuid:key
	ns         string // the namespace of the path, "_" resolved
	collection string
	rest       []string // the path after the collection
	// listing is a path that ends in "/" after a package name: the
	// package's actions.
	listing bool
}

// serveAPI answers the OpenWhisk REST API under /api/v1/namespaces/<ns>/:
// packages, actions, triggers, rules and activations.
func (g *Gateway) serveAPI(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		writeError(w, http.StatusUnauthorized, msgAuthMissing)
		return
	}
	caller, ok := g.subjects.namespace(id, secret)
	if !ok {
		writeError(w, http.StatusUnauthorized, msgAuthInvalid)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, namespacePrefix)
	listing := strings.HasSuffix(path, "/")
	segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
	req := &apiRequest{w: w, r: r, caller: caller, key: id + ":" + secret, ns: segs[0]}
	if req.ns == "_" {
		req.ns = caller
	}
	if len(segs) < 2 {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	req.collection, req.rest, req.listing = segs[1], segs[2:], listing && len(segs) == 3
	if !g.knownNamespace(req.ns) {
		writeError(w, http.StatusNotFound, msgNotFound)
		return
	}
	switch req.collection {
	case "packages":
		g.servePackages(req)
	case "actions":
		g.serveActions(req)
	case "triggers":
		g.serveTriggers(req)
	case "rules":
		g.serveRules(req)
	case "activations":
		g.serveActivations(req)
	default:
		writeError(w, http.StatusNotFound, msgNotFound)
	}
}

// knownNamespace reports whether ns has a key or holds packages (the
// namespace of the alarms package has no key).
func (g *Gateway) knownNamespace(ns string) bool {
	if _, ok := g.subjects.Token(ns); ok {
		return true
	}
	g.store.mu.Lock()
	defer g.store.mu.Unlock()
	return len(inNamespace(g.store.packages, ns)) > 0
}

// own reports whether the request is in the caller's namespace; otherwise
// it answers 403, as the controller refuses another namespace's entities.
func (q *apiRequest) own() bool {
	if q.ns == q.caller {
		return true
	}
	q.forbidden()
	return false
}

func (q *apiRequest) forbidden() {
	writeError(q.w, http.StatusForbidden, fmt.Sprintf(msgNotAuthorized, q.ns))
}

// shared reports whether the caller may read and invoke what package pkg of
// the request's namespace holds: the namespace is the caller's, or the
// package is published. It answers 403 otherwise, whether or not the package
// exists, as the controller does.
func (g *Gateway) shared(q *apiRequest, pkg string) bool {
	if q.ns == q.caller {
		return true
	}
	if pkg != "" {
		if p, ok := g.store.pkg(q.ns, pkg); ok && p.Publish {
			return true
		}
	}
	q.forbidden()
	return false
}

// methodNotAllowed answers 405 naming the methods the path takes.
func (q *apiRequest) methodNotAllowed(methods ...string) {
	writeError(q.w, http.StatusMethodNotAllowed, "HTTP method not allowed, supported methods: "+strings.Join(methods, ", "))
}

// errMalformedEntity is a PUT body the controller refuses with 400.
type errMalformedEntity struct{ reason string }

func (e errMalformedEntity) Error() string { return e.reason }

func malformed(format string, args ...any) error {
	return errMalformedEntity{fmt.Sprintf(format, args...)}
}

// decodeObject reads the request body as one JSON object into v; an empty
// body is {} when empty is true.
func (q *apiRequest) decodeObject(v any, empty bool) bool {
	// An action's code may be larger than any other request.
	limit := int64(maxEntity)
	if q.collection == "actions" && q.r.Method == http.MethodPut {
		limit = maxCode
	}
	b, err := readBodyUpTo(q.r, limit)
	if err != nil {
		var tooLarge errTooLarge
		if errors.As(err, &tooLarge) {
			writeError(q.w, http.StatusRequestEntityTooLarge, tooLarge.Error())
			return false
		}
		writeError(q.w, http.StatusBadRequest, msgMalformed+err.Error())
		return false
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		if empty {
			b = []byte("{}")
		} else {
			writeError(q.w, http.StatusBadRequest, msgMalformed+"no entity")
			return false
		}
	}
	if strings.TrimSpace(string(b))[0] != '{' {
		writeError(q.w, http.StatusBadRequest, msgMalformed+"the entity is not a JSON object")
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		writeError(q.w, http.StatusBadRequest, msgMalformed+err.Error())
		return false
	}
	return true
}

// answerPut answers a refused or accepted PUT.
func (q *apiRequest) answerPut(doc any, err error) {
	var m errMalformedEntity
	switch {
	case errors.As(err, &m):
		writeError(q.w, http.StatusBadRequest, msgMalformed+m.reason)
	case errors.Is(err, errExists):
		writeError(q.w, http.StatusConflict, msgConflict)
	case errors.Is(err, errNoEntity):
		writeError(q.w, http.StatusNotFound, msgNotFound)
	case err != nil:
		writeError(q.w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(q.w, http.StatusOK, doc)
	}
}

// The outcomes of a store change that are not malformed input.
var (
	errExists   = errors.New("exists")
	errNoEntity = errors.New("no such entity")
)

// overwrite reports whether the request asks to replace an existing entity.
func (q *apiRequest) overwrite() bool { return q.r.URL.Query().Get("overwrite") == "true" }

// putEntity stores under key in m a new document made by fresh, or, with
// overwrite, a copy of the stored one; change applies the request to it
// first and may refuse it.
func putEntity[T any](s *store, m map[string]*T, key string, overwrite bool, fresh func() T, change func(*T) error) (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var doc T
	old, exists := m[key]
	switch {
	case exists && !overwrite:
		return doc, errExists
	case exists:
		doc = *old
	default:
		doc = fresh()
	}
	if err := change(&doc); err != nil {
		var zero T
		return zero, err
	}
	m[key] = &doc
	return doc, nil
}

// listEntities answers GET of a collection of the caller's namespace: the
// documents of m there, sorted by name, with skip and limit.
func listEntities[T any](q *apiRequest, s *store, m map[string]*T) {
	if q.r.Method != http.MethodGet {
		q.methodNotAllowed(http.MethodGet)
		return
	}
	if !q.own() {
		return
	}
	s.mu.Lock()
	out := []T{}
	for _, d := range inNamespace(m, q.ns) {
		out = append(out, *d)
	}
	s.mu.Unlock()
	writeJSON(q.w, http.StatusOK, page(out, q))
}
