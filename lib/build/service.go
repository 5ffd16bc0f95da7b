package build

import (
	"context"
	"io"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/registry"
)

// Service runs the build operations of one configuration against one cluster.
type Service struct {
	client    kubernetes.Interface
	cfg       config.Config
	log       logrus.FieldLogger
	now       func() time.Time
	transport registryTransport
}

// registryTransport lets tests reach an in-process registry; nil means the default.
type registryTransport = []registry.Option

// Option configures a Service.
type Option func(*Service)

// WithLogger sets the logger (default: discard).
func WithLogger(l logrus.FieldLogger) Option { return func(s *Service) { s.log = l } }

// WithClock sets the clock (default: time.Now).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithRegistryOptions adds options to every registry client the Service makes.
func WithRegistryOptions(opts ...registry.Option) Option {
	return func(s *Service) { s.transport = append(s.transport, opts...) }
}

// NewService returns a Service over client with the given configuration.
func NewService(client kubernetes.Interface, cfg config.Config, opts ...Option) *Service {
	discard := logrus.New()
	discard.SetOutput(io.Discard)
	s := &Service{client: client, cfg: cfg, log: discard, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// registryAccess is the registry as one call sees it: hosts and a client
// holding the push credentials.
type registryAccess struct {
	hosts  registry.Hosts
	client *registry.Client
	secret string
}

// registry resolves the hosts and loads the credentials of the configured Secret.
func (s *Service) registry(ctx context.Context) (registryAccess, error) {
	hosts, err := registry.ResolveHosts(ctx, s.client, s.cfg.Namespace, s.cfg.RegistryPushHost, s.cfg.RegistryPullHost)
	if err != nil {
		return registryAccess{}, err
	}
	creds, err := registry.LoadSecret(ctx, s.client, s.cfg.Namespace, s.cfg.RegistrySecret)
	if err != nil {
		return registryAccess{}, err
	}
	opts := append([]registry.Option{registry.WithKeychain(creds)}, s.transport...)
	if s.cfg.RegistryInsecure {
		opts = append(opts, registry.WithInsecure(hosts.Push, hosts.Pull))
	}
	return registryAccess{hosts: hosts, client: registry.New(opts...), secret: s.cfg.RegistrySecret}, nil
}

// insecureRegistries are the hosts Kaniko reaches over plain HTTP.
func (s *Service) insecureRegistries(h registry.Hosts) []string {
	if !s.cfg.RegistryInsecure {
		return nil
	}
	if h.Pull != h.Push {
		return []string{h.Push, h.Pull}
	}
	return []string{h.Push}
}
