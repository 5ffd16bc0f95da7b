package imagestore

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Scoped answers with kc for the registries of hosts ("host[:port]", or a
// push host with a path) and anonymously for every other: credentials
// never travel to a registry they were not given for, whatever the
// docker config they come from also holds.
func Scoped(kc authn.Keychain, hosts ...string) authn.Keychain {
	s := scoped{kc: kc, registries: map[string]bool{}}
	for _, h := range hosts {
		if r := RegistryOf(h); r != "" {
			s.registries[r] = true
		}
	}
	return s
}

type scoped struct {
	kc         authn.Keychain
	registries map[string]bool
}

// Resolve implements authn.Keychain.
func (s scoped) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if !s.registries[r.RegistryStr()] {
		return authn.Anonymous, nil
	}
	return s.kc.Resolve(r)
}

// Static answers every registry with auth: for credentials given for one
// registry, which the caller scopes to it (Scoped, or a keychain of its own).
func Static(auth authn.Authenticator) authn.Keychain { return static{auth: auth} }

type static struct{ auth authn.Authenticator }

// Resolve implements authn.Keychain.
func (s static) Resolve(authn.Resource) (authn.Authenticator, error) { return s.auth, nil }

// RegistryOf returns the registry ("host[:port]", as go-containerregistry
// spells it) of a host or a push host with a path, "" when it is none.
func RegistryOf(host string) string {
	first, _, _ := strings.Cut(host, "/")
	r, err := name.NewRegistry(first)
	if err != nil {
		return ""
	}
	return r.RegistryStr()
}
