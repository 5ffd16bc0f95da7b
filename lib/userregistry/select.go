package userregistry

import (
	"context"
	"sync"

	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/imagestore"
)

// Registry is where one user's builds push and their images are pulled
// from, with what the deployer and the Job's steps reach it with.
type Registry struct {
	// Store is the registry's hosts and a client holding the credentials
	// the deployer reads and deletes the user's images with.
	imagestore.Store
	// Platform are the platform's hosts, which alone may be plain HTTP.
	Platform imagestore.Hosts
	// Insecure are the hosts the build reaches over plain HTTP: the
	// platform's, when registry_insecure is set.
	Insecure []string
	// UserHost is the user's own registry (REGISTRY_HOST), "" for the platform's.
	UserHost string
	// PushSecret is the existing Secret the push step mounts; "" for none.
	PushSecret string
	// PushCredentials, when set, go to a temporary Secret the push step
	// mounts instead (REGISTRY_SECRET "user:password"). Behind a pointer
	// to unexported fields, printing a Registry never shows them.
	PushCredentials *imagestore.Credentials
}

// Selector chooses registries for one configuration against one cluster.
type Selector struct {
	client kubernetes.Interface
	cfg    config.Config
	opts   []imagestore.Option
	reuse  bool
}

// New returns a Selector. Every client it makes is bounded by the
// configured registry timeout and gets opts (tests point them at an
// in-process registry).
func New(client kubernetes.Interface, cfg config.Config, opts ...imagestore.Option) *Selector {
	// Every registry call is bounded, so a hung registry is a 503 in time.
	all := append([]imagestore.Option{imagestore.WithTimeout(cfg.RegistryTimeout)}, opts...)
	return &Selector{client: client, cfg: cfg, opts: all}
}

// Reusing makes the selector reuse the platform's settings a warm process
// read less than PlatformTTL ago (cache.go), for the builds: a start or an
// ensure makes calls to the API server of its own, so a fault there is
// still answered as one. The images operation reads them every time: the
// API server is the only dependency it has beside the registry.
func (s *Selector) Reusing() *Selector {
	s.reuse = true
	return s
}

// Platform is the platform's registry: the hosts of the configuration and
// a client holding the credentials of its dockerconfigjson Secret for
// those hosts (and for no other registry the Secret may name), plain HTTP
// for both hosts when registry_insecure is set.
func (s *Selector) Platform(ctx context.Context) (Registry, error) {
	hosts, creds, err := s.platform(ctx)
	if err != nil {
		return Registry{}, err
	}
	return s.platformRegistry(hosts, imagestore.Keychain{}.Grant(creds, hosts.Push, hosts.Pull)), nil
}

// platformRegistry is the platform's registry reached with keychain.
func (s *Selector) platformRegistry(hosts imagestore.Hosts, keychain imagestore.Keychain) Registry {
	r := Registry{Platform: hosts, PushSecret: s.cfg.RegistrySecret}
	opts := append([]imagestore.Option{imagestore.WithKeychain(keychain)}, s.opts...)
	if s.cfg.RegistryInsecure {
		opts = append(opts, imagestore.WithInsecure(hosts.Push, hosts.Pull))
		r.Insecure = []string{hosts.Push}
		if hosts.Pull != hosts.Push {
			r.Insecure = append(r.Insecure, hosts.Pull)
		}
	}
	r.Store = imagestore.Store{Hosts: hosts, Client: imagestore.New(opts...)}
	return r
}

// PlatformHosts resolves the platform registry's push and pull hosts from
// the settings, then the operator's "config" ConfigMap.
func (s *Selector) PlatformHosts(ctx context.Context) (imagestore.Hosts, error) {
	return ResolveHosts(ctx, s.client, s.cfg.Namespace, s.cfg.RegistryPushHost, s.cfg.RegistryPullHost)
}

// platform resolves the platform's registry hosts and loads the credentials
// of its dockerconfigjson Secret. The two reads go to the API server at
// once: every request that touches the registry waits for both. A
// Reusing selector reuses them for PlatformTTL.
func (s *Selector) platform(ctx context.Context) (imagestore.Hosts, *imagestore.Credentials, error) {
	var k platformKey
	keyed := false
	if s.reuse {
		k, keyed = s.key()
	}
	if keyed {
		if r, ok := cachedPlatform(k); ok {
			return r.hosts, r.creds, nil
		}
	}
	began := now()
	var creds *imagestore.Credentials
	var credErr error
	var loaded sync.WaitGroup
	loaded.Go(func() { creds, credErr = LoadSecret(ctx, s.client, s.cfg.Namespace, s.cfg.RegistrySecret) })
	hosts, err := s.PlatformHosts(ctx)
	loaded.Wait()
	if err != nil {
		return imagestore.Hosts{}, nil, err
	}
	if credErr != nil {
		return imagestore.Hosts{}, nil, credErr
	}
	if keyed {
		keepPlatform(k, platformRead{client: s.client, hosts: hosts, creds: creds, at: began})
	}
	return hosts, creds, nil
}
