package e2e

import (
	"archive/tar"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/tests/testapi"
)

// pull reads an image from the local registry with the admin's credentials.
func pull(t *testing.T, ref string) v1.Image {
	t.Helper()
	return testapi.Pull(t, env, ref)
}

// file is one entry of an image's flattened filesystem.
type file struct {
	Type     byte
	Linkname string
	Body     string
}

// files returns the entries of an image's flattened filesystem under the given paths.
func files(t *testing.T, img v1.Image, paths ...string) map[string]file {
	t.Helper()
	want := map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	out := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		if !want[h.Name] && !want["/"+h.Name] {
			continue
		}
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out["/"+trimSlash(h.Name)] = file{Type: h.Typeflag, Linkname: h.Linkname, Body: string(b)}
	}
}

func trimSlash(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	return s
}
