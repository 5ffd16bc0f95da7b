package layerpush

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/layer"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

var baseConfig = v1.Config{
	Env:        []string{"PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONUNBUFFERED=1"},
	Entrypoint: []string{"/bin/proxy"},
	Cmd:        []string{"--debug"},
	WorkingDir: "/action",
	User:       "1001:1001",
	Labels:     map[string]string{"org.opencontainers.image.title": "python"},
}

// pushBase pushes a two-layer base with baseConfig to host/runtimes/python
// and returns it pinned.
func pushBase(t *testing.T, host string, mediaType types.MediaType, opts ...remote.Option) (name.Digest, v1.Image) {
	t.Helper()
	img, err := random.Image(2048, 2)
	require.NoError(t, err)
	if mediaType == types.OCIManifestSchema1 {
		layers, err := img.Layers()
		require.NoError(t, err)
		img, err = mutate.AppendLayers(mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1), layers...)
		require.NoError(t, err)
	}
	img, err = mutate.Config(img, baseConfig)
	require.NoError(t, err)
	d := testregistry.Push(t, host+"/runtimes/python:3.12", img, opts...)
	pinned, err := name.NewDigest(host + "/runtimes/python@" + d)
	require.NoError(t, err)
	return pinned, img
}

// writeLayer writes a layer of a file, a directory and a whiteout.
func writeLayer(t *testing.T, hdrs ...*tar.Header) string {
	t.Helper()
	if hdrs == nil {
		hdrs = []*tar.Header{
			{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777},
			{Name: "tmp/requirements.txt", Typeflag: tar.TypeReg, Mode: 0o644, Size: 5},
			{Name: "usr/lib/.wh.old", Typeflag: tar.TypeReg, Mode: 0o600},
		}
	}
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, h := range hdrs {
		require.NoError(t, tw.WriteHeader(h))
		_, _ = tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
	}
	require.NoError(t, tw.Close())
	path := filepath.Join(t.TempDir(), layer.FileName)
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path
}

func digests(t *testing.T, img v1.Image) []string {
	t.Helper()
	layers, err := img.Layers()
	require.NoError(t, err)
	var out []string
	for _, l := range layers {
		d, err := l.Digest()
		require.NoError(t, err)
		out = append(out, d.String())
	}
	return out
}

func TestPushMountsTheBaseAndWritesTheConfig(t *testing.T) {
	reg := newLinks()
	host := testregistry.Start(t, reg.wrap).Host
	base, baseImg := pushBase(t, host, types.DockerManifestSchema2)
	reg.requests()
	now := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)

	ref, err := Push(context.Background(), Options{
		Base: base.String(), BaseName: host + "/runtimes/python:3.12",
		Layer: writeLayer(t), Destination: host + "/alice/python:ext", Now: now,
	})
	require.NoError(t, err)
	requests := reg.requests()

	pushed, err := name.NewDigest(ref)
	require.NoError(t, err, "the result is <repository>@<digest>")
	assert.Equal(t, host+"/alice/python", pushed.Context().Name())
	img, err := remote.Image(pushed)
	require.NoError(t, err)

	baseLayers, layers := digests(t, baseImg), digests(t, img)
	require.Len(t, layers, len(baseLayers)+1)
	assert.Equal(t, baseLayers, layers[:len(baseLayers)])

	t.Run("base layers mounted, never read or uploaded", func(t *testing.T) {
		for _, d := range baseLayers {
			var mounted bool
			for _, r := range requests {
				if r.repo == "runtimes/python" && r.blob == d && r.method == http.MethodGet {
					t.Errorf("the base layer %s was downloaded", d)
				}
				if r.digest == d {
					t.Errorf("the base layer %s was uploaded", d)
				}
				mounted = mounted || (r.method == http.MethodPost && r.repo == "alice/python" && r.mount == d && r.from == "runtimes/python")
			}
			assert.True(t, mounted, "%s mounted from runtimes/python", d)
		}
		var uploaded []string
		for _, r := range requests {
			if r.digest != "" {
				uploaded = append(uploaded, r.digest)
			}
		}
		cfgName, err := img.ConfigName()
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{layers[len(layers)-1], cfgName.String()}, uploaded, "only the new layer and the config are uploaded")
	})
	t.Run("config", func(t *testing.T) {
		cf, err := img.ConfigFile()
		require.NoError(t, err)
		assert.Equal(t, baseConfig.Env, cf.Config.Env)
		assert.Equal(t, baseConfig.Entrypoint, cf.Config.Entrypoint)
		assert.Equal(t, baseConfig.Cmd, cf.Config.Cmd)
		assert.Equal(t, baseConfig.WorkingDir, cf.Config.WorkingDir)
		assert.Equal(t, "1001:1001", cf.Config.User, "the base's own user")
		assert.Equal(t, map[string]string{
			"org.opencontainers.image.title": "python",
			LabelBaseName:                    host + "/runtimes/python:3.12",
			LabelBaseDigest:                  base.DigestStr(),
		}, cf.Config.Labels)
		require.NotEmpty(t, cf.History)
		last := cf.History[len(cf.History)-1]
		assert.Equal(t, CreatedBy, last.CreatedBy)
		assert.False(t, last.EmptyLayer)
		assert.Equal(t, now, last.Created.Time.UTC())
		assert.Equal(t, now, cf.Created.Time.UTC())
		assert.Len(t, cf.RootFS.DiffIDs, len(layers))
	})
	t.Run("the layer as written", func(t *testing.T) {
		ls, err := img.Layers()
		require.NoError(t, err)
		rc, err := ls[len(ls)-1].Uncompressed()
		require.NoError(t, err)
		defer rc.Close()
		got, err := io.ReadAll(rc)
		require.NoError(t, err)
		want, err := os.ReadFile(writeLayer(t))
		require.NoError(t, err)
		assert.Equal(t, want, got)
		mt, err := ls[len(ls)-1].MediaType()
		require.NoError(t, err)
		assert.Equal(t, types.DockerLayer, mt)
	})
}

func TestPushUserAndOCIBase(t *testing.T) {
	host := testregistry.Start(t).Host
	base, _ := pushBase(t, host, types.OCIManifestSchema1)
	ref, err := Push(context.Background(), Options{
		Base: base.String(), BaseName: "python:3.12", Layer: writeLayer(t),
		Destination: host + "/alice/python:ext", User: "nobody",
	})
	require.NoError(t, err)
	img, err := remote.Image(mustRef(t, ref))
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "nobody", cf.Config.User)
	mt, err := img.MediaType()
	require.NoError(t, err)
	assert.Equal(t, types.OCIManifestSchema1, mt)
	ls, err := img.Layers()
	require.NoError(t, err)
	lmt, err := ls[len(ls)-1].MediaType()
	require.NoError(t, err)
	assert.Equal(t, types.OCILayer, lmt)
}

func TestPushCopiesAcrossRegistries(t *testing.T) {
	from := testregistry.Start(t, newLinks().wrap).Host
	to := newLinks()
	host := testregistry.Start(t, to.wrap).Host
	base, baseImg := pushBase(t, from, types.DockerManifestSchema2)
	ref, err := Push(context.Background(), Options{
		Base: base.String(), BaseName: base.String(), Layer: writeLayer(t), Destination: host + "/alice/python:ext",
	})
	require.NoError(t, err)
	uploaded := map[string]bool{}
	for _, r := range to.requests() {
		uploaded[r.digest] = true
	}
	for _, d := range digests(t, baseImg) {
		assert.True(t, uploaded[d], "%s copied to the other registry", d)
	}
	_, err = remote.Image(mustRef(t, ref))
	assert.NoError(t, err)
}

func TestPushWithDockerConfigCredentials(t *testing.T) {
	reg := testregistry.Start(t, testregistry.BasicAuth(map[string]string{"alice": "s3cret"}))
	base, _ := pushBase(t, reg.Host, types.DockerManifestSchema2, remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"}))
	dir := t.TempDir()
	token := base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+token+`"}}}`), 0o600))
	t.Setenv("DOCKER_CONFIG", dir)
	reg.Requests()

	_, err := Push(context.Background(), Options{Base: base.String(), BaseName: "b", Layer: writeLayer(t), Destination: reg.Host + "/alice/python:ext"})
	require.NoError(t, err)
	assert.Contains(t, reg.Requests(), "PUT /v2/alice/python/manifests/ext alice")

	t.Setenv("DOCKER_CONFIG", t.TempDir())
	_, err = Push(context.Background(), Options{Base: base.String(), BaseName: "b", Layer: writeLayer(t), Destination: reg.Host + "/alice/python:ext"})
	assert.Error(t, err, "without the credential")
}

func TestPushRejectsABadLayerBeforeAnyRequest(t *testing.T) {
	cases := []struct {
		name  string
		hdrs  []*tar.Header
		limit int64
	}{
		{"absolute path", []*tar.Header{{Name: "/etc/passwd", Typeflag: tar.TypeReg, Size: 1}}, 0},
		{"dot dot", []*tar.Header{{Name: "../../etc/passwd", Typeflag: tar.TypeReg, Size: 1}}, 0},
		{"device", []*tar.Header{{Name: "dev/kmsg", Typeflag: tar.TypeChar}}, 0},
		{"too large", []*tar.Header{{Name: "big", Typeflag: tar.TypeReg, Size: 100000}}, 50000},
	}
	reg := testregistry.Start(t)
	base, _ := pushBase(t, reg.Host, types.DockerManifestSchema2)
	host := reg.Host
	reg.Requests()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Push(context.Background(), Options{
				Base: base.String(), BaseName: "b", Layer: writeLayer(t, c.hdrs...),
				Destination: host + "/alice/python:ext", MaxBytes: c.limit,
			})
			require.Error(t, err)
			assert.True(t, errors.Is(err, layer.ErrInvalid), err.Error())
			assert.Empty(t, reg.Requests())
		})
	}
}

// A layer that is not a regular file (what the build step could leave to
// lead the push step to a file of its own, or to block it) is refused
// before any request, and nothing of its target is read.
func TestPushRefusesALayerThatIsNotARegularFile(t *testing.T) {
	reg := testregistry.Start(t)
	base, _ := pushBase(t, reg.Host, types.DockerManifestSchema2)
	reg.Requests()
	dir := t.TempDir()
	secret := filepath.Join(dir, "config.json")
	require.NoError(t, os.WriteFile(secret, []byte(`{"auths":{"r":{"auth":"c2VjcmV0"}}}`), 0o600))
	// A well-formed tar behind the link: refused all the same.
	tarball := writeLayer(t, &tar.Header{Name: "a", Typeflag: tar.TypeReg, Size: 1})
	fifo := filepath.Join(dir, "fifo.tar")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	for name, path := range map[string]string{
		"symlink to a secret": symlinkTo(t, dir, "secret.tar", secret),
		"symlink to a tar":    symlinkTo(t, dir, "tar.tar", tarball),
		"fifo":                fifo,
		"directory":           dir,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Push(context.Background(), Options{
				Base: base.String(), BaseName: "b", Layer: path, Destination: reg.Host + "/alice/python:ext",
			})
			require.Error(t, err)
			assert.True(t, errors.Is(err, layer.ErrInvalid), err.Error())
			assert.NotContains(t, err.Error(), "c2VjcmV0")
			assert.Empty(t, reg.Requests())
		})
	}
}

func symlinkTo(t *testing.T, dir, name, target string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.Symlink(target, p))
	return p
}

func TestPushNeedsAPinnedBase(t *testing.T) {
	_, err := Push(context.Background(), Options{Base: "127.0.0.1:1/runtimes/python:3.12", BaseName: "b", Layer: "x", Destination: "127.0.0.1:1/a/b:c"})
	assert.ErrorContains(t, err, "parsing the base")
}

func mustRef(t *testing.T, ref string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	return r
}
