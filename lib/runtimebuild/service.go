package runtimebuild

import (
	"io"
	"time"

	"github.com/sirupsen/logrus"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/userregistry"
)

// Service runs the build operations of one configuration against one cluster.
type Service struct {
	client kubernetes.Interface
	cfg    config.Config
	log    logrus.FieldLogger
	now    func() time.Time
	// registries chooses the registry of each user's builds.
	registries *userregistry.Selector
	// registryOpts are added to every registry client the Service makes
	// (tests point them at an in-process registry).
	registryOpts []imagestore.Option
	// resolvConf is the deployer's own resolver configuration, which the
	// steps that hold a credential resolve names with (buildjob.Plan).
	resolvConf string
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

// WithResolvConf reads the resolver configuration the credential steps get
// from path instead of /etc/resolv.conf.
func WithResolvConf(path string) Option { return func(s *Service) { s.resolvConf = path } }

// NewService returns a Service over client with the given configuration.
func NewService(client kubernetes.Interface, cfg config.Config, opts ...Option) *Service {
	discard := logrus.New()
	discard.SetOutput(io.Discard)
	s := &Service{client: client, cfg: cfg, log: discard, now: time.Now, resolvConf: "/etc/resolv.conf"}
	for _, o := range opts {
		o(s)
	}
	s.registries = userregistry.New(client, cfg, s.registryOpts...).Reusing()
	return s
}
