package gateway

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// The documents below are the JSON forms of the controller's entities
// (WhiskAction, WhiskPackage, WhiskTrigger, WhiskRule), as a client reads them.

// keyValue is one annotation or parameter.
type keyValue struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// keyValues is an entity's annotations or parameters, in the order given.
type keyValues []keyValue

// get returns the value of key, if it is set.
func (kv keyValues) get(key string) (any, bool) {
	for _, p := range kv {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// truthy reports whether key is set to true or "true", as the controller
// reads a boolean annotation.
func (kv keyValues) truthy(key string) bool {
	v, _ := kv.get(key)
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true") || x == "yes"
	}
	return false
}

// set returns kv with key set to value, replacing an earlier value.
func (kv keyValues) set(key string, value any) keyValues {
	out := make(keyValues, 0, len(kv)+1)
	for _, p := range kv {
		if p.Key != key {
			out = append(out, p)
		}
	}
	return append(out, keyValue{key, value})
}

// merged returns kv with every pair of over set on top.
func (kv keyValues) merged(over keyValues) keyValues {
	out := append(keyValues{}, kv...)
	for _, p := range over {
		out = out.set(p.Key, p.Value)
	}
	return out
}

// asMap returns the pairs as a map, the later of two equal keys winning.
func (kv keyValues) asMap() map[string]any {
	m := make(map[string]any, len(kv))
	for _, p := range kv {
		m[p.Key] = p.Value
	}
	return m
}

// entityPath is how a rule names its trigger and action.
type entityPath struct {
	Path string `json:"path"`
	Name string `json:"name"`
}

// actionExec is an action's code. Binary code is a base64 zip.
type actionExec struct {
	Kind   string `json:"kind"`
	Code   string `json:"code,omitempty"`
	Binary bool   `json:"binary"`
	Main   string `json:"main,omitempty"`
	Image  string `json:"image,omitempty"`
}

// limits are an action's limits, as the controller reports them.
type limits struct {
	Timeout     int `json:"timeout"`
	Memory      int `json:"memory"`
	Logs        int `json:"logs"`
	Concurrency int `json:"concurrency"`
}

// The controller's defaults and bounds of an action's limits.
var (
	defaultLimits = limits{Timeout: 60000, Memory: 256, Logs: 10, Concurrency: 1}
	maxTimeout    = 300000
)

// entity is what every entity document holds; an action as a package or a
// list shows it is only this.
type entity struct {
	Namespace   string    `json:"namespace"`
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	Publish     bool      `json:"publish"`
	Annotations keyValues `json:"annotations"`
	Updated     int64     `json:"updated"`
}

// newEntity is an entity as first created.
func newEntity(ns, name string) entity {
	return entity{Namespace: ns, Name: name, Version: "0.0.1", Annotations: keyValues{}, Updated: time.Now().UnixMilli()}
}

type actionDoc struct {
	entity
	Exec       actionExec `json:"exec"`
	Parameters keyValues  `json:"parameters"`
	Limits     limits     `json:"limits"`
}

type packageDoc struct {
	entity
	Parameters keyValues      `json:"parameters"`
	Binding    map[string]any `json:"binding"`
	Actions    []entity       `json:"actions,omitempty"`
	Feeds      []entity       `json:"feeds,omitempty"`
}

type triggerDoc struct {
	entity
	Parameters keyValues             `json:"parameters"`
	Limits     map[string]any        `json:"limits"`
	Rules      map[string]ruleStatus `json:"rules,omitempty"`
}

// ruleStatus is a rule as its trigger lists it.
type ruleStatus struct {
	Status string     `json:"status"`
	Action entityPath `json:"action"`
}

type ruleDoc struct {
	entity
	Status  string     `json:"status"`
	Trigger entityPath `json:"trigger"`
	Action  entityPath `json:"action"`
}

// entityPut is what the PUT of any entity may set; a field left out keeps
// its value on an update.
type entityPut struct {
	Annotations *keyValues `json:"annotations"`
	Publish     *bool      `json:"publish"`
	Version     *string    `json:"version"`
}

// applyTo sets what the body gives on e, and its update time.
func (p entityPut) applyTo(e *entity) error {
	if err := setKeyValues("annotation", &e.Annotations, p.Annotations); err != nil {
		return err
	}
	if p.Publish != nil {
		e.Publish = *p.Publish
	}
	if p.Version != nil && *p.Version != "" {
		e.Version = *p.Version
	}
	e.Updated = time.Now().UnixMilli()
	return nil
}

// setKeyValues sets *dst to src when a body gives it, refusing a pair
// without a key.
func setKeyValues(what string, dst *keyValues, src *keyValues) error {
	if src == nil {
		return nil
	}
	for i, p := range *src {
		if p.Key == "" {
			return malformed("%s %d has no key", what, i)
		}
	}
	*dst = append(keyValues{}, *src...)
	return nil
}

// Rule states.
const (
	ruleActive   = "active"
	ruleInactive = "inactive"
)

// entityName is the controller's rule for an entity name (EntityName.REGEX).
var entityName = regexp.MustCompile(`^([\w]|[\w][\w@ .-]*[\w@.-]+)$`)

// checkName refuses what the controller refuses as an entity or namespace name.
func checkName(what, name string) error {
	if len(name) > 256 || !entityName.MatchString(name) {
		return fmt.Errorf("%s name %q is not valid", what, name)
	}
	return nil
}

// qname is a fully qualified entity name: /namespace[/package]/name.
type qname struct {
	ns, pkg, name string
}

func (q qname) String() string {
	if q.pkg == "" {
		return "/" + q.ns + "/" + q.name
	}
	return "/" + q.ns + "/" + q.pkg + "/" + q.name
}

// path is the namespace path an entity document shows: ns or ns/package.
func (q qname) path() string {
	if q.pkg == "" {
		return q.ns
	}
	return q.ns + "/" + q.pkg
}

// parseQName reads "/ns/name", "/ns/pkg/name", "pkg/name" or "name"; a name
// without a namespace is in ns.
func parseQName(s, ns string) (qname, error) {
	parts := strings.Split(strings.TrimPrefix(s, "/"), "/")
	var q qname
	switch {
	case strings.HasPrefix(s, "/") && len(parts) == 2:
		q = qname{ns: parts[0], name: parts[1]}
	case strings.HasPrefix(s, "/") && len(parts) == 3:
		q = qname{ns: parts[0], pkg: parts[1], name: parts[2]}
	case !strings.HasPrefix(s, "/") && len(parts) == 1:
		q = qname{ns: ns, name: parts[0]}
	case !strings.HasPrefix(s, "/") && len(parts) == 2:
		q = qname{ns: ns, pkg: parts[0], name: parts[1]}
	default:
		return qname{}, fmt.Errorf("%q is not a fully qualified name", s)
	}
	for _, p := range []string{q.ns, q.pkg, q.name} {
		if p != "" {
			if err := checkName("entity", p); err != nil {
				return qname{}, err
			}
		}
	}
	return q, nil
}
