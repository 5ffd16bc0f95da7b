package imagestore

import (
	"context"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Client reads and changes images in registries with one set of credentials.
type Client struct {
	keychain  authn.Keychain
	insecure  map[string]bool
	transport http.RoundTripper
	// timeout bounds one operation; maxAnswer one answer's body.
	timeout   time.Duration
	maxAnswer int64
	// sharedTransport is set when the Client uses the process's transport
	// for its timeout, whose authenticated Pullers it may then reuse.
	sharedTransport bool
}

// Option configures a Client.
type Option func(*Client)

// WithKeychain sets the credentials (default: anonymous).
func WithKeychain(k authn.Keychain) Option { return func(c *Client) { c.keychain = k } }

// WithInsecure marks registry hosts reached over plain HTTP (the internal
// registry). Loopback hosts are plain HTTP anyway, as go-containerregistry
// treats them.
func WithInsecure(hosts ...string) Option {
	return func(c *Client) {
		for _, h := range hosts {
			if h != "" {
				c.insecure[h] = true
			}
		}
	}
}

// WithTransport sets the HTTP transport (default: remote.DefaultTransport
// with its dial, TLS handshake and response header waits bounded by the
// timeout). Answers are cut off at MaxAnswer whichever transport is used.
func WithTransport(t http.RoundTripper) Option { return func(c *Client) { c.transport = t } }

// WithTimeout bounds each operation of the Client, every request it makes
// included (default DefaultTimeout); zero or less keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// New returns a Client with the options applied over the defaults.
func New(opts ...Option) *Client {
	c := &Client{keychain: authn.NewMultiKeychain(), insecure: map[string]bool{}, timeout: DefaultTimeout, maxAnswer: MaxAnswer}
	for _, o := range opts {
		o(c)
	}
	if c.transport == nil {
		c.transport = boundedTransport(c.timeout)
		c.sharedTransport = true
	}
	c.transport = limitTransport{base: c.transport, max: c.maxAnswer}
	return c
}

// Insecure reports whether host is reached over plain HTTP by configuration.
func (c *Client) Insecure(host string) bool { return c.insecure[host] }

// ParseReference parses an image reference, plain HTTP for insecure hosts.
func (c *Client) ParseReference(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if c.insecure[r.Context().RegistryStr()] {
		return name.ParseReference(ref, name.Insecure)
	}
	return r, nil
}

// Repository parses a repository name, plain HTTP for insecure hosts.
func (c *Client) Repository(repo string) (name.Repository, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return name.Repository{}, err
	}
	if c.insecure[r.RegistryStr()] {
		return name.NewRepository(repo, name.Insecure)
	}
	return r, nil
}

// remote is the options of one call to reg: the context, the credentials
// and transport, and the process's Puller for them when there is one.
func (c *Client) remote(ctx context.Context, reg name.Registry) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(c.keychain), remote.WithTransport(c.transport)}
	return append(opts, c.reuse(ctx, reg)...)
}
