package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"path"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildFlattensToTheRootAfter applies the layer to the root as it was,
// as go-containerregistry flattens an image, and finds the root as the
// command left it: the same paths, kinds, modes, owners, contents, link
// targets and xattrs (times aside).
func TestBuildFlattensToTheRootAfter(t *testing.T) {
	root, mountinfo := newRoot(t)
	o := options(root, mountinfo, &bytes.Buffer{})
	ex, err := newExclusions(root, o.Out, mountinfo)
	require.NoError(t, err)
	before := wholeTree(t, root, ex)

	require.NoError(t, Build(context.Background(), o))
	after := wholeTree(t, root, ex)
	img, err := mutate.AppendLayers(empty.Image, layerOf(t, before), layerOf(t, mustRead(t, filepath.Join(o.Out, FileName))))
	require.NoError(t, err)
	flat := mutate.Extract(img)
	defer flat.Close()
	flattened, err := io.ReadAll(flat)
	require.NoError(t, err)

	want, got := summary(t, after), summary(t, flattened)
	assert.Equal(t, want, got)
	assert.NotEqual(t, summary(t, before), got, "the command changed the root")
}

// wholeTree is a layer of everything below root: every entry is newer than
// the zero time, and no directory had entries before.
func wholeTree(t *testing.T, root string, ex *exclusions) []byte {
	t.Helper()
	var b bytes.Buffer
	_, err := writeChanges(&b, root, ex, &before{entries: map[string][]string{}}, io.Discard)
	require.NoError(t, err)
	return b.Bytes()
}

func layerOf(t *testing.T, b []byte) v1.Layer {
	t.Helper()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	require.NoError(t, err)
	return l
}

type node struct {
	Type          byte
	Mode          int64
	UID, GID      int
	Content, Link string
	Xattrs        map[string]string
}

func summary(t *testing.T, b []byte) map[string]node {
	t.Helper()
	out := map[string]node{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		content, err := io.ReadAll(tr)
		require.NoError(t, err)
		n := node{Type: hdr.Typeflag, Mode: hdr.Mode, UID: hdr.Uid, GID: hdr.Gid, Content: string(content), Link: hdr.Linkname}
		for k, v := range hdr.PAXRecords {
			if len(k) > len("SCHILY.xattr.") && k[:len("SCHILY.xattr.")] == "SCHILY.xattr." {
				if n.Xattrs == nil {
					n.Xattrs = map[string]string{}
				}
				n.Xattrs[k] = v
			}
		}
		out[path.Clean(hdr.Name)] = n
	}
}
