package runtimebuild

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/kube"
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

// registryFor is the registry of user's builds. Without CouchDB configured,
// or without registry settings in the user's environment, it is the
// platform's. With REGISTRY_HOST the build pushes there and users pull from
// there; REGISTRY_SECRET gives the credentials for the push registry: a
// Secret made for the user, mounted in the push step instead of the
// platform's, or "user:password", written to a temporary Secret the Job
// owns. The platform's credentials stay with the platform's hosts: a
// REGISTRY_HOST inside the platform's registry but outside the user's own
// repository is refused, and a user's registry without a Secret of theirs
// is pushed to anonymously. Nothing read from the environment is logged or
// put in an error message.
func (s *Service) registryFor(ctx context.Context, user string) (registryAccess, error) {
	if s.cfg.CouchURL == "" {
		return s.registry(ctx)
	}
	env, err := userenv.Lookup(ctx, userenv.Settings{URL: s.cfg.CouchURL, User: s.cfg.CouchUser, Password: s.cfg.CouchPassword}, user)
	if err != nil {
		return registryAccess{}, err
	}
	host := strings.TrimRight(strings.TrimSpace(env[EnvRegistryHost]), "/")
	secret := strings.TrimSpace(env[EnvRegistrySecret])
	if host == "" && secret == "" {
		return s.registry(ctx)
	}

	platform, platformCreds, err := s.platform(ctx)
	if err != nil {
		return registryAccess{}, err
	}
	reg := registryAccess{hosts: platform, platform: platform, pushSecret: s.cfg.RegistrySecret}
	if host != "" {
		if inPlatform(host, platform) {
			// The platform's own host, written as the user's, is the platform
			// registry; any path below it is someone else's repository.
			if host != platform.Push && host != platform.Pull {
				return registryAccess{}, fault.New(fault.Invalid, "RegistryHostRefused",
					"%s in the user environment points into the platform registry outside your own repository", EnvRegistryHost)
			}
		} else {
			reg.hosts = imagestore.Hosts{Push: host, Pull: host}
			reg.userHost = host
			reg.pushSecret = ""
		}
	}
	pushRegistry, err := registryOf(reg.hosts.Push)
	if err != nil {
		return registryAccess{}, err
	}

	var own authn.Keychain
	switch {
	case secret == "":
		// The platform's Secret for the platform's registry; nothing for a
		// registry of the user's.
	case strings.Contains(secret, ":"):
		username, password, _ := strings.Cut(secret, ":")
		if username == "" || password == "" {
			return registryAccess{}, invalidRegistrySecret()
		}
		config, err := temporaryConfig(pushRegistry, username, password)
		if err != nil {
			return registryAccess{}, err
		}
		reg.credentials = &pushCredentials{config: config}
		own = imagestore.Static(&authn.Basic{Username: username, Password: password})
	default:
		creds, err := s.userSecret(ctx, user, secret)
		if err != nil {
			return registryAccess{}, err
		}
		reg.pushSecret = secret
		own = creds
	}

	opts := append([]imagestore.Option{imagestore.WithKeychain(hostKeychain{
		host: pushRegistry.RegistryStr(), own: own, platform: imagestore.Scoped(platformCreds, platform.Push, platform.Pull),
	})}, s.registryOpts...)
	// Only the platform's registry is plain HTTP by configuration; the
	// user's is reached over HTTPS, unless it is on loopback (or a private
	// address), where go-containerregistry falls back to HTTP by itself.
	if s.cfg.RegistryInsecure {
		opts = append(opts, imagestore.WithInsecure(platform.Push, platform.Pull))
	}
	reg.client = imagestore.New(opts...)
	return reg, nil
}

// inPlatform reports whether host is on one of the platform's registries.
func inPlatform(host string, platform imagestore.Hosts) bool {
	r := imagestore.RegistryOf(host)
	return r != "" && (r == imagestore.RegistryOf(platform.Push) || r == imagestore.RegistryOf(platform.Pull))
}

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

func invalidRegistrySecret() error {
	return fault.New(fault.Invalid, "InvalidRegistrySecret",
		"%s in the user environment must name a Secret or be <user>:<password>", EnvRegistrySecret)
}

// userSecret checks that the Secret named in the user's environment is
// there for the user: a dockerconfigjson Secret in the build namespace
// labelled with the user, and not one the deployer made for a build. Every
// refusal reads the same, so the answer does not tell whether it exists.
func (s *Service) userSecret(ctx context.Context, user, secretName string) (*imagestore.Credentials, error) {
	if len(validation.IsDNS1123Subdomain(secretName)) > 0 {
		return nil, invalidRegistrySecret()
	}
	refused := fault.New(fault.Invalid, "RegistrySecretRefused", "Registry secret %s is not available to this user", secretName)
	sec, err := s.client.CoreV1().Secrets(s.cfg.Namespace).Get(ctx, secretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, refused
	}
	if err != nil {
		return nil, kube.Error(err, "reading registry secret %s", secretName)
	}
	if sec.Type != corev1.SecretTypeDockerConfigJson || sec.Labels[LabelUser] != user ||
		sec.Labels[LabelComponent] == Component || sec.DeletionTimestamp != nil {
		return nil, refused
	}
	creds, err := imagestore.ParseDockerConfig(sec.Data[corev1.DockerConfigJsonKey])
	if err != nil {
		return nil, refused
	}
	return creds, nil
}

// temporaryConfig is the docker config.json of the temporary Secret for
// "user:password": the user's credentials for the push registry, and
// nothing else. The push step alone mounts it.
func temporaryConfig(push name.Registry, username, password string) ([]byte, error) {
	// Docker Hub's entry has a key of its own, the one docker login writes.
	key := push.RegistryStr()
	if key == name.DefaultRegistry {
		key = authn.DefaultAuthKey
	}
	auths := map[string]any{key: map[string]string{
		"username": username,
		"password": password,
		"auth":     base64.StdEncoding.EncodeToString([]byte(username + ":" + password)),
	}}
	config, err := json.Marshal(map[string]any{"auths": auths})
	if err != nil {
		return nil, fmt.Errorf("encoding registry credentials: %w", err)
	}
	return config, nil
}

// hostKeychain answers for host with own (when it knows host), and for
// every host, host included otherwise, with platform (scoped to the
// platform's hosts).
type hostKeychain struct {
	host     string
	own      authn.Keychain
	platform authn.Keychain
}

// Resolve implements authn.Keychain.
func (k hostKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if k.own != nil && r.RegistryStr() == k.host {
		auth, err := k.own.Resolve(r)
		if err != nil || auth != authn.Anonymous {
			return auth, err
		}
	}
	return k.platform.Resolve(r)
}
