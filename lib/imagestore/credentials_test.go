package imagestore

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func basic(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

func TestParseDockerConfigAndResolve(t *testing.T) {
	config := `{"auths":{
		"push.example.com:5000": {"auth": "` + basic("builder", "s3cret:with:colons") + `"},
		"pull.example.com": {"username": "reader", "password": "pw"},
		"https://scheme.example.com": {"username": "schemed", "password": "pw2"},
		"https://index.docker.io/v1/": {"username": "hubuser", "password": "hubpw"},
		"empty.example.com": {},
		"https://both.example.com/v2/": {"username": "schemed", "password": "s"},
		"both.example.com": {"username": "exact", "password": "e"}
	}}`
	creds, err := ParseDockerConfig([]byte(config))
	require.NoError(t, err)

	tests := []struct {
		name     string
		registry string
		want     authn.AuthConfig // zero: anonymous
	}{
		{name: "exact key wins over a key with a scheme", registry: "both.example.com", want: authn.AuthConfig{Username: "exact", Password: "e"}},
		{name: "auth field", registry: "push.example.com:5000", want: authn.AuthConfig{Username: "builder", Password: "s3cret:with:colons"}},
		{name: "username and password", registry: "pull.example.com", want: authn.AuthConfig{Username: "reader", Password: "pw"}},
		{name: "key with a scheme", registry: "scheme.example.com", want: authn.AuthConfig{Username: "schemed", Password: "pw2"}},
		{name: "docker hub", registry: "index.docker.io", want: authn.AuthConfig{Username: "hubuser", Password: "hubpw"}},
		{name: "unknown host", registry: "other.example.com"},
		{name: "host named in a longer key", registry: "example.com"},
		{name: "same host, other port", registry: "push.example.com"},
		{name: "entry without credentials", registry: "empty.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := name.NewRegistry(tt.registry)
			require.NoError(t, err)
			auth, err := creds.Resolve(reg)
			require.NoError(t, err)
			if tt.want == (authn.AuthConfig{}) {
				assert.Equal(t, authn.Anonymous, auth)
				return
			}
			got, err := authn.Authorization(context.Background(), auth)
			require.NoError(t, err)
			assert.Equal(t, tt.want.Username, got.Username)
			assert.Equal(t, tt.want.Password, got.Password)
		})
	}
}

func TestResolveDockerHubShortKey(t *testing.T) {
	creds, err := ParseDockerConfig([]byte(`{"auths":{"docker.io":{"username":"hub","password":"pw"}}}`))
	require.NoError(t, err)
	auth, err := creds.Resolve(name.MustParseReference("apache/runtime:v1").Context().Registry)
	require.NoError(t, err)
	got, err := authn.Authorization(context.Background(), auth)
	require.NoError(t, err)
	assert.Equal(t, "hub", got.Username)
}

func TestParseDockerConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr bool
	}{
		{name: "empty object", data: `{}`},
		{name: "empty auths", data: `{"auths":{}}`},
		{name: "nothing", data: ``},
		{name: "not JSON", data: `auths: {}`, wantErr: true},
		{name: "truncated", data: `{"auths":{`, wantErr: true},
		{name: "auth not base64", data: `{"auths":{"h":{"auth":"%%%"}}}`, wantErr: true},
		{name: "auth without a colon", data: `{"auths":{"h":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("nocolon")) + `"}}}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, err := ParseDockerConfig([]byte(tt.data))
			if tt.wantErr {
				require.Error(t, err)
				assert.Nil(t, creds)
				return
			}
			require.NoError(t, err)
			auth, err := creds.Resolve(name.MustParseReference("h/x").Context().Registry)
			require.NoError(t, err)
			assert.Equal(t, authn.Anonymous, auth)
		})
	}
}

func TestNilCredentialsAreAnonymous(t *testing.T) {
	var c *Credentials
	auth, err := c.Resolve(name.MustParseReference("r.example.com/x").Context().Registry)
	require.NoError(t, err)
	assert.Equal(t, authn.Anonymous, auth)
}
