package gateway

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// serveActions answers …/actions, …/actions/[<package>/]<action>.
func (g *Gateway) serveActions(q *apiRequest) {
	if len(q.rest) == 0 || q.listing {
		if q.r.Method != http.MethodGet {
			q.methodNotAllowed(http.MethodGet)
			return
		}
		pkg := ""
		if q.listing {
			pkg = q.rest[0]
		}
		if !g.shared(q, pkg) {
			return
		}
		g.listActions(q, pkg)
		return
	}
	var name qname
	switch len(q.rest) {
	case 1:
		name = qname{ns: q.ns, name: q.rest[0]}
	case 2:
		name = qname{ns: q.ns, pkg: q.rest[0], name: q.rest[1]}
	default:
		writeError(q.w, http.StatusNotFound, msgNotFound)
		return
	}
	switch q.r.Method {
	case http.MethodGet:
		if !g.shared(q, name.pkg) {
			return
		}
		act, ok := g.store.action(name)
		if !ok {
			writeError(q.w, http.StatusNotFound, msgNotFound)
			return
		}
		doc := act.doc
		if q.r.URL.Query().Get("code") == "false" {
			doc.Exec.Code = ""
		}
		writeJSON(q.w, http.StatusOK, doc)
	case http.MethodPost:
		if !g.shared(q, name.pkg) {
			return
		}
		g.invoke(q, name)
	case http.MethodPut:
		if !q.own() {
			return
		}
		var body actionPut
		if !q.decodeObject(&body, false) {
			return
		}
		doc, err := g.putAction(name, body, q.overwrite())
		q.answerPut(doc, err)
	case http.MethodDelete:
		if !q.own() {
			return
		}
		doc, ok := g.deleteAction(name)
		if !ok {
			writeError(q.w, http.StatusNotFound, msgNotFound)
			return
		}
		writeJSON(q.w, http.StatusOK, doc)
	default:
		q.methodNotAllowed(http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete)
	}
}

// actionPut is the body of an action PUT; a field left out keeps its value
// on an update.
type actionPut struct {
	entityPut
	Exec       *actionExec `json:"exec"`
	Parameters *keyValues  `json:"parameters"`
	Limits     *struct {
		Timeout     *int `json:"timeout"`
		Memory      *int `json:"memory"`
		Logs        *int `json:"logs"`
		Concurrency *int `json:"concurrency"`
	} `json:"limits"`
}

// putAction creates or (with overwrite) updates an action, checking what
// the controller checks, and unpacks its zip.
func (g *Gateway) putAction(name qname, body actionPut, overwrite bool) (actionDoc, error) {
	if err := checkName("action", name.name); err != nil {
		return actionDoc{}, malformed("%v", err)
	}
	if name.pkg != "" {
		if _, ok := g.store.pkg(name.ns, name.pkg); !ok {
			return actionDoc{}, errNoEntity
		}
	}
	old, exists := g.store.action(name)
	if exists && !overwrite {
		return actionDoc{}, errExists
	}
	doc := actionDoc{entity: newEntity(name.path(), name.name), Limits: defaultLimits, Parameters: keyValues{}}
	if exists {
		doc = old.doc
	}
	if body.Exec == nil && !exists {
		return actionDoc{}, malformed("exec undefined")
	}
	if body.Exec != nil {
		if _, ok := g.runtimes[body.Exec.Kind]; !ok {
			return actionDoc{}, malformed("kind '%s' not in %v", body.Exec.Kind, sortedKeys(g.runtimes))
		}
		if body.Exec.Code == "" {
			return actionDoc{}, malformed("exec malformed: no code")
		}
		// The controller takes code that is base64 for binary when the
		// client does not say (Exec.isBinaryCode); wskdeploy does not.
		if !body.Exec.Binary {
			t := strings.TrimSpace(body.Exec.Code)
			body.Exec.Binary = len(t)%4 == 0 && base64Text.MatchString(t)
		}
		if body.Exec.Binary {
			if _, err := base64.StdEncoding.DecodeString(body.Exec.Code); err != nil {
				return actionDoc{}, malformed("exec malformed: binary code is not base64: %v", err)
			}
		}
		doc.Exec = *body.Exec
	}
	if err := setKeyValues("parameter", &doc.Parameters, body.Parameters); err != nil {
		return actionDoc{}, err
	}
	if err := body.applyTo(&doc.entity); err != nil {
		return actionDoc{}, err
	}
	if l := body.Limits; l != nil {
		for _, f := range []struct {
			name     string
			v        *int
			to       *int
			min, max int
		}{
			{"Time limit", l.Timeout, &doc.Limits.Timeout, 100, maxTimeout},
			{"Memory limit", l.Memory, &doc.Limits.Memory, 128, 2048},
			{"Log limit", l.Logs, &doc.Limits.Logs, 0, 10},
			{"Concurrency limit", l.Concurrency, &doc.Limits.Concurrency, 1, 500},
		} {
			if f.v == nil {
				continue
			}
			if *f.v < f.min || *f.v > f.max {
				return actionDoc{}, malformed("%s %d is outside the allowed range [%d, %d].", f.name, *f.v, f.min, f.max)
			}
			*f.to = *f.v
		}
	}
	doc.Annotations = doc.Annotations.set("exec", doc.Exec.Kind)

	act := &action{doc: doc, q: name}
	if path, err := g.unpack(doc.Exec, g.runtimes[doc.Exec.Kind]); err != nil {
		act.initErr = err
	} else {
		act.pool = newPool(name.name, path, g.env, g.log, g.poolSize)
	}
	g.replaceAction(name, act)
	doc.Exec.Code = ""
	return doc, nil
}

// replaceAction stores act in place of what had its name, and schedules
// its cron annotation.
func (g *Gateway) replaceAction(name qname, act *action) {
	g.store.mu.Lock()
	old := g.store.actions[name.String()]
	if act == nil {
		delete(g.store.actions, name.String())
	} else {
		g.store.actions[name.String()] = act
	}
	g.store.mu.Unlock()
	if old != nil && old.pool != nil {
		g.retire(old.pool)
	}
	g.schedules.cronAnnotation(name, act)
}

// retire stops a pool that no action uses any more, in the background; Stop
// waits for it.
func (g *Gateway) retire(p *pool) {
	g.mu.Lock()
	g.retired = append(g.retired, p)
	g.mu.Unlock()
	go func() { _ = p.stop() }()
}

func (g *Gateway) deleteAction(name qname) (actionDoc, bool) {
	act, ok := g.store.action(name)
	if !ok {
		return actionDoc{}, false
	}
	g.replaceAction(name, nil)
	doc := act.doc
	doc.Exec.Code = ""
	return doc, true
}

// listActions answers the actions of the namespace, or of one package.
func (g *Gateway) listActions(q *apiRequest, pkg string) {
	g.store.mu.Lock()
	out := []entity{}
	for _, a := range inNamespace(g.store.actions, q.ns) {
		if pkg == "" || a.q.pkg == pkg {
			out = append(out, a.doc.entity)
		}
	}
	g.store.mu.Unlock()
	writeJSON(q.w, http.StatusOK, page(out, q))
}

// page applies the skip and limit query parameters of a list.
func page[T any](all []T, q *apiRequest) []T {
	skip, _ := strconv.Atoi(q.r.URL.Query().Get("skip"))
	limit, _ := strconv.Atoi(q.r.URL.Query().Get("limit"))
	if skip > len(all) {
		skip = len(all)
	}
	if skip > 0 {
		all = all[skip:]
	}
	if limit > 0 && limit < len(all) {
		all = all[:limit]
	}
	return all
}

// invoke answers POST …/actions/<name>: an activation as q's caller, with
// the action's bound parameters overridden by the body's, as the controller
// merges them. Blocking waits at most the blocking wait, then answers 202
// with the activation id, as a non-blocking invoke does at once.
func (g *Gateway) invoke(q *apiRequest, name qname) {
	act, ok := g.store.action(name)
	if !ok {
		writeError(q.w, http.StatusNotFound, msgNotFound)
		return
	}
	payload := map[string]any{}
	if !q.decodeObject(&payload, true) {
		return
	}
	params := g.inputsOf(act)
	for k, v := range payload {
		params[k] = v
	}
	id, done, err := g.run(invocation{act: act, params: params, namespace: q.caller, key: q.key})
	if err != nil {
		writeError(q.w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	query := q.r.URL.Query()
	if query.Get("blocking") != "true" {
		writeJSON(q.w, http.StatusAccepted, map[string]string{"activationId": id})
		return
	}
	wait := g.wait
	if ms, err := strconv.Atoi(query.Get("timeout")); err == nil && ms > 0 && time.Duration(ms)*time.Millisecond < wait {
		wait = time.Duration(ms) * time.Millisecond
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case f := <-done:
		answerActivation(q.w, f.rec, query.Get("result") == "true")
	case <-timer.C:
		writeJSON(q.w, http.StatusAccepted, map[string]string{"activationId": id})
	case <-q.r.Context().Done():
	}
}

// answerActivation answers a blocking invoke as the controller does: the
// record, or only the result; 502 for an application or developer error,
// 500 for an internal one.
func answerActivation(w http.ResponseWriter, a *activation, resultOnly bool) {
	status := http.StatusOK
	switch a.doc.StatusCode {
	case 1, 2:
		status = http.StatusBadGateway
	case 3:
		status = http.StatusInternalServerError
	}
	w.Header().Set("X-Openwhisk-Activation-Id", a.doc.ActivationID)
	if resultOnly {
		writeJSON(w, status, a.doc.Response.Result)
		return
	}
	writeJSON(w, status, a.doc)
}

// unpack writes the zip of a precompiled action to its own folder, once per
// content, and returns the path of its executable. The Go runtime refuses a
// zip without exec, or whose exec.env is not its own execution environment;
// so does this.
func (g *Gateway) unpack(e actionExec, execEnv string) (string, error) {
	if !e.Binary {
		return "", fmt.Errorf("only precompiled actions (a zip holding exec and exec.env) run here")
	}
	zipped, err := base64.StdEncoding.DecodeString(e.Code)
	if err != nil {
		return "", fmt.Errorf("decoding the zip: %w", err)
	}
	dir, err := g.zipDir()
	if err != nil {
		return "", err
	}
	return unzipAction(zipped, dir, execEnv)
}
