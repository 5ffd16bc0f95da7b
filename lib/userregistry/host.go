package userregistry

import (
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// registryHost is a registry's "host[:port]": DNS labels or an IPv4
// address, and a port.
var registryHost = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$`)

// registryOf parses the registry of a push host ("host[:port][/path]"). A
// first component that is no registry host ("team/x", which would mean
// Docker Hub) is refused, and so is anything that is not a repository prefix.
func registryOf(host string) (name.Registry, error) {
	first, _, _ := strings.Cut(host, "/")
	reg, errReg := name.NewRegistry(first, name.StrictValidation)
	repo, errRepo := name.NewRepository(host+"/user", name.StrictValidation)
	if !registryHost.MatchString(first) || errReg != nil || errRepo != nil || repo.RegistryStr() != reg.RegistryStr() {
		// The value is not repeated: it is the user's, and could hold anything.
		return name.Registry{}, fault.New(fault.Invalid, "InvalidRegistryHost",
			"%s in the user environment is not a registry host such as registry.example.com or registry.example.com:5000/team", EnvRegistryHost)
	}
	return reg, nil
}
