package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoPath is the executable of testdata/echo, built once for the package.
var echoPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gateway-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	echoPath = filepath.Join(dir, "exec")
	out, err := exec.Command("go", "build", "-o", echoPath, "./testdata/echo").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building testdata/echo: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// allActions maps every action of the package to the echo executable.
func allActions() map[string]string {
	m := map[string]string{}
	for name := range named {
		m[name] = echoPath
	}
	return m
}

// syncBuffer is a log the test can read while the gateway writes to it.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

// startGateway starts a gateway with o (every action of the package when
// o.Actions is nil) and stops it when the test ends.
func startGateway(t *testing.T, o Options) *Gateway {
	t.Helper()
	if o.Actions == nil {
		o.Actions = allActions()
	}
	g, err := New(o)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, g.Start(ctx, "127.0.0.1:0"))
	t.Cleanup(func() { _ = g.Stop() })
	return g
}

// reply is an HTTP answer, read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// call sends one request; headers are name/value pairs, repeated names allowed.
func call(t *testing.T, method, url string, body io.Reader, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{resp.StatusCode, resp.Header, b}
}

// echoed is what the echo action answers.
type echoed struct {
	Params map[string]any    `json:"params"`
	Env    map[string]string `json:"env"`
	Pid    int               `json:"pid"`
}

func decodeEcho(t *testing.T, r reply) echoed {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var e echoed
	require.NoError(t, json.Unmarshal(r.body, &e), "body: %s", r.body)
	return e
}

// errorOf decodes an OpenWhisk error reply and checks its transaction code.
func errorOf(t *testing.T, r reply) string {
	t.Helper()
	var e struct{ Error, Code string }
	require.NoError(t, json.Unmarshal(r.body, &e), "body: %s", r.body)
	assert.Regexp(t, `^[0-9a-f]{32}$`, e.Code)
	return e.Error
}

// jsonBody encodes v as a request body.
func jsonBody(t *testing.T, v any) io.Reader {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return bytes.NewReader(b)
}

// assertGone checks that no process has pid any more.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	err := syscall.Kill(pid, 0)
	assert.True(t, errors.Is(err, syscall.ESRCH), "process %d still exists (kill 0: %v)", pid, err)
}

// pidOf asks the echo action behind url for its process id.
func pidOf(t *testing.T, url string) int {
	t.Helper()
	e := decodeEcho(t, call(t, http.MethodGet, url, nil))
	require.NotZero(t, e.Pid)
	return e.Pid
}

// poolOf returns the pool of an action of package builder.
func poolOf(t *testing.T, g *Gateway, action string) *pool {
	t.Helper()
	act, ok := g.store.action(qname{ns: g.namespace, pkg: packageName, name: action})
	require.True(t, ok, "action %s", action)
	require.NotNil(t, act.pool)
	return act.pool
}

func webURL(g *Gateway, action string) string {
	return g.URL() + "/api/v1/web/whisk-system/builder/" + action
}

func TestHealthz(t *testing.T) {
	g := startGateway(t, Options{})
	r := call(t, http.MethodGet, g.URL()+"/healthz", nil)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "ok\n", string(r.body))
}

func TestNewRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, []byte("not executable"), 0o644))

	tests := []struct {
		name    string
		actions map[string]string
		want    string
	}{
		{"missing executable", map[string]string{"start": filepath.Join(dir, "missing")}, "no such file"},
		{"not executable", map[string]string{"start": plain}, "not an executable file"},
		{"a directory", map[string]string{"start": dir}, "not an executable file"},
		{"name with a slash", map[string]string{"a/b": echoPath}, "invalid action name"},
		{"empty name", map[string]string{"": echoPath}, "invalid action name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Options{Actions: tt.actions})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestStartListensOnLoopbackOnly(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"localhost:0", true},
		{"0.0.0.0:0", false},
		{":0", false},
		{"192.0.2.1:0", false},
		{"no-port", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			g, err := New(Options{Actions: map[string]string{"start": echoPath}})
			require.NoError(t, err)
			defer g.Stop()
			err = g.Start(context.Background(), tt.addr)
			if !tt.ok {
				require.Error(t, err)
				assert.Empty(t, g.URL())
				return
			}
			require.NoError(t, err)
			assert.Regexp(t, `^http://(127\.0\.0\.1|\[::1\]):[0-9]+$`, g.URL())
			assert.Equal(t, http.StatusOK, call(t, http.MethodGet, g.URL()+"/healthz", nil).status)
			assert.Error(t, g.Start(context.Background(), tt.addr), "a second Start is refused")
		})
	}
}
