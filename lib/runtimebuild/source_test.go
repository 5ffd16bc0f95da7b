package runtimebuild

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
)

func TestParseSource(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name     string
		source   string
		wantRepo string // fully qualified repository; "" when the source is refused
		wantID   string // tag or digest
	}{
		{name: "docker hub short", source: "apache/openserverless-runtime-python:v3.13", wantRepo: "index.docker.io/apache/openserverless-runtime-python", wantID: "v3.13"},
		{name: "library image", source: "python", wantRepo: "index.docker.io/library/python", wantID: "latest"},
		{name: "registry with port", source: "registry.example.com:5000/runtimes/python:3.13", wantRepo: "registry.example.com:5000/runtimes/python", wantID: "3.13"},
		{name: "loopback registry", source: "127.0.0.1:5000/apache/runtime:v1", wantRepo: "127.0.0.1:5000/apache/runtime", wantID: "v1"},
		{name: "digest", source: "ghcr.io/apache/runtime@" + digest, wantRepo: "ghcr.io/apache/runtime", wantID: digest},
		{name: "tag and digest", source: "ghcr.io/apache/runtime:v1@" + digest, wantRepo: "ghcr.io/apache/runtime", wantID: digest},
		{name: "semicolon", source: "apache/runtime:v1;rm -rf /"},
		{name: "command substitution", source: "apache/runtime:$(id)"},
		{name: "backticks", source: "apache/runtime:`id`"},
		{name: "pipe", source: "apache/runtime|sh"},
		{name: "ampersand", source: "apache/runtime&"},
		{name: "redirect", source: "apache/runtime>x"},
		{name: "double quote", source: `apache/runtime:"v1"`},
		{name: "single quote", source: "apache/runtime:'v1'"},
		{name: "space", source: "apache/runtime v1"},
		{name: "leading space", source: " apache/runtime"},
		{name: "tab", source: "apache/runtime\tv1"},
		{name: "newline", source: "apache/runtime:v1\nRUN id"},
		{name: "trailing newline", source: "apache/runtime:v1\n"},
		{name: "empty", source: ""},
		{name: "leading slash", source: "/apache/runtime"},
		{name: "upper case repository", source: "Apache/Runtime:v1"},
		{name: "bad digest", source: "apache/runtime@sha256:abc"},
		{name: "empty tag", source: "apache/runtime:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := ParseSource(tt.source)
			if tt.wantRepo == "" {
				require.Error(t, err)
				fe := fault.As(err)
				require.NotNil(t, fe)
				assert.Equal(t, fault.Invalid, fe.Kind)
				assert.Equal(t, "InvalidSource", fe.Reason)
				assert.Contains(t, fe.Message, "Invalid source image")
				assert.Nil(t, ref)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantRepo, ref.Context().Name())
			assert.Equal(t, tt.wantID, ref.Identifier())
		})
	}
}

func TestAllowed(t *testing.T) {
	tests := []struct {
		name    string
		source  string
		allowed []string
		want    bool
	}{
		{name: "empty list allows nothing", source: "evil.example.com/x/y:1", allowed: nil, want: false},
		{name: "exact repository", source: "registry.example.com/runtimes/python:3.13", allowed: []string{"registry.example.com/runtimes/python"}, want: true},
		{name: "exact repository, other image", source: "registry.example.com/runtimes/node:22", allowed: []string{"registry.example.com/runtimes/python"}, want: false},
		{name: "exact pattern is not a prefix", source: "registry.example.com/runtimes/python-evil:1", allowed: []string{"registry.example.com/runtimes/python"}, want: false},
		{name: "wildcard prefix", source: "registry.example.com/runtimes/node:22", allowed: []string{"registry.example.com/runtimes/*"}, want: true},
		{name: "wildcard prefix, deeper path", source: "registry.example.com/runtimes/a/b:1", allowed: []string{"registry.example.com/runtimes/*"}, want: true},
		{name: "wildcard prefix, other registry", source: "evil.example.com/runtimes/node:22", allowed: []string{"registry.example.com/runtimes/*"}, want: false},
		{name: "wildcard prefix, sibling folder", source: "registry.example.com/other/node:22", allowed: []string{"registry.example.com/runtimes/*"}, want: false},
		{name: "docker.io spelling", source: "apache/openserverless-runtime-python:v3.13", allowed: []string{"docker.io/apache/openserverless-runtime-python"}, want: true},
		{name: "index.docker.io spelling", source: "docker.io/apache/openserverless-runtime-python:v3.13", allowed: []string{"index.docker.io/apache/openserverless-runtime-python"}, want: true},
		{name: "short spelling", source: "index.docker.io/apache/openserverless-runtime-python:v3.13", allowed: []string{"apache/openserverless-runtime-python"}, want: true},
		{name: "docker.io wildcard", source: "apache/openserverless-runtime-nodejs:v22", allowed: []string{"docker.io/apache/*"}, want: true},
		{name: "short wildcard", source: "docker.io/apache/openserverless-runtime-nodejs:v22", allowed: []string{"apache/*"}, want: true},
		{name: "short wildcard does not match another registry", source: "ghcr.io/apache/runtime:v1", allowed: []string{"apache/*"}, want: false},
		{name: "docker.io pattern does not match another registry", source: "ghcr.io/apache/runtime:v1", allowed: []string{"docker.io/apache/runtime"}, want: false},
		{name: "library image by short name", source: "python:3.13", allowed: []string{"python"}, want: true},
		{name: "library image by library name", source: "python:3.13", allowed: []string{"library/python"}, want: true},
		{name: "library image by docker.io name", source: "docker.io/library/python:3.13", allowed: []string{"docker.io/library/python"}, want: true},
		{name: "library short name does not match a user repository", source: "someone/python:3.13", allowed: []string{"python"}, want: false},
		{name: "short name on another registry", source: "ghcr.io/python:3.13", allowed: []string{"python"}, want: false},
		{name: "Docker Hub path named like a registry", source: "docker.io/registry.example.com/runtimes/python:3", allowed: []string{"registry.example.com/runtimes/*"}, want: false},
		{name: "Docker Hub library path named like a registry", source: "docker.io/library/registry.example.com/x", allowed: []string{"registry.example.com/x"}, want: false},
		{name: "Docker Hub path named like a registry, by its docker.io name", source: "docker.io/registry.example.com/x", allowed: []string{"docker.io/registry.example.com/*"}, want: true},
		{name: "digest reference", source: "registry.example.com/runtimes/python@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", allowed: []string{"registry.example.com/runtimes/python"}, want: true},
		{name: "second pattern matches", source: "ghcr.io/apache/runtime:v1", allowed: []string{"docker.io/apache/*", "ghcr.io/apache/runtime"}, want: true},
		{name: "bare star", source: "ghcr.io/apache/runtime:v1", allowed: []string{"*"}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := name.ParseReference(tt.source)
			require.NoError(t, err)
			assert.Equal(t, tt.want, Allowed(ref, tt.allowed))
		})
	}
}
