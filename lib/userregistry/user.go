package userregistry

import (
	"context"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/userenv"
)

// The keys of a user's environment that choose the registry of the user's
// builds, as OpenServerless names them.
const (
	// EnvRegistryHost is the user's own registry, "host[:port][/path]".
	EnvRegistryHost = "REGISTRY_HOST"
	// EnvRegistrySecret is the name of a dockerconfigjson Secret made for
	// the user, or "<user>:<password>" for the push registry.
	EnvRegistrySecret = "REGISTRY_SECRET"
)

// ForUser is the registry of user's builds. Without CouchDB configured, or
// without registry settings in the user's environment, it is the
// platform's. With REGISTRY_HOST the build pushes there and users pull from
// there; REGISTRY_SECRET gives the credentials for the push registry: a
// Secret made for the user, mounted in the push step instead of the
// platform's, or "user:password", written to a temporary Secret the Job
// owns. The platform's credentials stay with the platform's hosts: a
// REGISTRY_HOST inside the platform's registry but outside the user's own
// repository is refused, and a user's registry without a Secret of theirs
// is pushed to anonymously. Nothing read from the environment is logged or
// put in an error message.
func (s *Selector) ForUser(ctx context.Context, user string) (Registry, error) {
	if s.cfg.CouchURL == "" {
		return s.Platform(ctx)
	}
	env, err := userenv.Lookup(ctx, userenv.Settings{URL: s.cfg.CouchURL, User: s.cfg.CouchUser, Password: s.cfg.CouchPassword}, user)
	if err != nil {
		return Registry{}, err
	}
	host := strings.TrimRight(strings.TrimSpace(env[EnvRegistryHost]), "/")
	secret := strings.TrimSpace(env[EnvRegistrySecret])
	if host == "" && secret == "" {
		return s.Platform(ctx)
	}

	platform, platformCreds, err := s.platform(ctx)
	if err != nil {
		return Registry{}, err
	}
	hosts, userHost := platform, ""
	if host != "" {
		if inPlatform(host, platform) {
			// The platform's own host, written as the user's, is the platform
			// registry; any path below it is someone else's repository.
			if host != platform.Push && host != platform.Pull {
				return Registry{}, fault.New(fault.Invalid, "RegistryHostRefused",
					"%s in the user environment points into the platform registry outside your own repository", EnvRegistryHost)
			}
		} else {
			hosts, userHost = imagestore.Hosts{Push: host, Pull: host}, host
		}
	}
	pushRegistry, err := registryOf(hosts.Push)
	if err != nil {
		return Registry{}, err
	}

	var own authn.Keychain
	var pushCredentials *imagestore.Credentials
	pushSecret := s.cfg.RegistrySecret
	if userHost != "" {
		// A registry of the user's never gets the platform's Secret.
		pushSecret = ""
	}
	switch {
	case secret == "":
		// The platform's Secret for the platform's registry; nothing for a
		// registry of the user's.
	case strings.Contains(secret, ":"):
		username, password, _ := strings.Cut(secret, ":")
		if username == "" || password == "" {
			return Registry{}, invalidRegistrySecret()
		}
		if pushCredentials, err = temporaryConfig(pushRegistry, username, password); err != nil {
			return Registry{}, err
		}
		own = imagestore.Basic(username, password)
	default:
		creds, err := s.userSecret(ctx, user, secret)
		if err != nil {
			return Registry{}, err
		}
		pushSecret, own = secret, creds
	}

	// The user's own credentials answer for the push registry when they
	// have some for it; the platform's Secret answers for the platform's
	// hosts, and nothing else.
	keychain := imagestore.Keychain{}
	if own != nil {
		keychain = keychain.Grant(own, pushRegistry.RegistryStr())
	}
	reg := s.platformRegistry(platform, keychain.Grant(platformCreds, platform.Push, platform.Pull))
	// Only the platform's registry is plain HTTP by configuration; the
	// user's is reached over HTTPS, unless it is on loopback (or a private
	// address), where go-containerregistry falls back to HTTP by itself.
	reg.Hosts, reg.UserHost, reg.PushSecret, reg.PushCredentials = hosts, userHost, pushSecret, pushCredentials
	return reg, nil
}

// inPlatform reports whether host is on one of the platform's registries.
func inPlatform(host string, platform imagestore.Hosts) bool {
	r := imagestore.RegistryOf(host)
	return r != "" && (r == imagestore.RegistryOf(platform.Push) || r == imagestore.RegistryOf(platform.Pull))
}
