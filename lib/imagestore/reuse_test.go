package imagestore

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// basicAuthRegistry is an in-process registry that answers only the given
// users (user → password), as an htpasswd registry does, and records each
// request it is sent as "METHOD path user" ("" for none).
type basicAuthRegistry struct {
	host string
	mu   sync.Mutex
	seen []string
}

func newBasicAuthRegistry(t *testing.T, users map[string]string) *basicAuthRegistry {
	reg := &basicAuthRegistry{}
	reg.host = testRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, pass, ok := r.BasicAuth()
			reg.mu.Lock()
			reg.seen = append(reg.seen, r.Method+" "+r.URL.Path+" "+user)
			reg.mu.Unlock()
			if !ok || users[user] != pass {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	return reg
}

// requests returns the requests recorded since the last call.
func (r *basicAuthRegistry) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}

// A warm process authenticates once per registry and credential: later
// clients with the same credential, as later activations make, read a
// tag's digest with one request and a pinned source with none.
func TestWarmProcessReusesItsAuthentication(t *testing.T) {
	reg := newBasicAuthRegistry(t, map[string]string{"builder": "pw", "other": "pw2"})
	builder := authn.FromConfig(authn.AuthConfig{Username: "builder", Password: "pw"})
	digest := pushAuth(t, builder, reg.host+"/apache/runtime:v1", userImage(t, "1001", "amd64"))
	_ = reg.requests()
	client := func(user, pass string) *Client {
		return New(WithKeychain(Static(authn.FromConfig(authn.AuthConfig{Username: user, Password: pass}))))
	}
	ctx := context.Background()

	first, err := client("builder", "pw").Resolve(ctx, reg.host+"/apache/runtime:v1")
	require.NoError(t, err)
	assert.Equal(t, "1001", first.User)
	assert.Equal(t, digest, first.Digest)
	assert.Contains(t, reg.requests(), "GET /v2/ ", "the first call pings")

	again, err := client("builder", "pw").Resolve(ctx, reg.host+"/apache/runtime:v1")
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, []string{"GET /v2/apache/runtime/manifests/v1 builder"}, reg.requests(), "a tag: one request, no ping")

	pinned, err := client("builder", "pw").Resolve(ctx, reg.host+"/apache/runtime@"+digest)
	require.NoError(t, err)
	assert.Equal(t, "1001", pinned.User)
	assert.Equal(t, first.Pinned(), pinned.Pinned())
	assert.Empty(t, reg.requests(), "a digest read before: no request")

	d, found, err := client("builder", "pw").Digest(ctx, reg.host+"/apache/runtime:v1")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, digest, d)
	assert.Equal(t, []string{"HEAD /v2/apache/runtime/manifests/v1 builder"}, reg.requests(), "one HEAD")

	// Another credential is never answered with the first one's session.
	_, _, err = client("other", "pw2").Digest(ctx, reg.host+"/apache/runtime:v1")
	require.NoError(t, err)
	seen := reg.requests()
	assert.Contains(t, seen, "GET /v2/ ", "a new credential pings again")
	assert.Contains(t, seen, "HEAD /v2/apache/runtime/manifests/v1 other")
	assert.NotContains(t, seen, "HEAD /v2/apache/runtime/manifests/v1 builder")

	// A wrong password is refused, and does not spoil the right one's session.
	_, _, err = client("builder", "wrong").Digest(ctx, reg.host+"/apache/runtime:v1")
	require.Error(t, err)
	_ = reg.requests()
	_, found, err = client("builder", "pw").Digest(ctx, reg.host+"/apache/runtime:v1")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []string{"HEAD /v2/apache/runtime/manifests/v1 builder"}, reg.requests())
}

// A client with a transport of its own (tests) does not share the
// process's sessions.
func TestOwnTransportDoesNotReuse(t *testing.T) {
	reg := newBasicAuthRegistry(t, map[string]string{"builder": "pw"})
	builder := authn.FromConfig(authn.AuthConfig{Username: "builder", Password: "pw"})
	pushAuth(t, builder, reg.host+"/apache/runtime:v1", userImage(t, "1001", "amd64"))
	c := New(WithKeychain(Static(builder)), WithTransport(http.DefaultTransport))
	for range 2 {
		_ = reg.requests()
		_, _, err := c.Digest(context.Background(), reg.host+"/apache/runtime:v1")
		require.NoError(t, err)
		assert.Contains(t, reg.requests(), "GET /v2/ ")
	}
}
