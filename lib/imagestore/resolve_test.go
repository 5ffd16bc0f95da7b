package imagestore

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

func parseRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	require.NoError(t, err)
	return r
}

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestClientResolve(t *testing.T) {
	host := testregistry.Start(t).Host
	imgDigest := testregistry.Push(t, host+"/apache/runtime:v1", testregistry.Image(t, "1001"))
	testregistry.Push(t, host+"/apache/rootless:v1", testregistry.Image(t, ""))
	run := RunConfig{Env: []string{"PATH=/opt/bin:/bin", "LANG=C.UTF-8"}, WorkingDir: "/app", Shell: []string{"/bin/bash", "-c"}}
	withRun, err := mutate.Config(testregistry.Image(t, "1002"), v1.Config{User: "1002", Env: run.Env, WorkingDir: run.WorkingDir, Shell: run.Shell})
	require.NoError(t, err)
	withRunDigest := testregistry.Push(t, host+"/apache/shell:v1", withRun)

	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: testregistry.PlatformImage(t, "arm-user", "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: testregistry.Image(t, "amd-user"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	require.NoError(t, remote.WriteIndex(parseRef(t, host+"/apache/multi:v1"), idx))
	idxDigest, err := idx.Digest()
	require.NoError(t, err)
	// A child without a platform is taken for linux/amd64.
	bare := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: testregistry.Image(t, "bare-user")})
	require.NoError(t, remote.WriteIndex(parseRef(t, host+"/apache/bare:v1"), bare))
	bareDigest, err := bare.Digest()
	require.NoError(t, err)
	bareManifest, err := bare.IndexManifest()
	require.NoError(t, err)
	require.Nil(t, bareManifest.Manifests[0].Platform)

	tests := []struct {
		name string
		ref  string
		want Source
	}{
		{
			name: "tag",
			ref:  host + "/apache/runtime:v1",
			want: Source{Repository: host + "/apache/runtime", Name: host + "/apache/runtime:v1", Digest: imgDigest, User: "1001"},
		},
		{
			name: "digest",
			ref:  host + "/apache/runtime@" + imgDigest,
			want: Source{Repository: host + "/apache/runtime", Name: host + "/apache/runtime@" + imgDigest, Digest: imgDigest, User: "1001"},
		},
		{
			name: "no user in the config",
			ref:  host + "/apache/rootless:v1",
			want: Source{Repository: host + "/apache/rootless", Name: host + "/apache/rootless:v1", Digest: "", User: ""},
		},
		{
			name: "run settings",
			ref:  host + "/apache/shell:v1",
			want: Source{Repository: host + "/apache/shell", Name: host + "/apache/shell:v1", Digest: withRunDigest, User: "1002", Run: run},
		},
		{
			name: "run settings, remembered by digest",
			ref:  host + "/apache/shell@" + withRunDigest,
			want: Source{Repository: host + "/apache/shell", Name: host + "/apache/shell@" + withRunDigest, Digest: withRunDigest, User: "1002", Run: run},
		},
		{
			name: "index picks linux/amd64",
			ref:  host + "/apache/multi:v1",
			want: Source{Repository: host + "/apache/multi", Name: host + "/apache/multi:v1", Digest: idxDigest.String(), User: "amd-user"},
		},
		{
			name: "index child without a platform",
			ref:  host + "/apache/bare:v1",
			want: Source{Repository: host + "/apache/bare", Name: host + "/apache/bare:v1", Digest: bareDigest.String(), User: "bare-user"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Resolve(context.Background(), tt.ref)
			require.NoError(t, err)
			if tt.want.Digest == "" {
				assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, got.Digest)
				tt.want.Digest = got.Digest
			}
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.want.Repository+"@"+tt.want.Digest, got.Pinned())
		})
	}
}

func TestClientResolveFailures(t *testing.T) {
	host := testregistry.Start(t).Host
	testregistry.Push(t, host+"/apache/runtime:v1", testregistry.Image(t, "1001"))
	armOnly := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: testregistry.PlatformImage(t, "arm-user", "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	require.NoError(t, remote.WriteIndex(parseRef(t, host+"/apache/armonly:v1"), armOnly))
	windows := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: testregistry.Image(t, "w"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "windows", Architecture: "amd64"}}},
	)
	require.NoError(t, remote.WriteIndex(parseRef(t, host+"/apache/windows:v1"), windows))

	denied := testregistry.Start(t, testregistry.Denying).Host
	broken := testregistry.Start(t, testregistry.Broken).Host

	tests := []struct {
		name       string
		ref        string
		wantKind   fault.Kind
		wantReason string
	}{
		{name: "unknown tag", ref: host + "/apache/runtime:nope", wantKind: fault.Invalid, wantReason: "SourceNotFound"},
		{name: "unknown repository", ref: host + "/apache/nothing:v1", wantKind: fault.Invalid, wantReason: "SourceNotFound"},
		{name: "unknown digest", ref: host + "/apache/runtime@sha256:" + strings.Repeat("0", 64), wantKind: fault.Invalid, wantReason: "SourceNotFound"},
		{name: "no linux/amd64 image", ref: host + "/apache/armonly:v1", wantKind: fault.Invalid, wantReason: "SourcePlatformMissing"},
		{name: "linux/amd64 only as a variant of another OS", ref: host + "/apache/windows:v1", wantKind: fault.Invalid, wantReason: "SourcePlatformMissing"},
		{name: "access denied", ref: denied + "/apache/runtime:v1", wantKind: fault.Invalid, wantReason: "SourceNotFound"},
		{name: "registry error", ref: broken + "/apache/runtime:v1", wantKind: fault.Unavailable, wantReason: "RegistryUnavailable"},
		{name: "closed port", ref: closedAddr(t) + "/apache/runtime:v1", wantKind: fault.Unavailable, wantReason: "RegistryUnavailable"},
		{name: "not a reference", ref: host + "/Apache/Runtime:v1", wantKind: fault.Invalid, wantReason: "InvalidSource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := New().Resolve(context.Background(), tt.ref)
			require.Error(t, err)
			assert.Equal(t, Source{}, got)
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v is not a fault", err)
			assert.Equal(t, tt.wantKind, fe.Kind, "kind of %v", err)
			assert.Equal(t, tt.wantReason, fe.Reason)
		})
	}
}

func TestClientResolveSendsCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	host := testregistry.Start(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.Header.Get("Authorization"))
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}).Host
	testregistry.Push(t, host+"/apache/runtime:v1", testregistry.Image(t, "1001"))
	mu.Lock()
	seen = nil
	mu.Unlock()

	creds, err := ParseDockerConfig([]byte(`{"auths":{"` + host + `":{"username":"builder","password":"pw"}}}`))
	require.NoError(t, err)
	_, err = New(WithKeychain(creds)).Resolve(context.Background(), host+"/apache/runtime:v1")
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, seen, "Basic "+basic("builder", "pw"))
}

func TestClientDigest(t *testing.T) {
	host := testregistry.Start(t).Host
	want := testregistry.Push(t, host+"/alice:py1", testregistry.Image(t, "1001"))
	unavailable := testregistry.Start(t, testregistry.Broken).Host
	tests := []struct {
		name      string
		ref       string
		wantFound bool
		wantKind  fault.Kind
		wantErr   bool
	}{
		{name: "found", ref: host + "/alice:py1", wantFound: true},
		{name: "unknown tag", ref: host + "/alice:nope"},
		{name: "unknown repository", ref: host + "/bob:py1"},
		{name: "registry error", ref: unavailable + "/alice:py1", wantErr: true, wantKind: fault.Unavailable},
		{name: "closed port", ref: closedAddr(t) + "/alice:py1", wantErr: true, wantKind: fault.Unavailable},
		{name: "not a reference", ref: "a b", wantErr: true, wantKind: fault.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			digest, found, err := New().Digest(context.Background(), tt.ref)
			if tt.wantErr {
				require.Error(t, err)
				assert.Equal(t, tt.wantKind, fault.KindOf(err))
				assert.False(t, found)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantFound, found)
			if tt.wantFound {
				assert.Equal(t, want, digest)
			} else {
				assert.Empty(t, digest)
			}
		})
	}
}

func TestClientInsecureHosts(t *testing.T) {
	c := New(WithInsecure("internal:5000", "", "pull.internal"))
	tests := []struct {
		ref        string
		wantScheme string
	}{
		{ref: "internal:5000/alice:v1", wantScheme: "http"},
		{ref: "pull.internal/alice:v1", wantScheme: "http"},
		{ref: "internal:5001/alice:v1", wantScheme: "https"},
		{ref: "registry.example.com/alice:v1", wantScheme: "https"},
		{ref: "127.0.0.1:5000/alice:v1", wantScheme: "http"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			r, err := c.ParseReference(tt.ref)
			require.NoError(t, err)
			assert.Equal(t, tt.wantScheme, r.Context().Scheme())
			repo, err := c.Repository(r.Context().Name())
			require.NoError(t, err)
			assert.Equal(t, tt.wantScheme, repo.Scheme())
		})
	}
	assert.True(t, c.Insecure("internal:5000"))
	assert.False(t, c.Insecure(""))
	assert.False(t, New().Insecure("internal:5000"))
	_, err := c.ParseReference("Not A Ref")
	assert.Error(t, err)
	_, err = c.Repository("Not/A Repo")
	assert.Error(t, err)
}

func TestClassify(t *testing.T) {
	host := testregistry.Start(t).Host
	_, err := remote.Head(parseRef(t, host+"/x:y"))
	require.Error(t, err)
	assert.True(t, IsNotFound(err))
	tests := []struct {
		err  error
		want problem
	}{
		{err, notFound},
		{io.EOF, unavailable},
		{&transport.Error{StatusCode: http.StatusUnauthorized}, denied},
		{&transport.Error{StatusCode: http.StatusForbidden}, denied},
		{&transport.Error{StatusCode: http.StatusBadRequest, Errors: []transport.Diagnostic{{Code: transport.NameUnknownErrorCode}}}, notFound},
		{&transport.Error{StatusCode: http.StatusMethodNotAllowed}, unsupported},
		{&transport.Error{StatusCode: http.StatusBadRequest, Errors: []transport.Diagnostic{{Code: transport.UnsupportedErrorCode}}}, unsupported},
		{&transport.Error{StatusCode: http.StatusBadGateway}, unavailable},
		{fmt.Errorf("reading: %w", ErrAnswerTooLarge), tooLarge},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, classify(tt.err), "%v", tt.err)
	}
}
