package gateway

import (
	"encoding/json"
	"net/http"
	"time"
)

// triggerPut is the body of a trigger PUT.
type triggerPut struct {
	entityPut
	Parameters *keyValues     `json:"parameters"`
	Limits     map[string]any `json:"limits"`
}

// serveTriggers answers …/triggers and …/triggers/<name>; POST fires.
func (g *Gateway) serveTriggers(q *apiRequest) {
	if len(q.rest) == 0 {
		listEntities(q, g.store, g.store.triggers)
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
	switch q.r.Method {
	case http.MethodGet:
		doc, ok := g.triggerWithRules(q.ns, name)
		if !ok {
			writeError(q.w, http.StatusNotFound, msgNotFound)
			return
		}
		writeJSON(q.w, http.StatusOK, doc)
	case http.MethodPut:
		var body triggerPut
		if !q.decodeObject(&body, false) {
			return
		}
		doc, err := g.putTrigger(q.ns, name, body, q.overwrite())
		q.answerPut(doc, err)
	case http.MethodDelete:
		g.store.mu.Lock()
		key := "/" + q.ns + "/" + name
		doc, ok := g.store.triggers[key]
		delete(g.store.triggers, key)
		g.store.mu.Unlock()
		if !ok {
			writeError(q.w, http.StatusNotFound, msgNotFound)
			return
		}
		writeJSON(q.w, http.StatusOK, doc)
	case http.MethodPost:
		payload := map[string]any{}
		if !q.decodeObject(&payload, true) {
			return
		}
		id, found := g.fire(q.ns, name, payload, q.key)
		switch {
		case !found:
			writeError(q.w, http.StatusNotFound, msgNotFound)
		case id == "":
			// No active rule: nothing runs and no activation is recorded.
			q.w.WriteHeader(http.StatusNoContent)
		default:
			writeJSON(q.w, http.StatusAccepted, map[string]string{"activationId": id})
		}
	default:
		q.methodNotAllowed(http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete)
	}
}

func (g *Gateway) putTrigger(ns, name string, body triggerPut, overwrite bool) (triggerDoc, error) {
	if err := checkName("trigger", name); err != nil {
		return triggerDoc{}, malformed("%v", err)
	}
	fresh := func() triggerDoc {
		return triggerDoc{entity: newEntity(ns, name), Parameters: keyValues{}, Limits: map[string]any{}}
	}
	return putEntity(g.store, g.store.triggers, "/"+ns+"/"+name, overwrite, fresh, func(doc *triggerDoc) error {
		if err := setKeyValues("parameter", &doc.Parameters, body.Parameters); err != nil {
			return err
		}
		return body.applyTo(&doc.entity)
	})
}

// triggerWithRules returns a trigger as GET shows it, with its rules.
func (g *Gateway) triggerWithRules(ns, name string) (triggerDoc, bool) {
	g.store.mu.Lock()
	defer g.store.mu.Unlock()
	t, ok := g.store.triggers["/"+ns+"/"+name]
	if !ok {
		return triggerDoc{}, false
	}
	doc := *t
	doc.Rules = map[string]ruleStatus{}
	for _, r := range inNamespace(g.store.rules, ns) {
		if r.Trigger.Name == name && r.Trigger.Path == ns {
			doc.Rules[r.Namespace+"/"+r.Name] = ruleStatus{Status: r.Status, Action: r.Action}
		}
	}
	return doc, true
}

// ruleLog is one line of a trigger's activation: what one rule started.
type ruleLog struct {
	StatusCode   int    `json:"statusCode"`
	Success      bool   `json:"success"`
	ActivationID string `json:"activationId,omitempty"`
	Rule         string `json:"rule"`
	Action       string `json:"action"`
	Error        string `json:"error,omitempty"`
}

// fire fires trigger ns/name with payload as the holder of key, as the
// controller does: every active rule of the trigger starts its action, in
// the trigger's namespace, with the trigger's parameters and the payload
// over the action's own. It returns the trigger's activation id, "" when no
// rule is active (nothing runs and nothing is recorded), and whether the
// trigger exists.
func (g *Gateway) fire(ns, name string, payload map[string]any, key string) (id string, found bool) {
	g.store.mu.Lock()
	t, ok := g.store.triggers["/"+ns+"/"+name]
	var active []ruleDoc
	if ok {
		for _, r := range inNamespace(g.store.rules, ns) {
			if r.Status == ruleActive && r.Trigger.Path == ns && r.Trigger.Name == name {
				active = append(active, *r)
			}
		}
	}
	var params keyValues
	if ok {
		params = t.Parameters
	}
	g.store.mu.Unlock()
	if !ok {
		return "", false
	}
	if len(active) == 0 {
		return "", true
	}
	args := params.asMap()
	for k, v := range payload {
		args[k] = v
	}
	begin := time.Now()
	id = newID()
	var logs []string
	for _, r := range active {
		line := ruleLog{Rule: r.Namespace + "/" + r.Name, Action: r.Action.Path + "/" + r.Action.Name}
		q, err := parseQName("/"+line.Action, ns)
		act, exists := g.store.action(q)
		if err != nil || !exists {
			line.StatusCode, line.Error = 1, msgNotFound
		} else {
			p := g.inputsOf(act)
			for k, v := range args {
				p[k] = v
			}
			aid, _, err := g.run(invocation{act: act, params: p, namespace: ns, key: key, cause: id})
			if err != nil {
				line.StatusCode, line.Error = 3, msgUnavailable
			} else {
				line.Success, line.ActivationID = true, aid
			}
		}
		b, _ := json.Marshal(line)
		logs = append(logs, string(b))
	}
	end := time.Now()
	g.store.saveActivation(&activation{doc: activationDoc{
		Namespace: ns, Name: name, Version: "0.0.1", Subject: ns, ActivationID: id,
		Start: begin.UnixMilli(), End: end.UnixMilli(),
		Response: activationResponse{Status: activationStatus[0], Success: true, Result: args},
		Logs:     logs, Annotations: keyValues{{"path", ns + "/" + name}, {"kind", "trigger"}},
	}})
	return id, true
}
