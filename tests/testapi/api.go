// Package testapi calls the deployer's HTTP API on the local stack as its
// users do, for the end-to-end tests.
package testapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/dev/local"
)

// Client calls the API of one local stack; Tokens maps each user to its
// uuid:key (the stack's own map, so users added later are known).
type Client struct {
	Base   string
	Tokens map[string]string
}

// New returns the Client of a local stack.
func New(s *local.Stack) Client {
	return Client{Base: s.Gateway.URL() + "/system/api/v1/build", Tokens: s.Tokens}
}

// Reply is one HTTP answer of the API.
type Reply struct {
	Code   int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// Str returns a string field of the body, "" when absent.
func (r Reply) Str(k string) string { s, _ := r.Body[k].(string); return s }

// Call sends one request as user (the raw uuid:key token, as ops sends it;
// "" sends none). path follows build/ and is sent as is, escapes included;
// a nil body sends none.
func (c Client) Call(t *testing.T, user, method, path string, body any) Reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	require.NoError(t, err)
	if user != "" {
		req.Header.Set("Authorization", c.Tokens[user])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := Reply{Code: resp.StatusCode, Header: resp.Header, Body: map[string]any{}, Raw: raw}
	require.NoError(t, json.Unmarshal(raw, &r.Body), "answer: %s", raw)
	return r
}

// Follow polls GET build/<id> until a final state, as `ops ide deploy` does.
func (c Client) Follow(t *testing.T, user, id string) Reply {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r := c.Call(t, user, http.MethodGet, "/"+id, nil)
		if s := r.Str("state"); s == "succeeded" || s == "failed" || r.Code == http.StatusNotFound {
			return r
		}
		require.Equal(t, http.StatusAccepted, r.Code, "while building: %v", r.Body)
		if time.Now().After(deadline) {
			t.Fatalf("build %s did not end: %v", id, r.Body)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Eventually polls cond every 100 ms until it holds or 60 s pass.
func Eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Dump prints the last 20 kB of a log file on stderr, for a failed run.
func Dump(path string) {
	b, _ := os.ReadFile(path)
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	fmt.Fprintf(os.Stderr, "--- last of %s ---\n%s\n", path, b)
}

// RequireEngine checks that the stack builds with the engine
// EngineVariable names, when it names one.
func (c Client) RequireEngine(t *testing.T, user string) {
	t.Helper()
	if e := os.Getenv(EngineVariable); e != "" {
		r := c.Call(t, user, http.MethodGet, "/capabilities", nil)
		require.Equal(t, e, r.Body["build_engine"], "the stack builds with %s", e)
	}
}
