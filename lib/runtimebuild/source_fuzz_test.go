package runtimebuild

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// FuzzParseSource checks the source check of start and ensure: an accepted
// source holds only the characters of an image reference (nothing a shell,
// a Dockerfile or YAML reads differently) and parses stably; a refusal is a
// 400 InvalidSource. Then Allowed against a fuzzed pattern: a pattern that
// names a registry host allows only sources on that host, and one that
// names none allows only Docker Hub sources.
func FuzzParseSource(f *testing.F) {
	f.Add("apache/openserverless-runtime-python:v3.13", "docker.io/apache/openserverless-runtime-*")
	f.Add("registry.example.com:5000/runtimes/python:3.13", "registry.example.com:5000/runtimes/*")
	f.Add("ghcr.io/apache/runtime@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "apache/*")
	f.Add("python", "library/python")
	f.Add("apache/runtime:v1;rm -rf /", "*")
	f.Add("docker.io/registry.example.com/runtimes/python:3", "registry.example.com/runtimes/*")
	f.Fuzz(func(t *testing.T, s, pattern string) {
		ref, err := ParseSource(s)
		if err != nil {
			fe := fault.As(err)
			require.NotNil(t, fe, "%T %v is not a fault", err, err)
			assert.Equal(t, "InvalidSource", fe.Reason)
			assert.Equal(t, http.StatusBadRequest, webaction.Status(err))
			return
		}
		assert.LessOrEqual(t, len(s), 512)
		for _, r := range s {
			ok := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:/@-", r))
			require.True(t, ok, "source %q holds %q", s, r)
		}
		again, err := name.ParseReference(ref.Name())
		require.NoError(t, err)
		assert.Equal(t, ref.Name(), again.Name())

		assert.False(t, Allowed(ref, nil), "an empty list allows nothing")
		assert.True(t, Allowed(ref, []string{"*"}), "a bare star allows everything")
		assert.True(t, Allowed(ref, []string{ref.Context().Name()}), "its own repository")
		if Allowed(ref, []string{pattern}) {
			if host, ok := patternHost(pattern); ok {
				assert.Equal(t, host, ref.Context().RegistryStr(), "pattern %q allows %q", pattern, s)
			}
		}
	})
}

// patternHost is the registry a pattern restricts sources to, as a
// reference's RegistryStr spells it: its first component when that is a
// host, else Docker Hub. A pattern whose first component is not complete
// ("*", "registry.example*") restricts nothing this can tell.
func patternHost(pattern string) (string, bool) {
	first, _, ok := strings.Cut(strings.TrimSuffix(pattern, "*"), "/")
	if !ok {
		return "", false
	}
	if !strings.ContainsAny(first, ".:") && first != "localhost" {
		return name.DefaultRegistry, true
	}
	if first == "docker.io" {
		return name.DefaultRegistry, true
	}
	return first, true
}
