package testregistry

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"
)

// Image is a random one-layer linux/amd64 image whose config runs as user
// ("" for none).
func Image(t testing.TB, user string) v1.Image {
	t.Helper()
	return PlatformImage(t, user, "amd64")
}

// PlatformImage is Image for another architecture.
func PlatformImage(t testing.TB, user, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(128, 1)
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	cf = cf.DeepCopy()
	cf.Config.User = user
	cf.OS, cf.Architecture = "linux", arch
	img, err = mutate.ConfigFile(img, cf)
	require.NoError(t, err)
	return img
}

// Push writes img to ref with opts (anonymous by default) and returns its
// digest.
func Push(t testing.TB, ref string, img v1.Image, opts ...remote.Option) string {
	t.Helper()
	r, err := name.ParseReference(ref)
	require.NoError(t, err)
	require.NoError(t, remote.Write(r, img, opts...))
	d, err := img.Digest()
	require.NoError(t, err)
	return d.String()
}
