package imagestore

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/tests/testregistry"
)

// A warm process authenticates once per registry and credential: later
// clients with the same credential, as later activations make, read a
// tag's digest with one request and a pinned source with none.
func TestWarmProcessReusesItsAuthentication(t *testing.T) {
	reg := testregistry.Start(t, testregistry.BasicAuth(map[string]string{"builder": "pw", "other": "pw2"}))
	builder := authn.FromConfig(authn.AuthConfig{Username: "builder", Password: "pw"})
	digest := testregistry.Push(t, reg.Host+"/apache/runtime:v1", testregistry.Image(t, "1001"), remote.WithAuth(builder))
	_ = reg.Requests()
	client := func(user, pass string) *Client {
		return New(WithKeychain(Keychain{}.Grant(Basic(user, pass), reg.Host)))
	}
	ctx := context.Background()

	first, err := client("builder", "pw").Resolve(ctx, reg.Host+"/apache/runtime:v1")
	require.NoError(t, err)
	assert.Equal(t, "1001", first.User)
	assert.Equal(t, digest, first.Digest)
	assert.Contains(t, reg.Requests(), "GET /v2/ ", "the first call pings")

	again, err := client("builder", "pw").Resolve(ctx, reg.Host+"/apache/runtime:v1")
	require.NoError(t, err)
	assert.Equal(t, first, again)
	assert.Equal(t, []string{"GET /v2/apache/runtime/manifests/v1 builder"}, reg.Requests(), "a tag: one request, no ping")

	pinned, err := client("builder", "pw").Resolve(ctx, reg.Host+"/apache/runtime@"+digest)
	require.NoError(t, err)
	assert.Equal(t, "1001", pinned.User)
	assert.Equal(t, first.Pinned(), pinned.Pinned())
	assert.Empty(t, reg.Requests(), "a digest read before: no request")

	d, found, err := client("builder", "pw").Digest(ctx, reg.Host+"/apache/runtime:v1")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, digest, d)
	assert.Equal(t, []string{"HEAD /v2/apache/runtime/manifests/v1 builder"}, reg.Requests(), "one HEAD")

	// Another credential is never answered with the first one's session.
	_, _, err = client("other", "pw2").Digest(ctx, reg.Host+"/apache/runtime:v1")
	require.NoError(t, err)
	seen := reg.Requests()
	assert.Contains(t, seen, "GET /v2/ ", "a new credential pings again")
	assert.Contains(t, seen, "HEAD /v2/apache/runtime/manifests/v1 other")
	assert.NotContains(t, seen, "HEAD /v2/apache/runtime/manifests/v1 builder")

	// A wrong password is refused, and does not spoil the right one's session.
	_, _, err = client("builder", "wrong").Digest(ctx, reg.Host+"/apache/runtime:v1")
	require.Error(t, err)
	_ = reg.Requests()
	_, found, err = client("builder", "pw").Digest(ctx, reg.Host+"/apache/runtime:v1")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []string{"HEAD /v2/apache/runtime/manifests/v1 builder"}, reg.Requests())
}

// A client with a transport of its own (tests) does not share the
// process's sessions.
func TestOwnTransportDoesNotReuse(t *testing.T) {
	reg := testregistry.Start(t, testregistry.BasicAuth(map[string]string{"builder": "pw"}))
	builder := authn.FromConfig(authn.AuthConfig{Username: "builder", Password: "pw"})
	testregistry.Push(t, reg.Host+"/apache/runtime:v1", testregistry.Image(t, "1001"), remote.WithAuth(builder))
	c := New(WithKeychain(Keychain{}.Grant(Basic("builder", "pw"), reg.Host)), WithTransport(http.DefaultTransport))
	for range 2 {
		_ = reg.Requests()
		_, _, err := c.Digest(context.Background(), reg.Host+"/apache/runtime:v1")
		require.NoError(t, err)
		assert.Contains(t, reg.Requests(), "GET /v2/ ")
	}
}
