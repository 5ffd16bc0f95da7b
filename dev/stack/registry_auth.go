package stack

import (
	"encoding/base64"
	"encoding/json"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Auth is basic authentication as the admin user, for go-containerregistry.
func (r *Registry) Auth() authn.Authenticator {
	return &authn.Basic{Username: r.User, Password: r.Password}
}

// DockerConfigJSON is a Docker config.json (the .dockerconfigjson of a
// kubernetes.io/dockerconfigjson Secret) holding the admin user's credentials
// for Host.
func (r *Registry) DockerConfigJSON() []byte {
	type entry struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Auth     string `json:"auth"`
	}
	data, err := json.Marshal(map[string]map[string]entry{"auths": {r.Host: {
		Username: r.User,
		Password: r.Password,
		Auth:     base64.StdEncoding.EncodeToString([]byte(r.User + ":" + r.Password)),
	}}})
	if err != nil {
		panic(err) // strings only: cannot fail
	}
	return data
}
