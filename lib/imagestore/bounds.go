package imagestore

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultTimeout bounds one registry operation (every request it makes,
// retries included) when no WithTimeout is given.
const DefaultTimeout = 5 * time.Second

// MaxAnswer bounds the body of any registry answer the deployer reads:
// manifests, indexes, image configs and tag lists are kilobytes, and a
// registry that sends more is cut off rather than read into memory. The
// deployer never downloads layers.
const MaxAnswer = 4 << 20

// ErrAnswerTooLarge means a registry answer was longer than MaxAnswer.
var ErrAnswerTooLarge = fmt.Errorf("registry answer exceeds %d bytes", MaxAnswer)

// bound gives one operation its deadline; ctx's own, when sooner, stays.
func (c *Client) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}

// transports are shared by the Clients of one timeout, so a warm process
// keeps reusing its connections across activations instead of leaving a
// transport with idle connections behind on every call.
var transports sync.Map // time.Duration → http.RoundTripper

// boundedTransport is remote.DefaultTransport with each step of a request
// bounded by timeout: a registry that accepts the connection and then says
// nothing (a stopped process, a full backlog) is given up on instead of
// holding the request until the activation's deadline.
func boundedTransport(timeout time.Duration) http.RoundTripper {
	if t, ok := transports.Load(timeout); ok {
		return t.(http.RoundTripper)
	}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   50,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
	got, _ := transports.LoadOrStore(timeout, t)
	return got.(http.RoundTripper)
}

// limitTransport cuts every answer's body off after max bytes.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	// A declared length over the limit is refused before anything is read.
	if resp.ContentLength > t.max {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("%s %s: %w (Content-Length %d)", r.Method, r.URL.Redacted(), ErrAnswerTooLarge, resp.ContentLength)
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

// limitedBody fails the read that goes past the limit, so a caller never
// mistakes a cut-off answer for a complete one.
type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One more byte tells an answer of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrAnswerTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
