package imagestore

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Keychain gives credentials to the registries they were granted for, and
// to no other: a docker config that also holds entries for other hosts
// never sends them there. Each registry gets the first grant that names it
// and has credentials for it; a registry no grant answers for is anonymous.
// The zero Keychain is anonymous everywhere.
type Keychain struct{ grants []grant }

type grant struct {
	registries map[string]bool
	kc         authn.Keychain
}

// Grant returns k with kc granted to the registries of hosts ("host[:port]",
// or a push host with a path), after the grants k already has.
func (k Keychain) Grant(kc authn.Keychain, hosts ...string) Keychain {
	g := grant{registries: map[string]bool{}, kc: kc}
	for _, h := range hosts {
		if r := RegistryOf(h); r != "" {
			g.registries[r] = true
		}
	}
	return Keychain{grants: append(k.grants[:len(k.grants):len(k.grants)], g)}
}

// Resolve implements authn.Keychain.
func (k Keychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	for _, g := range k.grants {
		if !g.registries[r.RegistryStr()] {
			continue
		}
		auth, err := g.kc.Resolve(r)
		if err != nil || auth != authn.Anonymous {
			return auth, err
		}
	}
	return authn.Anonymous, nil
}

// Basic is a username and password, for a Keychain to grant to the
// registries they were given for.
func Basic(username, password string) authn.Keychain {
	return static{auth: &authn.Basic{Username: username, Password: password}}
}

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
