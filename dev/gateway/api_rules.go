package gateway

import (
	"net/http"
	"strings"
)

// rulePut is the body of a rule PUT.
type rulePut struct {
	entityPut
	Trigger any    `json:"trigger"`
	Action  any    `json:"action"`
	Status  string `json:"status"`
}

// serveRules answers …/rules and …/rules/<name>; POST sets the state.
func (g *Gateway) serveRules(q *apiRequest) {
	if len(q.rest) == 0 {
		listEntities(q, g.store, g.store.rules)
		return
	}
	if !q.own() {
		return
	}
	if len(q.rest) != 1 {
		writeError(q.w, http.StatusNotFound, msgNotFound)
		return
	}
	name := q.rest[0]
	key := "/" + q.ns + "/" + name
	switch q.r.Method {
	case http.MethodGet, http.MethodDelete:
		g.store.mu.Lock()
		doc, ok := g.store.rules[key]
		if ok && q.r.Method == http.MethodDelete {
			delete(g.store.rules, key)
		}
		g.store.mu.Unlock()
		if !ok {
			writeError(q.w, http.StatusNotFound, msgNotFound)
			return
		}
		writeJSON(q.w, http.StatusOK, doc)
	case http.MethodPut:
		var body rulePut
		if !q.decodeObject(&body, false) {
			return
		}
		doc, err := g.putRule(q, name, body)
		q.answerPut(doc, err)
	case http.MethodPost:
		var body struct {
			Status string `json:"status"`
		}
		if !q.decodeObject(&body, false) {
			return
		}
		if body.Status != ruleActive && body.Status != ruleInactive {
			writeError(q.w, http.StatusBadRequest, msgMalformed+"status must be active or inactive")
			return
		}
		g.store.mu.Lock()
		doc, ok := g.store.rules[key]
		if ok {
			doc.Status = body.Status
		}
		g.store.mu.Unlock()
		if !ok {
			writeError(q.w, http.StatusNotFound, msgNotFound)
			return
		}
		q.w.WriteHeader(http.StatusOK)
	default:
		q.methodNotAllowed(http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete)
	}
}

// putRule creates or (with overwrite) updates a rule, active unless the body
// says otherwise. Its trigger must be one of the namespace's and exist; its
// action must exist and be the caller's or in a shared package.
func (g *Gateway) putRule(q *apiRequest, name string, body rulePut) (ruleDoc, error) {
	if err := checkName("rule", name); err != nil {
		return ruleDoc{}, malformed("%v", err)
	}
	tname, _ := body.Trigger.(string)
	aname, _ := body.Action.(string)
	if tname == "" || aname == "" {
		return ruleDoc{}, malformed("a rule needs a trigger and an action, each a name")
	}
	tq, err := parseQName(tname, q.ns)
	if err != nil || tq.pkg != "" {
		return ruleDoc{}, malformed("trigger %q is not a trigger name", tname)
	}
	if tq.ns != q.ns {
		return ruleDoc{}, malformed("trigger %q is not in namespace %s", tname, q.ns)
	}
	aq, err := parseQName(aname, q.ns)
	if err != nil {
		return ruleDoc{}, malformed("action %q: %v", aname, err)
	}
	status := ruleActive
	switch strings.TrimSpace(body.Status) {
	case "", ruleActive:
	case ruleInactive:
		status = ruleInactive
	default:
		return ruleDoc{}, malformed("status must be active or inactive")
	}
	if _, ok := g.store.action(aq); !ok || (aq.ns != q.ns && !g.published(aq)) {
		return ruleDoc{}, errNoEntity
	}
	if _, ok := g.triggerWithRules(tq.ns, tq.name); !ok {
		return ruleDoc{}, errNoEntity
	}
	fresh := func() ruleDoc { return ruleDoc{entity: newEntity(q.ns, name)} }
	return putEntity(g.store, g.store.rules, "/"+q.ns+"/"+name, q.overwrite(), fresh, func(doc *ruleDoc) error {
		doc.Status = status
		doc.Trigger = entityPath{Path: tq.ns, Name: tq.name}
		doc.Action = entityPath{Path: aq.path(), Name: aq.name}
		return body.applyTo(&doc.entity)
	})
}

// published reports whether the action q is in a published package.
func (g *Gateway) published(q qname) bool {
	if q.pkg == "" {
		return false
	}
	p, ok := g.store.pkg(q.ns, q.pkg)
	return ok && p.Publish
}
