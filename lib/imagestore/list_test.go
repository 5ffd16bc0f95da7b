package imagestore

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

func TestClientTags(t *testing.T) {
	// HEAD of alice:gone answers 404 although the tag is listed, as when a
	// tag is deleted between the list and its HEAD.
	host := testregistry.Start(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/alice/manifests/gone") {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			next.ServeHTTP(w, r)
		})
	}).Host
	shared := testregistry.Image(t, "1001")
	d1 := testregistry.Push(t, host+"/alice:t1", shared)
	testregistry.Push(t, host+"/alice:t2", shared)
	d3 := testregistry.Push(t, host+"/alice:a0", testregistry.Image(t, ""))
	testregistry.Push(t, host+"/alice:gone", testregistry.Image(t, ""))
	db := testregistry.Push(t, host+"/bob:t1", testregistry.Image(t, ""))
	idx := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: testregistry.Image(t, "")})
	require.NoError(t, remote.WriteIndex(parseRef(t, host+"/carol:multi"), idx))
	di, err := idx.Digest()
	require.NoError(t, err)
	// More tags than HEAD workers, each with its own image.
	var many []Tag
	for i := range 3 * headWorkers {
		tag := fmt.Sprintf("v%03d", i)
		many = append(many, Tag{Name: tag, Digest: testregistry.Push(t, host+"/dave:"+tag, testregistry.Image(t, tag))})
	}

	tests := []struct {
		name string
		repo string
		want []Tag
	}{
		{name: "sorted, shared digests, vanished tag left out", repo: host + "/alice", want: []Tag{{"a0", d3}, {"t1", d1}, {"t2", d1}}},
		{name: "only the repository asked for", repo: host + "/bob", want: []Tag{{"t1", db}}},
		{name: "index digest", repo: host + "/carol", want: []Tag{{"multi", di.String()}}},
		{name: "many tags", repo: host + "/dave", want: many},
		{name: "unknown repository", repo: host + "/erin", want: []Tag{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Tags(context.Background(), tt.repo)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestClientTagsFailures(t *testing.T) {
	denied := testregistry.Start(t, testregistry.Denying).Host
	broken := testregistry.Start(t, testregistry.Broken).Host
	// The list answers; one HEAD fails once the images are pushed.
	var failing atomic.Bool
	headFails := testregistry.Start(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failing.Load() && r.Method == http.MethodHead && strings.HasSuffix(r.URL.Path, "/manifests/t2") {
				w.WriteHeader(http.StatusNotImplemented)
				return
			}
			next.ServeHTTP(w, r)
		})
	}).Host
	testregistry.Push(t, headFails+"/alice:t1", testregistry.Image(t, ""))
	testregistry.Push(t, headFails+"/alice:t2", testregistry.Image(t, ""))
	failing.Store(true)

	tests := []struct {
		name       string
		repo       string
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "credentials refused", repo: denied + "/alice", wantKind: fault.Internal, wantReason: "RegistryDenied"},
		{name: "registry error", repo: broken + "/alice", wantKind: fault.Unavailable, wantReason: "RegistryUnavailable"},
		{name: "closed port", repo: closedAddr(t) + "/alice", wantKind: fault.Unavailable, wantReason: "RegistryUnavailable"},
		{name: "one tag unreadable", repo: headFails + "/alice", wantKind: fault.Unavailable, wantReason: "RegistryUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Tags(context.Background(), tt.repo)
			require.Error(t, err)
			assert.Nil(t, got)
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v is not a fault", err)
			assert.Equal(t, tt.wantKind, fe.Kind)
			assert.Equal(t, tt.wantReason, fe.Reason)
		})
	}
	_, err := New().Tags(context.Background(), "Not A/Repo")
	assert.Error(t, err)
}

func TestClientCatalog(t *testing.T) {
	host := testregistry.Start(t).Host
	for _, ref := range []string{"/zed:t1", "/alice:t1", "/alice:t2", "/runtime-python:local"} {
		testregistry.Push(t, host+ref, testregistry.Image(t, ""))
	}
	got, err := New(WithInsecure(host)).Catalog(context.Background(), host)
	require.NoError(t, err)
	assert.Equal(t, []string{"alice", "runtime-python", "zed"}, got)

	_, err = New().Catalog(context.Background(), closedAddr(t))
	assert.Equal(t, fault.Unavailable, fault.KindOf(err))
	_, err = New().Catalog(context.Background(), "bad host")
	assert.Error(t, err)
}
