package imagestore

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/docker/cli/cli/config/configfile"
	"github.com/docker/cli/cli/config/credentials"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Credentials are the contents of a dockerconfigjson Secret.
type Credentials struct {
	file *configfile.ConfigFile
	raw  []byte
}

// ParseDockerConfig reads a docker config.json ({"auths":{host:{auth|username,password}}}).
func ParseDockerConfig(data []byte) (*Credentials, error) {
	f := configfile.New("")
	if err := f.LoadFromReader(bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("parsing docker config: %w", err)
	}
	return &Credentials{file: f, raw: data}, nil
}

// JSON returns a copy of the docker config.json the Credentials were read from.
func (c *Credentials) JSON() []byte { return append([]byte(nil), c.raw...) }

// Resolve implements authn.Keychain: the credentials stored for the
// resource's registry host, else anonymous.
func (c *Credentials) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if c == nil || c.file == nil {
		return authn.Anonymous, nil
	}
	cfg, ok := c.authConfig(r.RegistryStr())
	if !ok || (cfg.Username == "" && cfg.Password == "" && cfg.Auth == "" && cfg.IdentityToken == "" && cfg.RegistryToken == "") {
		return authn.Anonymous, nil
	}
	return authn.FromConfig(authn.AuthConfig{
		Username:      cfg.Username,
		Password:      cfg.Password,
		Auth:          cfg.Auth,
		IdentityToken: cfg.IdentityToken,
		RegistryToken: cfg.RegistryToken,
	}), nil
}

// authConfig finds the entry for host: by its exact key, else by a key that
// names the host with a scheme or a path ("https://host", and
// "https://index.docker.io/v1/" for Docker Hub), as kubectl and docker login
// write them.
func (c *Credentials) authConfig(host string) (types.AuthConfig, bool) {
	if cfg, ok := c.file.AuthConfigs[host]; ok {
		return cfg, true
	}
	for _, key := range slices.Sorted(maps.Keys(c.file.AuthConfigs)) {
		h := credentials.ConvertToHostname(key)
		if h == host || (host == name.DefaultRegistry && h == "docker.io") {
			return c.file.AuthConfigs[key], true
		}
	}
	return types.AuthConfig{}, false
}
