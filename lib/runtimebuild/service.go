package runtimebuild

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/imagestore"
)

// Service runs the build operations of one configuration against one cluster.
type Service struct {
	client kubernetes.Interface
	cfg    config.Config
	log    logrus.FieldLogger
	now    func() time.Time
	// registryOpts are added to every registry client the Service makes
	// (tests point them at an in-process registry).
	registryOpts []imagestore.Option
}

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger (default: discard).
func WithLogger(l logrus.FieldLogger) Option { return func(s *Service) { s.log = l } }

// WithClock sets the clock (default: time.Now).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithRegistryOptions adds options to every registry client the Service makes.
func WithRegistryOptions(opts ...imagestore.Option) Option {
	return func(s *Service) { s.registryOpts = append(s.registryOpts, opts...) }
}

// NewService returns a Service over client with the given configuration.
func NewService(client kubernetes.Interface, cfg config.Config, opts ...Option) *Service {
	discard := logrus.New()
	discard.SetOutput(io.Discard)
	s := &Service{client: client, cfg: cfg, log: discard, now: time.Now,
		// Every registry call is bounded, so a hung registry is a 503 in time.
		registryOpts: []imagestore.Option{imagestore.WithTimeout(cfg.RegistryTimeout)}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// registryAccess is the registry as one call sees it: hosts and a client
// holding the credentials for them.
type registryAccess struct {
	// hosts are where the build pushes and users pull: the platform's, or
	// the user's own registry.
	hosts  imagestore.Hosts
	client *imagestore.Client
	// pushSecret is the existing Secret the push step mounts; "" for none.
	pushSecret string
	// platform are the platform's hosts, which alone may be plain HTTP.
	platform imagestore.Hosts
	// userHost is the user's own registry (REGISTRY_HOST), "" for the platform's.
	userHost string
	// credentials, when set, go to a temporary Secret the push step mounts
	// (REGISTRY_SECRET "user:password").
	credentials *pushCredentials
}

// registry resolves the hosts and loads the credentials of the configured Secret.
func (s *Service) registry(ctx context.Context) (registryAccess, error) {
	hosts, client, err := s.PlatformRegistry(ctx)
	if err != nil {
		return registryAccess{}, err
	}
	return registryAccess{hosts: hosts, client: client, pushSecret: s.cfg.RegistrySecret, platform: hosts}, nil
}

// Registry returns where user's builds push and are pulled from — the
// user's own registry when their settings name one, else the platform's —
// and a client holding the credentials for it: the registry as the user's
// builds see it, for the operations on the built images.
func (s *Service) Registry(ctx context.Context, user string) (imagestore.Hosts, *imagestore.Client, error) {
	reg, err := s.registryFor(ctx, user)
	if err != nil {
		return imagestore.Hosts{}, nil, err
	}
	return reg.hosts, reg.client, nil
}

// PlatformRegistry returns the registry hosts of the configuration and a
// client holding the credentials of its dockerconfigjson Secret for those
// hosts (and for no other registry the Secret may name), plain HTTP
// for both hosts when registry_insecure is set.
func (s *Service) PlatformRegistry(ctx context.Context) (imagestore.Hosts, *imagestore.Client, error) {
	hosts, creds, err := s.platform(ctx)
	if err != nil {
		return imagestore.Hosts{}, nil, err
	}
	opts := append([]imagestore.Option{imagestore.WithKeychain(imagestore.Scoped(creds, hosts.Push, hosts.Pull))}, s.registryOpts...)
	if s.cfg.RegistryInsecure {
		opts = append(opts, imagestore.WithInsecure(hosts.Push, hosts.Pull))
	}
	return hosts, imagestore.New(opts...), nil
}

// platform resolves the platform's registry hosts and loads the credentials
// of its dockerconfigjson Secret. The two reads go to the API server at
// once: every request that touches the registry waits for both.
func (s *Service) platform(ctx context.Context) (imagestore.Hosts, *imagestore.Credentials, error) {
	var creds *imagestore.Credentials
	var credErr error
	var loaded sync.WaitGroup
	loaded.Go(func() { creds, credErr = imagestore.LoadSecret(ctx, s.client, s.cfg.Namespace, s.cfg.RegistrySecret) })
	hosts, err := s.platformHosts(ctx)
	loaded.Wait()
	if err != nil {
		return imagestore.Hosts{}, nil, err
	}
	if credErr != nil {
		return imagestore.Hosts{}, nil, credErr
	}
	return hosts, creds, nil
}

// insecureRegistries are the hosts Kaniko reaches over plain HTTP.
func (s *Service) insecureRegistries(h imagestore.Hosts) []string {
	if !s.cfg.RegistryInsecure {
		return nil
	}
	if h.Pull != h.Push {
		return []string{h.Push, h.Pull}
	}
	return []string{h.Push}
}

// platformHosts resolves the platform registry's push and pull hosts from
// the settings, then the operator's "config" ConfigMap.
func (s *Service) platformHosts(ctx context.Context) (imagestore.Hosts, error) {
	return imagestore.ResolveHosts(ctx, s.client, s.cfg.Namespace, s.cfg.RegistryPushHost, s.cfg.RegistryPullHost)
}
