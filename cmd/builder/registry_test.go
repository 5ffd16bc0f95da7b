package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

// registryEnv clears every setting registryAccess reads.
func registryEnv(t *testing.T) {
	for _, k := range []string{"REGISTRY_HOST", "REGISTRY_PULL_HOST", "REGISTRY_USER", "REGISTRY_PASS", "REGISTRY_INSECURE", "DEPLOYER_LOCAL", "KUBECONFIG"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
}

func TestRegistryAccess(t *testing.T) {
	reg := testregistry.Start(t, testregistry.BasicAuth(nil))
	host, seen := reg.Host, reg.Authorizations
	testregistry.Push(t, host+"/alice:t1", testregistry.Image(t, ""), remote.WithAuth(&authn.Basic{Username: "pusher", Password: "x"}))
	stackDir := t.TempDir()
	info, err := json.Marshal(map[string]any{"registry": host, "registry_user": "stackuser", "registry_password": "stackpw"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(stackDir, "stack.json"), info, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(stackDir, "ready"), nil, 0o600))

	tests := []struct {
		name     string
		env      map[string]string
		wantPull string
		wantAuth string // the Authorization header sent, "" for none
	}{
		{
			name:     "REGISTRY_HOST with credentials",
			env:      map[string]string{"REGISTRY_HOST": host, "REGISTRY_USER": "u", "REGISTRY_PASS": "p", "DEPLOYER_LOCAL": stackDir},
			wantPull: host, wantAuth: "Basic dTpw",
		},
		{
			name:     "REGISTRY_HOST, anonymous, own pull host",
			env:      map[string]string{"REGISTRY_HOST": host, "REGISTRY_PULL_HOST": "pull.example.com"},
			wantPull: "pull.example.com",
		},
		{
			name:     "the local stack",
			env:      map[string]string{"DEPLOYER_LOCAL": stackDir},
			wantPull: host, wantAuth: "Basic c3RhY2t1c2VyOnN0YWNrcHc=",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			registryEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			before := len(seen())
			store, err := registryAccess(context.Background())
			require.NoError(t, err)
			assert.Equal(t, imagestore.Hosts{Push: host, Pull: tt.wantPull}, store.Hosts)
			tags, err := store.Client.Tags(context.Background(), host+"/alice")
			if tt.wantAuth == "" {
				assert.Equal(t, fault.Internal, fault.KindOf(err), "anonymous is refused: %v", err)
				for _, a := range seen()[before:] {
					assert.Empty(t, a, "no credentials sent")
				}
				return
			}
			require.NoError(t, err)
			require.Len(t, tags, 1)
			assert.Contains(t, seen()[before:], tt.wantAuth)
		})
	}

	t.Run("bad REGISTRY_INSECURE", func(t *testing.T) {
		registryEnv(t)
		t.Setenv("REGISTRY_HOST", host)
		t.Setenv("REGISTRY_INSECURE", "maybe")
		_, err := registryAccess(context.Background())
		assert.ErrorContains(t, err, "REGISTRY_INSECURE")
	})
}

func TestNewStore(t *testing.T) {
	c := newStore(imagestore.Hosts{Push: "push:5000", Pull: "pull.example.com"}, "u", "p", true).Client
	assert.True(t, c.Insecure("push:5000"))
	assert.True(t, c.Insecure("pull.example.com"))
	assert.False(t, newStore(imagestore.Hosts{Push: "push:5000", Pull: "push:5000"}, "", "", false).Client.Insecure("push:5000"))
}

func TestRegistryCommands(t *testing.T) {
	host := testregistry.Start(t).Host
	d1 := testregistry.Push(t, host+"/alice:t1", testregistry.Image(t, ""))
	d2 := testregistry.Push(t, host+"/alice:t2", testregistry.Image(t, ""))
	testregistry.Push(t, host+"/bob:t1", testregistry.Image(t, ""))
	registryEnv(t)
	t.Setenv("REGISTRY_HOST", host)
	t.Setenv("REGISTRY_PULL_HOST", "pull.example.com")
	ctx := context.Background()

	var out bytes.Buffer
	require.NoError(t, listCatalogs(ctx, nil, &out))
	assert.Equal(t, "alice\nbob\n", out.String())

	out.Reset()
	require.NoError(t, listImages(ctx, []string{"-catalog", "alice", "-json"}, &out))
	var listed struct {
		Repository string             `json:"repository"`
		Images     []imagestore.Image `json:"images"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &listed))
	assert.Equal(t, host+"/alice", listed.Repository)
	assert.Equal(t, []imagestore.Image{
		{Tag: "t1", Digest: d1, Image: "pull.example.com/alice:t1"},
		{Tag: "t2", Digest: d2, Image: "pull.example.com/alice:t2"},
	}, listed.Images)

	out.Reset()
	require.NoError(t, listImages(ctx, []string{"-catalog", host + "/alice"}, &out))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, []string{"TAG", "DIGEST", "IMAGE"}, strings.Fields(lines[0]))
	assert.Equal(t, []string{"t1", d1, "pull.example.com/alice:t1"}, strings.Fields(lines[1]))

	out.Reset()
	require.NoError(t, getImage(ctx, []string{"-image", "alice:t2"}, &out))
	var m imagestore.Manifest
	require.NoError(t, json.Unmarshal(out.Bytes(), &m))
	assert.Equal(t, d2, m.Digest)
	assert.Len(t, m.Layers, 1)

	out.Reset()
	require.NoError(t, deleteImage(ctx, []string{"-image", "alice:t1"}, &out))
	assert.Contains(t, out.String(), "deleted "+host+"/alice@"+d1)
	assert.Contains(t, out.String(), "garbage collection")

	for _, tt := range []struct {
		name string
		run  func() error
		want string
	}{
		{"list-images without a repository", func() error { return listImages(ctx, nil, io.Discard) }, "CATALOG"},
		{"get-image without an image", func() error { return getImage(ctx, nil, io.Discard) }, "IMAGE"},
		{"delete-image without a tag", func() error { return deleteImage(ctx, []string{"-image", "alice"}, io.Discard) }, "not <repository>:<tag>"},
		{"delete-image of a digest", func() error {
			return deleteImage(ctx, []string{"-image", "alice@sha256:" + strings.Repeat("0", 64)}, io.Discard)
		}, "not <repository>:<tag>"},
		{"delete-image of an unknown tag", func() error { return deleteImage(ctx, []string{"-image", "alice:nope"}, io.Discard) }, "not found"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorContains(t, tt.run(), tt.want)
		})
	}
}

func TestNewRegistryConfigMap(t *testing.T) {
	tests := []struct {
		name     string
		hosts    imagestore.Hosts
		insecure bool
		mirrors  []string
		want     string
	}{
		{
			name: "internal registry over plain HTTP", hosts: imagestore.Hosts{Push: "nuvolaris-registry-svc:5000", Pull: "nuvolaris-registry-svc:5000"}, insecure: true,
			want: "push_host = \"nuvolaris-registry-svc:5000\"\npull_host = \"nuvolaris-registry-svc:5000\"\n\n[registry.\"nuvolaris-registry-svc:5000\"]\nhttp = true\ninsecure = true\n",
		},
		{
			name: "two hosts over TLS, mirrors", hosts: imagestore.Hosts{Push: "push:5000", Pull: "registry.example.com"}, mirrors: []string{"mirror.example.com", "m2:5000/hub"},
			want: "push_host = \"push:5000\"\npull_host = \"registry.example.com\"\n\n[registry.\"push:5000\"]\nhttp = false\ninsecure = false\n\n[registry.\"registry.example.com\"]\nhttp = false\ninsecure = false\n\n[registry.\"docker.io\"]\nmirrors = [\"mirror.example.com\", \"m2:5000/hub\"]\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm := newRegistryConfigMap("nuvolaris", tt.hosts, tt.insecure, tt.mirrors)
			assert.Equal(t, "builder-registry-config", cm.Name)
			assert.Equal(t, "nuvolaris", cm.Namespace)
			require.Len(t, cm.Data, 1)
			body := cm.Data["registry.toml"]
			assert.True(t, strings.HasPrefix(body, "#"), "starts with its explanation")
			var settings []string
			for _, l := range strings.SplitAfter(body, "\n") {
				if !strings.HasPrefix(l, "#") {
					settings = append(settings, l)
				}
			}
			assert.Equal(t, tt.want, strings.Join(settings, ""))
		})
	}
}

func TestApplyConfigMap(t *testing.T) {
	client := fake.NewClientset()
	ctx := context.Background()
	first := newRegistryConfigMap("nuvolaris", imagestore.Hosts{Push: "a:5000", Pull: "a:5000"}, true, nil)
	require.NoError(t, applyConfigMap(ctx, client, first))
	got, err := client.CoreV1().ConfigMaps("nuvolaris").Get(ctx, "builder-registry-config", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, first.Data, got.Data)

	got.Labels["kept"] = "yes"
	_, err = client.CoreV1().ConfigMaps("nuvolaris").Update(ctx, got, metav1.UpdateOptions{})
	require.NoError(t, err)
	second := newRegistryConfigMap("nuvolaris", imagestore.Hosts{Push: "b:5000", Pull: "b:5000"}, false, nil)
	require.NoError(t, applyConfigMap(ctx, client, second))
	got, err = client.CoreV1().ConfigMaps("nuvolaris").Get(ctx, "builder-registry-config", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, second.Data, got.Data)
	assert.Equal(t, "yes", got.Labels["kept"], "labels set by others are kept")
}

func TestPushImage(t *testing.T) {
	host := testregistry.Start(t).Host
	registryEnv(t)
	t.Setenv("REGISTRY_HOST", host)
	ctx := context.Background()
	img := testregistry.Image(t, "1001")
	want, err := img.Digest()
	require.NoError(t, err)

	dir := t.TempDir()
	tarPath := filepath.Join(dir, "runtime.tar")
	require.NoError(t, tarball.WriteToFile(tarPath, name.MustParseReference("example.com/runtime:v1"), img))
	oci := filepath.Join(dir, "oci")
	lp, err := layout.Write(oci, empty.Index)
	require.NoError(t, err)
	require.NoError(t, lp.AppendImage(img, layout.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"})))
	// A multi-platform pull writes the index of the platforms into the layout's own.
	multi := filepath.Join(dir, "oci-multi")
	lp, err = layout.Write(multi, empty.Index)
	require.NoError(t, err)
	require.NoError(t, lp.AppendIndex(mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: testregistry.PlatformImage(t, "1001", "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)))
	testregistry.Push(t, host+"/elsewhere:v1", img)

	for _, from := range []string{tarPath, oci, multi, host + "/elsewhere:v1"} {
		t.Run(filepath.Base(from), func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, pushImage(ctx, []string{"-from", from, "-image", "runtime-mine:v1"}, &out))
			assert.Contains(t, out.String(), "pushed "+host+"/runtime-mine:v1@"+want.String())
			assert.Contains(t, out.String(), `"source": "`+host+`/runtime-mine:v1"`)
			ref, err := name.ParseReference(host + "/runtime-mine:v1")
			require.NoError(t, err)
			got, err := remote.Head(ref)
			require.NoError(t, err)
			assert.Equal(t, want, got.Digest)
		})
	}

	for _, tt := range []struct{ from, image, wantErr string }{
		{from: tarPath, image: "runtime-mine", wantErr: "is not <repository>:<tag>"},
		{from: tarPath, image: "runtime-mine@sha256:00", wantErr: "is not <repository>:<tag>"},
		{from: "", image: "runtime-mine:v1", wantErr: "set FROM="},
		{from: filepath.Join(dir, "missing.tar"), image: "runtime-mine:v1", wantErr: "neither a file, a folder nor an image reference"},
		{from: filepath.Join(dir, "oci", "index.json"), image: "runtime-mine:v1", wantErr: "reading image tarball"},
		{from: t.TempDir(), image: "runtime-mine:v1", wantErr: "reading OCI layout"},
	} {
		t.Run(tt.wantErr, func(t *testing.T) {
			err := pushImage(ctx, []string{"-from", tt.from, "-image", tt.image}, io.Discard)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}
