// Package e2e tests the deployer end to end on the local stack (dev/local):
// HTTP requests to the gateway run the built actions over ActionLoop; the
// Jobs they create are run by the real Job controller; their Pods by the
// node agent with the real Kaniko, which pushes to the Debian registry;
// the images are then pulled and read with go-containerregistry.
package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/dev/local"
)

var env *local.Stack

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode (needs the local stack)")
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		fmt.Println("e2e: the node agent runs Kaniko in a sandbox (unshare, chroot) and needs root")
		os.Exit(1)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	logf, err := os.Create(dir + "/stack.log")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	began := time.Now()
	env, err = local.Start(ctx, local.Options{Dir: dir, Users: []string{"alice", "bob", "carol"}, Log: logf})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local stack:", err)
		dump(dir + "/stack.log")
		return 1
	}
	fmt.Printf("e2e: local stack up in %s\n", time.Since(began).Round(time.Millisecond))
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	if code != 0 {
		dump(dir + "/stack.log")
	}
	return code
}

func dump(path string) {
	b, _ := os.ReadFile(path)
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	fmt.Fprintf(os.Stderr, "--- last of %s ---\n%s\n", path, b)
}

// reply is one HTTP answer of the API.
type reply struct {
	Code   int
	Header http.Header
	Body   map[string]any
}

func (r reply) str(k string) string { s, _ := r.Body[k].(string); return s }

// call sends one request to the API as user (the raw uuid:key token, as ops sends it).
func call(t *testing.T, user, method, path string, body any) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, env.Gateway.URL()+"/system/api/v1/build"+path, rd)
	require.NoError(t, err)
	if user != "" {
		req.Header.Set("Authorization", env.Tokens[user])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{Code: resp.StatusCode, Header: resp.Header, Body: map[string]any{}}
	require.NoError(t, json.Unmarshal(raw, &r.Body), "answer: %s", raw)
	return r
}

// follow polls GET build/<id> until a final state, as `ops ide deploy` does.
func follow(t *testing.T, user, id string) reply {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		r := call(t, user, http.MethodGet, "/"+id, nil)
		if s := r.str("state"); s == "succeeded" || s == "failed" || r.Code == http.StatusNotFound {
			return r
		}
		require.Equal(t, http.StatusAccepted, r.Code, "while building: %v", r.Body)
		if time.Now().After(deadline) {
			t.Fatalf("build %s did not end: %v", id, r.Body)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// eventually polls cond every 100 ms until it holds or 60 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
