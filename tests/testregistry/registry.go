// Package testregistry is the in-process registry of the unit tests:
// go-containerregistry's registry on 127.0.0.1, optionally behind basic
// authentication, recording the requests it answers, and the images the
// tests push to it.
package testregistry

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is one in-process registry, stopped when its test ends.
type Registry struct {
	// Host is its "127.0.0.1:port".
	Host string

	mu    sync.Mutex
	seen  []string
	auths []string
}

// Start starts a registry. Each wrap, outermost last, sits in front of it
// (a fault, a delay, BasicAuth); the recording sits in front of them all.
func Start(t testing.TB, wrap ...func(http.Handler) http.Handler) *Registry {
	t.Helper()
	r := &Registry{}
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	for _, w := range wrap {
		h = w(h)
	}
	srv := httptest.NewServer(r.record(h))
	t.Cleanup(srv.Close)
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func (r *Registry) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, _, _ := req.BasicAuth()
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.Path+" "+user)
		r.auths = append(r.auths, req.Header.Get("Authorization"))
		r.mu.Unlock()
		next.ServeHTTP(w, req)
	})
}

// Requests returns the requests received since the last call, each as
// "METHOD path user" (user: the basic-auth user, "" for none).
func (r *Registry) Requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}

// Authorizations returns the Authorization header of every request
// received ("" for none), in order.
func (r *Registry) Authorizations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auths...)
}

// BasicAuth answers 401 with a Basic challenge to a request without
// credentials, or with a password users does not hold for its user; nil
// users takes any credentials, as long as there are some.
func BasicAuth(users map[string]string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, pass, ok := r.BasicAuth()
			if !ok || (users != nil && users[user] != pass) {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Denying answers 401 with a Basic challenge to every request, whatever
// its credentials: a registry that refuses the deployer.
func Denying(http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
}

// Broken answers the ping (/v2/) as the registry does and every other
// request with 501: an error go-containerregistry does not retry, so a
// test of a failing registry stays fast.
func Broken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			next.ServeHTTP(w, r)
			return
		}
		w.WriteHeader(http.StatusNotImplemented)
	})
}
