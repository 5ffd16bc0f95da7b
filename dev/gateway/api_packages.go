package gateway

import (
	"fmt"
	"net/http"
)

// packagePut is the body of a package PUT.
type packagePut struct {
	entityPut
	Parameters *keyValues     `json:"parameters"`
	Binding    map[string]any `json:"binding"`
}

// servePackages answers …/packages and …/packages/<name>.
func (g *Gateway) servePackages(q *apiRequest) {
	if len(q.rest) == 0 {
		listEntities(q, g.store, g.store.packages)
		return
	}
	if len(q.rest) != 1 {
		writeError(q.w, http.StatusNotFound, msgNotFound)
		return
	}
	name := q.rest[0]
	switch q.r.Method {
	case http.MethodGet:
		if !g.shared(q, name) {
			return
		}
		doc, ok := g.packageWithActions(q.ns, name)
		if !ok {
			writeError(q.w, http.StatusNotFound, msgNotFound)
			return
		}
		writeJSON(q.w, http.StatusOK, doc)
	case http.MethodPut:
		if !q.own() {
			return
		}
		var body packagePut
		if !q.decodeObject(&body, false) {
			return
		}
		doc, err := g.putPackage(q.ns, name, body, q.overwrite())
		q.answerPut(doc, err)
	case http.MethodDelete:
		if !q.own() {
			return
		}
		g.deletePackage(q, name)
	default:
		q.methodNotAllowed(http.MethodGet, http.MethodPut, http.MethodDelete)
	}
}

func (g *Gateway) putPackage(ns, name string, body packagePut, overwrite bool) (packageDoc, error) {
	if err := checkName("package", name); err != nil {
		return packageDoc{}, malformed("%v", err)
	}
	if len(body.Binding) > 0 {
		return packageDoc{}, malformed("package bindings are not served by this gateway")
	}
	fresh := func() packageDoc {
		return packageDoc{entity: newEntity(ns, name), Parameters: keyValues{}, Binding: map[string]any{}}
	}
	return putEntity(g.store, g.store.packages, "/"+ns+"/"+name, overwrite, fresh, func(doc *packageDoc) error {
		if err := setKeyValues("parameter", &doc.Parameters, body.Parameters); err != nil {
			return err
		}
		return body.applyTo(&doc.entity)
	})
}

// packageWithActions returns a package as GET shows it: with its actions
// (and, for a feed provider, its feeds).
func (g *Gateway) packageWithActions(ns, name string) (packageDoc, bool) {
	g.store.mu.Lock()
	defer g.store.mu.Unlock()
	p, ok := g.store.packages["/"+ns+"/"+name]
	if !ok {
		return packageDoc{}, false
	}
	doc := *p
	for _, a := range inNamespace(g.store.actions, ns) {
		if a.q.pkg != name {
			continue
		}
		doc.Actions = append(doc.Actions, a.doc.entity)
		if a.doc.Annotations.truthy("feed") {
			doc.Feeds = append(doc.Feeds, a.doc.entity)
		}
	}
	return doc, true
}

// deletePackage deletes an empty package, as the controller refuses to
// delete one that holds actions.
func (g *Gateway) deletePackage(q *apiRequest, name string) {
	g.store.mu.Lock()
	key := "/" + q.ns + "/" + name
	p, ok := g.store.packages[key]
	n := 0
	for _, a := range inNamespace(g.store.actions, q.ns) {
		if a.q.pkg == name {
			n++
		}
	}
	if ok && n == 0 {
		delete(g.store.packages, key)
	}
	g.store.mu.Unlock()
	switch {
	case !ok:
		writeError(q.w, http.StatusNotFound, msgNotFound)
	case n > 0:
		what := "entities"
		if n == 1 {
			what = "entity"
		}
		writeError(q.w, http.StatusConflict, fmt.Sprintf(msgNotEmpty, n, what))
	default:
		writeJSON(q.w, http.StatusOK, p)
	}
}
