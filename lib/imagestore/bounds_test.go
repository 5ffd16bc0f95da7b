package imagestore

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// silentRegistry accepts connections on 127.0.0.1 and never answers, as a
// stopped registry process does: the kernel completes the handshake and
// nobody reads.
func silentRegistry(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l.Addr().String()
}

// stallingRegistry answers /v2/ and sends the headers of every other
// answer, then nothing more until the test ends.
func stallingRegistry(t *testing.T) string {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", "sha256:"+strings.Repeat("a", 64))
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-done:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return strings.TrimPrefix(srv.URL, "http://")
}

// operations are every Client operation that talks to a registry, each
// against host.
func operations(host string) map[string]func(ctx context.Context, c *Client) error {
	return map[string]func(ctx context.Context, c *Client) error{
		"Resolve": func(ctx context.Context, c *Client) error { _, err := c.Resolve(ctx, host+"/alice:t"); return err },
		"Digest":  func(ctx context.Context, c *Client) error { _, _, err := c.Digest(ctx, host+"/alice:t"); return err },
		"Inspect": func(ctx context.Context, c *Client) error { _, err := c.Inspect(ctx, host+"/alice:t"); return err },
		"Tags":    func(ctx context.Context, c *Client) error { _, err := c.Tags(ctx, host+"/alice"); return err },
		"Catalog": func(ctx context.Context, c *Client) error { _, err := c.Catalog(ctx, host); return err },
		"DeleteTag": func(ctx context.Context, c *Client) error {
			_, _, err := c.DeleteTag(ctx, host+"/alice", "t")
			return err
		},
	}
}

// A registry that hangs, before or after its headers, or refuses the
// connection answers every operation within its timeout: Unavailable.
func TestEveryOperationIsBoundedByTheTimeout(t *testing.T) {
	servers := map[string]string{
		"silent":   silentRegistry(t),
		"stalling": stallingRegistry(t),
		"refused":  closedAddr(t),
	}
	const timeout = time.Second
	for server, host := range servers {
		for op, call := range operations(host) {
			t.Run(server+"/"+op, func(t *testing.T) {
				c := New(WithTimeout(timeout))
				began := time.Now()
				err := call(context.Background(), c)
				took := time.Since(began)
				require.Error(t, err)
				assert.Less(t, took, timeout+2*time.Second, "took %s", took)
				fe := fault.As(err)
				if op == "Catalog" && fe == nil {
					// Catalog is a task's operation: a plain error is enough there.
					return
				}
				require.NotNil(t, fe, "%v", err)
				assert.Equal(t, fault.Unavailable, fe.Kind, "%v", err)
				assert.Equal(t, "RegistryUnavailable", fe.Reason)
			})
		}
	}
}

func TestTimeoutDefaultsAndKeepsTheSoonerDeadline(t *testing.T) {
	assert.Equal(t, DefaultTimeout, New().timeout)
	assert.Equal(t, DefaultTimeout, New(WithTimeout(0)).timeout)
	assert.Equal(t, 3*time.Second, New(WithTimeout(3*time.Second)).timeout)

	// The caller's deadline, when sooner, wins over the Client's.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := New(WithTimeout(10*time.Second)).Resolve(ctx, silentRegistry(t)+"/alice:t")
	require.Error(t, err)
	assert.Less(t, time.Since(began), 3*time.Second)
	assert.Equal(t, fault.Unavailable, fault.KindOf(err))
}

// endless writes bytes until the client goes away.
func endless(w http.ResponseWriter, r *http.Request) { endlessJSON(w, r, "", "{") }

// endlessJSON writes head, then item over and over until the client goes
// away: a reader that decodes as it reads sees no mistake to stop at.
func endlessJSON(w http.ResponseWriter, r *http.Request, head, item string) {
	_, _ = w.Write([]byte(head))
	chunk := []byte(strings.Repeat(item, (32<<10)/len(item)))
	for r.Context().Err() == nil {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

// hugeRegistry serves repository "alice" with answers over MaxAnswer:
// manifest "endless" never ends, manifest "declared" announces 10 MiB,
// manifest "bigconfig" is small but names a config blob that never ends,
// and the tag list never ends.
func hugeRegistry(t *testing.T) string {
	t.Helper()
	configDigest := "sha256:" + strings.Repeat("c", 64)
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":%d,"digest":%q},"layers":[]}`, 1<<30, configDigest)
	mux := http.NewServeMux()
	mux.HandleFunc("/v2/", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/v2/alice/manifests/endless", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		endless(w, r)
	})
	mux.HandleFunc("/v2/alice/manifests/declared", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Content-Length", strconv.Itoa(10<<20))
		endless(w, r)
	})
	mux.HandleFunc("/v2/alice/manifests/bigconfig", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		_, _ = w.Write([]byte(manifest))
	})
	mux.HandleFunc("/v2/alice/blobs/"+configDigest, endless)
	mux.HandleFunc("/v2/alice/tags/list", func(w http.ResponseWriter, r *http.Request) {
		endlessJSON(w, r, `{"name":"alice","tags":[`, `"t1",`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// A registry that sends more than MaxAnswer is cut off with a clear error,
// quickly, whatever part of the answer is too long.
func TestAnswersOverTheLimitAreCutOff(t *testing.T) {
	host := hugeRegistry(t)
	tests := []struct {
		name   string
		call   func(ctx context.Context, c *Client) error
		kind   fault.Kind
		reason string
	}{
		{"endless source manifest", func(ctx context.Context, c *Client) error {
			_, err := c.Resolve(ctx, host+"/alice:endless")
			return err
		},
			fault.Invalid, "SourceTooLarge"},
		{"declared length over the limit", func(ctx context.Context, c *Client) error {
			_, err := c.Resolve(ctx, host+"/alice:declared")
			return err
		},
			fault.Invalid, "SourceTooLarge"},
		{"endless source config", func(ctx context.Context, c *Client) error {
			_, err := c.Resolve(ctx, host+"/alice:bigconfig")
			return err
		},
			fault.Invalid, "SourceTooLarge"},
		{"endless config inspected", func(ctx context.Context, c *Client) error {
			_, err := c.Inspect(ctx, host+"/alice:bigconfig")
			return err
		},
			fault.Internal, "RegistryAnswerTooLarge"},
		{"endless tag list", func(ctx context.Context, c *Client) error { _, err := c.Tags(ctx, host+"/alice"); return err },
			fault.Internal, "RegistryAnswerTooLarge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			began := time.Now()
			err := tt.call(context.Background(), New(WithTimeout(20*time.Second)))
			require.Error(t, err)
			assert.Less(t, time.Since(began), 10*time.Second, "cut off by size, not by the timeout")
			assert.ErrorIs(t, err, ErrAnswerTooLarge)
			fe := fault.As(err)
			require.NotNil(t, fe, "%v", err)
			assert.Equal(t, tt.kind, fe.Kind)
			assert.Equal(t, tt.reason, fe.Reason)
			assert.Contains(t, fe.Message, "4 MiB")
		})
	}
}

func TestLimitedBodyReadsAnAnswerOfExactlyTheLimit(t *testing.T) {
	body := strings.Repeat("x", 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", r.URL.Query().Get("n"))
		_, _ = w.Write([]byte(body[:mustAtoi(r.URL.Query().Get("n"))]))
	}))
	defer srv.Close()
	client := &http.Client{Transport: limitTransport{base: http.DefaultTransport, max: 1000}}
	for _, n := range []int{0, 999, 1000} {
		resp, err := client.Get(srv.URL + "/?n=" + strconv.Itoa(n))
		require.NoError(t, err)
		b := make([]byte, 2000)
		total := 0
		for {
			k, err := resp.Body.Read(b[total:])
			total += k
			if err != nil {
				assert.NotErrorIs(t, err, ErrAnswerTooLarge, "n=%d", n)
				break
			}
		}
		_ = resp.Body.Close()
		assert.Equal(t, n, total)
	}
}

func mustAtoi(s string) int { n, _ := strconv.Atoi(s); return n }
