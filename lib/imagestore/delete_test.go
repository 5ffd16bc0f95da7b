package imagestore

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

// debianRegistry starts the reference registry (distribution, with auth and
// deletion enabled), whose delete semantics the in-process one lacks, and
// returns it with a client holding its credentials.
func debianRegistry(t *testing.T) (*stack.Registry, *Client) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the Debian registry (dev/stack)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reg, err := stack.StartRegistry(ctx, stack.RegistryOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, reg.Stop()) })
	creds, err := ParseDockerConfig(reg.DockerConfigJSON())
	require.NoError(t, err)
	return reg, New(WithKeychain(creds))
}

func TestDeleteTagOnTheReferenceRegistry(t *testing.T) {
	reg, client := debianRegistry(t)
	ctx := context.Background()
	h := reg.Host
	shared := testregistry.Image(t, "1001")
	d1 := testregistry.Push(t, h+"/alice:t1", shared, remote.WithAuth(reg.Auth()))
	testregistry.Push(t, h+"/alice:t2", shared, remote.WithAuth(reg.Auth()))
	d3 := testregistry.Push(t, h+"/alice:t3", testregistry.Image(t, ""), remote.WithAuth(reg.Auth()))
	// The same manifest in another repository is another manifest to delete.
	testregistry.Push(t, h+"/bob:t1", shared, remote.WithAuth(reg.Auth()))

	// The premise: the reference registry refuses to delete by tag.
	err := remote.Delete(parseRef(t, h+"/alice:t1"), remote.WithAuth(reg.Auth()))
	require.Error(t, err, "a delete by tag must be refused")

	got, found, err := client.DeleteTag(ctx, h+"/alice", "t1")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, Deletion{Digest: d1, Tags: []string{"t1", "t2"}}, got)

	tests := []struct {
		ref      string
		wantGone bool
	}{
		{ref: h + "/alice:t1", wantGone: true},
		{ref: h + "/alice:t2", wantGone: true},
		{ref: h + "/alice@" + d1, wantGone: true},
		{ref: h + "/alice:t3"},
		{ref: h + "/bob:t1"},
		{ref: h + "/bob@" + d1},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.ref, h+"/"), func(t *testing.T) {
			_, err := remote.Head(parseRef(t, tt.ref), remote.WithAuth(reg.Auth()))
			if tt.wantGone {
				assert.True(t, IsNotFound(err), "HEAD %s: %v", tt.ref, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
	tags, err := client.Tags(ctx, h+"/alice")
	require.NoError(t, err)
	assert.Equal(t, []Tag{{Name: "t3", Digest: d3}}, tags)

	again, found, err := client.DeleteTag(ctx, h+"/alice", "t1")
	require.NoError(t, err)
	assert.False(t, found)
	assert.Equal(t, Deletion{}, again)
	_, found, err = client.DeleteTag(ctx, h+"/nobody", "t1")
	require.NoError(t, err)
	assert.False(t, found, "a repository that does not exist holds no tag")
}

func TestDeleteTagFailures(t *testing.T) {
	// The in-process registry answers the HEAD and the list; the delete is
	// answered as the reference registry does when deletion is disabled, or fails.
	wrap := func(status int, body string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodDelete {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(status)
					_, _ = w.Write([]byte(body))
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	disabled := testregistry.Start(t, wrap(http.StatusMethodNotAllowed, `{"errors":[{"code":"UNSUPPORTED","message":"The operation is unsupported."}]}`)).Host
	broken := testregistry.Start(t, wrap(http.StatusNotImplemented, ``)).Host
	gone := testregistry.Start(t, wrap(http.StatusNotFound, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`)).Host
	for _, h := range []string{disabled, broken, gone} {
		testregistry.Push(t, h+"/alice:t1", testregistry.Image(t, ""))
	}

	tests := []struct {
		name       string
		host       string
		wantReason string
		wantKind   fault.Kind
	}{
		{name: "deletion disabled", host: disabled, wantKind: fault.Internal, wantReason: "RegistryDeleteDisabled"},
		{name: "registry error", host: broken, wantKind: fault.Unavailable, wantReason: "RegistryUnavailable"},
		{name: "closed port", host: closedAddr(t), wantKind: fault.Unavailable, wantReason: "RegistryUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, found, err := New().DeleteTag(context.Background(), tt.host+"/alice", "t1")
			require.Error(t, err)
			assert.False(t, found)
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v is not a fault", err)
			assert.Equal(t, tt.wantKind, fe.Kind)
			assert.Equal(t, tt.wantReason, fe.Reason)
		})
	}
	t.Run("deleted meanwhile", func(t *testing.T) {
		d, found, err := New().DeleteTag(context.Background(), gone+"/alice", "t1")
		require.NoError(t, err)
		assert.True(t, found)
		assert.Equal(t, []string{"t1"}, d.Tags)
	})
	_, _, err := New().DeleteTag(context.Background(), "Not A/Repo", "t1")
	assert.Error(t, err)
}
