package gateway

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"sync"

	"github.com/google/uuid"
)

// Subjects is the local subject store: uuid:key tokens and the namespace of
// each, as OpenWhisk's subjects database holds them. It serves the OpenWhisk
// API GET /api/v1/namespaces (ServeHTTP), which the actions call to learn whose
// key a caller sent. It is safe for concurrent use.
type Subjects struct {
	mu  sync.RWMutex
	all []subject
}

// subject is one key of one namespace.
type subject struct {
	Namespace string `json:"namespace"`
	UUID      string `json:"uuid"`
	Key       string `json:"key"`
}

func (s subject) token() string { return s.UUID + ":" + s.Key }

// NewSubjects returns an empty store.
func NewSubjects() *Subjects { return &Subjects{} }

// Add creates a key for namespace and returns its token, "uuid:key": a random
// version 4 UUID and a 64-character alphanumeric key, the form of OpenWhisk's
// own keys.
func (s *Subjects) Add(namespace string) (token string) {
	sub := subject{Namespace: namespace, UUID: uuid.NewString(), Key: randomKey(64)}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, sub)
	return sub.token()
}

// Token returns the token of the first key of namespace, if it has one.
func (s *Subjects) Token(namespace string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, sub := range s.all {
		if sub.Namespace == namespace {
			return sub.token(), true
		}
	}
	return "", false
}

// namespace returns the namespace whose key is uuid:key.
func (s *Subjects) namespace(id, key string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, sub := range s.all {
		if sub.UUID == id && subtle.ConstantTimeCompare([]byte(sub.Key), []byte(key)) == 1 {
			return sub.Namespace, true
		}
	}
	return "", false
}

// ServeHTTP answers GET /api/v1/namespaces as the OpenWhisk controller does:
// with Basic authentication by a known key, a JSON array holding the key's
// namespace; otherwise 401.
func (s *Subjects) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, http.StatusMethodNotAllowed, "HTTP method not allowed, supported methods: GET")
		return
	}
	id, key, ok := r.BasicAuth()
	if !ok {
		writeError(w, http.StatusUnauthorized, msgAuthMissing)
		return
	}
	ns, ok := s.namespace(id, key)
	if !ok {
		writeError(w, http.StatusUnauthorized, msgAuthInvalid)
		return
	}
	writeJSON(w, http.StatusOK, []string{ns})
}

// alphanumeric is the alphabet of OpenWhisk keys.
const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomKey returns n random alphanumeric characters.
func randomKey(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails; it aborts the program instead
		for _, b := range buf {
			// 248 is the largest multiple of 62 under 256: no letter is likelier.
			if b < 248 && len(out) < n {
				out = append(out, alphanumeric[b%62])
			}
		}
	}
	return string(out)
}
