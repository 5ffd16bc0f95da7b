package userregistry

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
)

func TestRegistryOf(t *testing.T) {
	tests := []struct {
		host    string
		want    string // the registry; "" : refused
		wantKey string // the docker config key of its credentials
	}{
		{host: "registry.example.com", want: "registry.example.com", wantKey: "registry.example.com"},
		{host: "registry.example.com:5000", want: "registry.example.com:5000", wantKey: "registry.example.com:5000"},
		{host: "registry.example.com:5000/team/sub", want: "registry.example.com:5000", wantKey: "registry.example.com:5000"},
		{host: "127.0.0.1:5001", want: "127.0.0.1:5001", wantKey: "127.0.0.1:5001"},
		{host: "localhost:5000", want: "localhost:5000", wantKey: "localhost:5000"},
		{host: "docker.io/acme", want: name.DefaultRegistry, wantKey: authn.DefaultAuthKey},
		{host: "myregistry"},
		{host: "myregistry/team"},
		{host: "registry.example.com:port"},
		{host: "-bad.example.com"},
		{host: ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			reg, err := registryOf(tt.host)
			if tt.want == "" {
				require.Error(t, err)
				assert.Equal(t, "InvalidRegistryHost", fault.As(err).Reason)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, reg.RegistryStr())

			data, err := temporaryConfig(reg, "u", "p")
			require.NoError(t, err)
			var cfg struct {
				Auths map[string]map[string]string `json:"auths"`
			}
			require.NoError(t, json.Unmarshal(data.JSON(), &cfg))
			assert.Equal(t, map[string]map[string]string{tt.wantKey: {"username": "u", "password": "p", "auth": base64.StdEncoding.EncodeToString([]byte("u:p"))}}, cfg.Auths)
		})
	}
}
