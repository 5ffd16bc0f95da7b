package gateway

import (
	"sort"
	"strings"
	"sync"
)

// store holds the entities and activations, in memory only: nothing the
// gateway is given outlives it, as nothing of the local stack outlives
// `./task down`.
type store struct {
	mu          sync.Mutex
	packages    map[string]*packageDoc // by "/ns/package"
	actions     map[string]*action     // by fully qualified name
	triggers    map[string]*triggerDoc // by "/ns/trigger"
	rules       map[string]*ruleDoc    // by "/ns/rule"
	activations map[string]*activation
	order       []string // activation ids, oldest first
}

// maxActivations is how many activation records the store keeps.
const maxActivations = 2000

func newStore() *store {
	return &store{
		packages:    map[string]*packageDoc{},
		actions:     map[string]*action{},
		triggers:    map[string]*triggerDoc{},
		rules:       map[string]*ruleDoc{},
		activations: map[string]*activation{},
	}
}

// action is a stored action and what runs it.
type action struct {
	doc  actionDoc
	q    qname
	pool *pool // nil when the action cannot run: initErr says why
	// initErr is why the code cannot start (a zip without exec, an exec.env
	// for another runtime); every activation then fails as a developer
	// error, as the runtime's /init fails.
	initErr error
	// builtin, when set, is the action, run in the gateway itself (the
	// alarms feeds).
	builtin func(invocation) map[string]any
}

// webExported reports whether the action answers web requests.
func (a *action) webExported() bool { return a.doc.Annotations.truthy("web-export") }

// action returns the action named q.
func (s *store) action(q qname) (*action, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.actions[q.String()]
	return a, ok
}

// pkg returns the package /ns/name.
func (s *store) pkg(ns, name string) (*packageDoc, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.packages["/"+ns+"/"+name]
	return p, ok
}

// allPools returns the pool of every action.
func (s *store) allPools() []*pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*pool
	for _, k := range sortedKeys(s.actions) {
		if p := s.actions[k].pool; p != nil {
			out = append(out, p)
		}
	}
	return out
}

// saveActivation records a; the oldest records go past maxActivations.
func (s *store) saveActivation(a *activation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.activations[a.doc.ActivationID]; !ok {
		s.order = append(s.order, a.doc.ActivationID)
	}
	s.activations[a.doc.ActivationID] = a
	for len(s.order) > maxActivations {
		delete(s.activations, s.order[0])
		s.order = s.order[1:]
	}
}

// activation returns the record of id, if it is kept and belongs to ns.
func (s *store) activation(ns, id string) (*activation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.activations[id]
	if !ok || a.doc.Namespace != ns {
		return nil, false
	}
	return a, true
}

// listActivations returns the records of ns, newest first, optionally of
// one entity name only.
func (s *store) listActivations(ns, name string, skip, limit int) []*activation {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*activation
	for i := len(s.order) - 1; i >= 0; i-- {
		a := s.activations[s.order[i]]
		if a.doc.Namespace != ns || (name != "" && a.doc.Name != name && a.path() != name) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, a)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out
}

// inNamespace returns the values of m whose key is under "/ns/", sorted by key.
func inNamespace[V any](m map[string]V, ns string) []V {
	var out []V
	keys := make([]string, 0, len(m))
	for k := range m {
		if strings.HasPrefix(k, "/"+ns+"/") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
