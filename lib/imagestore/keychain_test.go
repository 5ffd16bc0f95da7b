package imagestore

import (
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeychainGrantsEachRegistryItsOwn(t *testing.T) {
	creds, err := ParseDockerConfig([]byte(`{"auths":{
		"platform.example.com:5000":{"username":"builder","password":"pw"},
		"user.example.com":{"username":"builder","password":"pw"},
		"https://index.docker.io/v1/":{"username":"hub","password":"pw"}}}`))
	require.NoError(t, err)
	// The user's own credentials for their registry first, then the
	// platform's Secret scoped to the platform's hosts.
	kc := Keychain{}.
		Grant(Basic("alice", "own"), "own.example.com/alice", "platform.example.com:5000").
		Grant(creds, "platform.example.com:5000", "pull.example.com/team")
	tests := []struct {
		repo string
		want string // the username that answers, "" for anonymous
	}{
		{repo: "platform.example.com:5000/alice", want: "alice"},
		{repo: "own.example.com/alice", want: "alice"},
		{repo: "own.example.com:443/alice"}, // another registry
		{repo: "user.example.com/alice"},    // in the Secret, not granted
		{repo: "docker.io/apache/openserverless-runtime-python"},
		{repo: "pull.example.com/alice"}, // granted, but the Secret has no entry for it
		{repo: "127.0.0.2:9/x"},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			repo, err := name.NewRepository(tt.repo)
			require.NoError(t, err)
			auth, err := kc.Resolve(repo)
			require.NoError(t, err)
			if tt.want == "" {
				assert.Equal(t, authn.Anonymous, auth)
				return
			}
			cfg, err := auth.Authorization()
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.Username)
		})
	}
}

// A grant whose credentials are anonymous for a registry leaves it to the
// next grant, as a user's Secret without an entry for the platform's host does.
func TestKeychainFallsThroughAnAnonymousGrant(t *testing.T) {
	empty, err := ParseDockerConfig([]byte(`{"auths":{}}`))
	require.NoError(t, err)
	kc := Keychain{}.Grant(empty, "r.example.com").Grant(Basic("platform", "pw"), "r.example.com")
	repo, err := name.NewRepository("r.example.com/alice")
	require.NoError(t, err)
	auth, err := kc.Resolve(repo)
	require.NoError(t, err)
	cfg, err := auth.Authorization()
	require.NoError(t, err)
	assert.Equal(t, "platform", cfg.Username)

	auth, err = Keychain{}.Resolve(repo)
	require.NoError(t, err)
	assert.Equal(t, authn.Anonymous, auth, "the zero Keychain")
}

func TestRegistryOf(t *testing.T) {
	assert.Equal(t, "registry.example.com:5000", RegistryOf("registry.example.com:5000/team"))
	assert.Equal(t, "127.0.0.1:5000", RegistryOf("127.0.0.1:5000"))
	assert.Equal(t, name.DefaultRegistry, RegistryOf("docker.io"))
	assert.Equal(t, "", RegistryOf("bad host:1"))
}
