package imagestore

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

func TestClientInspect(t *testing.T) {
	host := testregistry.Start(t).Host
	img := testregistry.Image(t, "1001")
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.Config.Labels = map[string]string{"org.opencontainers.image.base.name": "runtime"}
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	digest := testregistry.Push(t, host+"/alice:t1", img)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: testregistry.PlatformImage(t, "arm", "arm64"), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
	)
	require.NoError(t, remote.WriteIndex(parseRef(t, host+"/alice:multi"), idx))
	idxDigest, err := idx.Digest()
	require.NoError(t, err)

	manifest, err := img.Manifest()
	require.NoError(t, err)
	raw, err := img.RawManifest()
	require.NoError(t, err)
	wantSize := int64(len(raw)) + manifest.Config.Size
	var wantLayers []Layer
	for _, l := range manifest.Layers {
		wantLayers = append(wantLayers, Layer{Digest: l.Digest.String(), MediaType: string(l.MediaType), Size: l.Size})
		wantSize += l.Size
	}

	tests := []struct {
		name          string
		ref           string
		wantDigest    string
		wantPlatforms []string
	}{
		{name: "image", ref: host + "/alice:t1", wantDigest: digest},
		{name: "by digest", ref: host + "/alice@" + digest, wantDigest: digest},
		{name: "index", ref: host + "/alice:multi", wantDigest: idxDigest.String(), wantPlatforms: []string{"linux/arm64", "linux/amd64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := New().Inspect(context.Background(), tt.ref)
			require.NoError(t, err)
			assert.Equal(t, tt.wantDigest, m.Digest)
			assert.Equal(t, digest, m.ImageDigest)
			assert.Equal(t, tt.wantPlatforms, m.Platforms)
			assert.Equal(t, "1001", m.User)
			assert.Equal(t, cf.Config.Labels, m.Labels)
			assert.Equal(t, wantLayers, m.Layers)
			assert.Equal(t, wantSize, m.Size)
		})
	}

	_, err = New().Inspect(context.Background(), host+"/alice:nope")
	assert.Equal(t, fault.NotFound, fault.KindOf(err))
	_, err = New().Inspect(context.Background(), closedAddr(t)+"/alice:t1")
	assert.Equal(t, fault.Unavailable, fault.KindOf(err))
	_, err = New().Inspect(context.Background(), "Not A Ref")
	assert.Error(t, err)
}
