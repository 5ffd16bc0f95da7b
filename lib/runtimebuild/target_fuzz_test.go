package runtimebuild

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// FuzzParseTarget checks that an accepted target re-parses to the same value
// and, put after the platform's host, names exactly that host, the user's
// repository and the tag: it holds no "/" and no host of its own. A refusal
// is a 400 InvalidTarget.
func FuzzParseTarget(f *testing.F) {
	f.Add("alice:v1", "alice", true)
	f.Add("bob:v1", "alice", false)
	f.Add("registry.example.com/alice:v1", "alice", true)
	f.Add("localhost:5000", "localhost", false)
	f.Add("alice@sha256:abc", "alice", false)
	f.Add("a.b_c__d-e:_py-3.13_x", "a.b_c__d-e", true)
	f.Fuzz(func(t *testing.T, s, caller string, strict bool) {
		got, err := ParseTarget(s, caller, strict)
		if err != nil {
			assert.Equal(t, Target{}, got)
			fe := fault.As(err)
			require.NotNil(t, fe, "%T %v is not a fault", err, err)
			assert.Equal(t, "InvalidTarget", fe.Reason)
			assert.Equal(t, http.StatusBadRequest, webaction.Status(err))
			assert.True(t, strings.HasPrefix(fe.Message, invalidTarget), fe.Message)
			return
		}
		assert.Equal(t, s, got.String())
		assert.NotContains(t, s, "/")
		assert.Equal(t, 1, strings.Count(s, ":"))
		if strict {
			assert.Equal(t, caller, got.User)
		}
		again, err := ParseTarget(got.String(), got.User, true)
		require.NoError(t, err, "a target does not re-parse for its own user")
		assert.Equal(t, got, again)
		assert.True(t, identity.ValidUser(got.User), "user %q", got.User)
		assert.True(t, imagestore.ValidTag(got.Tag), "tag %q", got.Tag)

		const host = "platform.example.com:5000"
		tag, err := name.NewTag(host+"/"+got.String(), name.StrictValidation)
		require.NoError(t, err)
		assert.Equal(t, host, tag.RegistryStr())
		assert.Equal(t, got.User, tag.RepositoryStr())
		assert.Equal(t, got.Tag, tag.TagStr())
	})
}
