package imagestore

import (
	"context"
	"net"
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

func TestList(t *testing.T) {
	host := testregistry.Start(t).Host
	shared := testregistry.Image(t, "")
	d1 := testregistry.Push(t, host+"/alice:t1", shared)
	testregistry.Push(t, host+"/alice:t2", shared)
	db := testregistry.Push(t, host+"/bob:t1", testregistry.Image(t, ""))
	testregistry.Push(t, host+"/alice-old:t9", testregistry.Image(t, ""))
	testregistry.Push(t, host+"/team/alice:t8", testregistry.Image(t, ""))
	svc := Store{Client: New(), Hosts: Hosts{Push: host, Pull: "pull.example.com"}}

	tests := []struct {
		user string
		want []Image
	}{
		{user: "alice", want: []Image{
			{Tag: "t1", Digest: d1, Image: "pull.example.com/alice:t1"},
			{Tag: "t2", Digest: d1, Image: "pull.example.com/alice:t2"},
		}},
		{user: "bob", want: []Image{{Tag: "t1", Digest: db, Image: "pull.example.com/bob:t1"}}},
		{user: "carol", want: []Image{}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got, err := svc.List(context.Background(), tt.user)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestListAndDeleteRefuseWhatIsNotAUser(t *testing.T) {
	svc := Store{Client: New(), Hosts: Hosts{Push: "127.0.0.1:9", Pull: "127.0.0.1:9"}}
	for _, user := range []string{"", "Alice", "team/alice", "../bob", "alice:t1", "127.0.0.1:5000/alice"} {
		t.Run(user, func(t *testing.T) {
			_, err := svc.List(context.Background(), user)
			assert.Equal(t, fault.Invalid, fault.KindOf(err))
			_, err = svc.Delete(context.Background(), user, "t1")
			assert.Equal(t, fault.Invalid, fault.KindOf(err))
		})
	}
}

func TestDeleteRefusesInvalidTags(t *testing.T) {
	// Every request reaching the registry fails the test: a bad tag is
	// refused before.
	host := testregistry.Start(t, func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Errorf("unexpected registry request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusTeapot)
		})
	}).Host
	svc := Store{Client: New(), Hosts: Hosts{Push: host, Pull: host}}
	for _, tag := range []string{"", "../bob:t1", "bob:t1", "t1/x", "-t1", ".t1", "t 1", "sha256:" + strings.Repeat("a", 64), strings.Repeat("a", 129), "t1@sha256"} {
		t.Run(tag, func(t *testing.T) {
			_, err := svc.Delete(context.Background(), "alice", tag)
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v", err)
			assert.Equal(t, fault.Invalid, fe.Kind)
			assert.Equal(t, "InvalidTag", fe.Reason)
		})
	}
}

func TestValidTag(t *testing.T) {
	for _, tag := range []string{"t1", "_x", "python-3.13", "A.b_c-d", strings.Repeat("a", 128)} {
		assert.True(t, ValidTag(tag), tag)
	}
}

func TestDeleteFailures(t *testing.T) {
	host := testregistry.Start(t).Host
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())

	tests := []struct {
		name       string
		push       string
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "unknown tag", push: host, wantKind: fault.NotFound, wantReason: "ImageNotFound"},
		{name: "registry down", push: closed, wantKind: fault.Unavailable, wantReason: "RegistryUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Store{Client: New(), Hosts: Hosts{Push: tt.push, Pull: tt.push}}.Delete(context.Background(), "alice", "t1")
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v", err)
			assert.Equal(t, tt.wantKind, fe.Kind)
			assert.Equal(t, tt.wantReason, fe.Reason)
		})
	}
}

func TestDeleteOnTheReferenceRegistry(t *testing.T) {
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
	h := reg.Host
	shared := testregistry.Image(t, "")
	d1 := testregistry.Push(t, h+"/alice:t1", shared, remote.WithAuth(reg.Auth()))
	testregistry.Push(t, h+"/alice:t2", shared, remote.WithAuth(reg.Auth()))
	d3 := testregistry.Push(t, h+"/alice:t3", testregistry.Image(t, ""), remote.WithAuth(reg.Auth()))
	testregistry.Push(t, h+"/bob:t1", shared, remote.WithAuth(reg.Auth()))
	svc := Store{Client: New(WithKeychain(creds)), Hosts: Hosts{Push: h, Pull: "pull.example.com"}}

	got, err := svc.Delete(ctx, "alice", "t2")
	require.NoError(t, err)
	assert.Equal(t, Deleted{Image: "pull.example.com/alice:t2", Digest: d1, TagsRemoved: []string{"t1", "t2"}}, got)

	alice, err := svc.List(ctx, "alice")
	require.NoError(t, err)
	assert.Equal(t, []Image{{Tag: "t3", Digest: d3, Image: "pull.example.com/alice:t3"}}, alice)
	bob, err := svc.List(ctx, "bob")
	require.NoError(t, err)
	assert.Equal(t, []Image{{Tag: "t1", Digest: d1, Image: "pull.example.com/bob:t1"}}, bob, "another user's copy stays")

	_, err = svc.Delete(ctx, "alice", "t1")
	assert.Equal(t, fault.NotFound, fault.KindOf(err), "t1 went with t2")
}
