package openwhisk

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/apache/openwhisk-client-go/whisk"

	"github.com/apache/openserverless-deployer/lib/identity"
)

// DefaultTimeout bounds one verification when neither Timeout nor an
// HTTPClient with a timeout is given: well under the 60 s a web call may
// wait, so an API host that hangs is answered 503 in time.
const DefaultTimeout = 5 * time.Second

// Namespaces verifies OpenWhisk keys by listing the namespaces of the key
// against the API host.
type Namespaces struct {
	// HTTPClient sends the requests; nil means a client with the default
	// transport. It is never modified.
	HTTPClient *http.Client
	// Timeout bounds one verification, every request of it; zero means the
	// HTTPClient's own timeout, or DefaultTimeout when it has none.
	Timeout time.Duration
	// Insecure skips TLS certificate verification of the API host. It applies
	// to an *http.Transport (the default); another RoundTripper is used as is.
	Insecure bool
}

// Verify returns the first namespace of the subject that owns token
// ("uuid:key") on the API host at apiHost, which may be "https://host",
// "http://127.0.0.1:port" or a bare host (https is then assumed). A key
// OpenWhisk rejects gives an error wrapping identity.ErrRejected; anything
// else that is not an answer gives one wrapping identity.ErrUnavailable.
// Errors never hold the token.
func (n Namespaces) Verify(ctx context.Context, apiHost, token string) (string, error) {
	host := strings.TrimRight(strings.TrimSpace(apiHost), "/")
	if host == "" {
		return "", errors.New("verifying a key: no OpenWhisk API host configured")
	}
	httpClient, done := n.client(ctx)
	defer done()
	// whisk.NewClient builds "<host>/api" and falls back to https:// when the
	// host has no scheme. Insecure stays false in its Config: with it set the
	// client would replace the transport, and with it the context binding.
	client, err := whisk.NewClient(httpClient, &whisk.Config{
		Host:      host,
		AuthToken: token,
		Namespace: "_",
	})
	if err != nil {
		return "", fmt.Errorf("verifying a key against %s: %w", host, err)
	}
	namespaces, resp, err := client.Namespaces.List()
	switch {
	case resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
		return "", fmt.Errorf("verifying a key against %s: %w", host, identity.ErrRejected)
	case ctx.Err() != nil:
		return "", fmt.Errorf("verifying a key against %s: %w: %w", host, identity.ErrUnavailable, ctx.Err())
	case err != nil && resp != nil:
		return "", fmt.Errorf("verifying a key against %s: %w: HTTP %d", host, identity.ErrUnavailable, resp.StatusCode)
	case err != nil:
		return "", fmt.Errorf("verifying a key against %s: %w: %w", host, identity.ErrUnavailable, err)
	}
	for _, ns := range namespaces {
		if ns.Name != "" {
			return ns.Name, nil
		}
	}
	// Every OpenWhisk subject has a namespace: an empty or unreadable list
	// is not an answer about the key.
	return "", fmt.Errorf("verifying a key against %s: %w: no namespace in the answer", host, identity.ErrUnavailable)
}

// client returns an HTTP client for one verification: a copy of HTTPClient
// whose requests carry ctx (the OpenWhisk client takes no context), and a
// function that releases what the copy alone holds.
func (n Namespaces) client(ctx context.Context) (*http.Client, func()) {
	c := &http.Client{}
	if n.HTTPClient != nil {
		copied := *n.HTTPClient
		c = &copied
	}
	switch {
	case n.Timeout > 0:
		c.Timeout = n.Timeout
	case c.Timeout <= 0:
		c.Timeout = DefaultTimeout
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	done := func() {}
	if n.Insecure {
		if t, ok := base.(*http.Transport); ok {
			t = t.Clone()
			if t.TLSClientConfig == nil {
				t.TLSClientConfig = &tls.Config{}
			}
			t.TLSClientConfig.InsecureSkipVerify = true
			base, done = t, t.CloseIdleConnections
		}
	}
	c.Transport = contextTransport{ctx: ctx, base: base}
	return c, done
}

// contextTransport gives every request the context of the verification.
type contextTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t contextTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}
