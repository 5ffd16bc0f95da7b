package testapi

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/apache/openwhisk-client-go/whisk"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/dev/local"
)

// SetEngine makes the deployed package build with engine, as an operator
// updates a parameter of it (wsk package update builder -p build_engine …).
func (c Client) SetEngine(t *testing.T, env *local.Stack, user, engine string) {
	t.Helper()
	SetParameter(t, env, "build_engine", engine)
	r := c.Call(t, user, http.MethodGet, "/capabilities", nil)
	require.Equal(t, engine, r.Body["build_engine"], "the package builds with %s", engine)
}

// SetParameter sets a parameter of the deployed package, as an operator
// does (wsk package update builder -p key value).
func SetParameter(t *testing.T, env *local.Stack, key, value string) {
	t.Helper()
	sys, ok := env.Subjects.Token(env.Gateway.SystemNamespace())
	require.True(t, ok)
	wc, err := whisk.NewClient(http.DefaultClient, &whisk.Config{Host: env.Gateway.URL(), AuthToken: sys, Namespace: env.Gateway.SystemNamespace()})
	require.NoError(t, err)
	pkg, _, err := wc.Packages.Get("builder")
	require.NoError(t, err)
	found := false
	for i, kv := range pkg.Parameters {
		if kv.Key == key {
			pkg.Parameters[i].Value, found = value, true
		}
	}
	if !found {
		pkg.Parameters = append(pkg.Parameters, whisk.KeyValue{Key: key, Value: value})
	}
	_, _, err = wc.Packages.Insert(pkg, true)
	require.NoError(t, err)
}

// Flatten lists the image's file system as one line per entry: path, type,
// mode, owner, size, content digest, link target and xattrs; times aside.
func Flatten(t *testing.T, img v1.Image) string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var lines []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		h := sha256.New()
		_, err = io.Copy(h, tr)
		require.NoError(t, err)
		var xattrs []string
		for k, v := range hdr.PAXRecords {
			if strings.HasPrefix(k, "SCHILY.xattr.") {
				xattrs = append(xattrs, k+"="+hex.EncodeToString([]byte(v)))
			}
		}
		sort.Strings(xattrs)
		path := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(hdr.Name, "./"), "/"), "/")
		if path == "" || path == "." {
			continue // Kaniko writes the root's own entry, the layer engine does not
		}
		link := hdr.Linkname
		if hdr.Typeflag == tar.TypeLink {
			link = strings.TrimPrefix(link, "/") // both forms name the same file from the root
		}
		sum := ""
		if hdr.Typeflag == tar.TypeReg {
			sum = hex.EncodeToString(h.Sum(nil))[:16]
		}
		lines = append(lines, fmt.Sprintf("%s %c %o %d:%d %d %s %s %v",
			path, hdr.Typeflag, hdr.Mode&0o7777, hdr.Uid, hdr.Gid, hdr.Size, sum, link, xattrs))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// RunConfig is the part of the config both engines must write alike.
func RunConfig(t *testing.T, img v1.Image) v1.Config {
	t.Helper()
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	return v1.Config{
		Env: cf.Config.Env, User: cf.Config.User, Entrypoint: cf.Config.Entrypoint, Cmd: cf.Config.Cmd,
		WorkingDir: cf.Config.WorkingDir, Labels: cf.Config.Labels,
	}
}

// Pull reads an image (a tag or a digest reference) from the stack's
// registry with its admin's credentials.
func Pull(t *testing.T, env *local.Stack, ref string) v1.Image {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(r, remote.WithAuth(env.Registry.Auth()))
	require.NoError(t, err)
	return img
}
