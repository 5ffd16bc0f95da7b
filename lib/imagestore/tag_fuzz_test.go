package imagestore_test

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
)

// FuzzValidTag checks that a tag ValidTag accepts can only name a tag of
// the caller's repository — no path, host or digest: after
// "<host>/<user>:" it parses to exactly that host, repository and tag —
// and that build/images/<tag> accepts the tags a start target can push.
func FuzzValidTag(f *testing.F) {
	for _, s := range []string{"v1", "_py-3.13_x", ".v1", "-v1", "v1/x", "v1@sha256:abc", "a:b", "t" + strings.Repeat("x", 127), "v 1", "ünï"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tag string) {
		_, err := runtimebuild.ParseTarget("alice:"+tag, "alice", true)
		require.Equal(t, err == nil, imagestore.ValidTag(tag), "the start target and build/images disagree on %q", tag)
		if !imagestore.ValidTag(tag) {
			return
		}
		assert.LessOrEqual(t, len(tag), 128)
		assert.False(t, strings.ContainsAny(tag, "/:@"), "tag %q", tag)
		const host = "platform.example.com:5000"
		ref, err := name.NewTag(host+"/alice:"+tag, name.StrictValidation)
		require.NoError(t, err)
		assert.Equal(t, host, ref.RegistryStr())
		assert.Equal(t, "alice", ref.RepositoryStr())
		assert.Equal(t, tag, ref.TagStr())
	})
}
