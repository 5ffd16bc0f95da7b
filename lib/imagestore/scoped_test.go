package imagestore

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScoped(t *testing.T) {
	creds, err := ParseDockerConfig([]byte(`{"auths":{
		"platform.example.com:5000":{"username":"builder","password":"pw"},
		"user.example.com":{"username":"builder","password":"pw"},
		"https://index.docker.io/v1/":{"username":"hub","password":"pw"}}}`))
	require.NoError(t, err)
	kc := Scoped(creds, "platform.example.com:5000", "pull.example.com/team")
	tests := []struct {
		repo string
		want bool // the platform's credentials answer
	}{
		{repo: "platform.example.com:5000/alice", want: true},
		{repo: "platform.example.com:5000/bob/x", want: true},
		{repo: "user.example.com/alice", want: false},
		{repo: "docker.io/apache/openserverless-runtime-python", want: false},
		{repo: "pull.example.com/alice", want: false}, // in scope, but the Secret has no entry for it
		{repo: "127.0.0.2:9/x", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			repo, err := name.NewRepository(tt.repo)
			require.NoError(t, err)
			auth, err := kc.Resolve(repo)
			require.NoError(t, err)
			if tt.want {
				assert.NotEqual(t, authn.Anonymous, auth)
			} else {
				assert.Equal(t, authn.Anonymous, auth)
			}
		})
	}
}

func TestRegistryOf(t *testing.T) {
	assert.Equal(t, "registry.example.com:5000", RegistryOf("registry.example.com:5000/team"))
	assert.Equal(t, "127.0.0.1:5000", RegistryOf("127.0.0.1:5000"))
	assert.Equal(t, name.DefaultRegistry, RegistryOf("docker.io"))
	assert.Equal(t, "", RegistryOf("bad host:1"))
}
