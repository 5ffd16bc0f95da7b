// Package actions drives the built action executables over the ActionLoop
// protocol, as the OpenServerless Go runtime does, with web-action
// parameters, against a real API server (dev/stack), the Debian registry
// and a test OpenWhisk API that answers /api/v1/namespaces.
package actions

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

var (
	apiserver *stack.Kube
	reg       *stack.Registry
	runtime   name.Digest
	whisk     *httptest.Server
	bins      map[string]string // action → its built exec
)

// Subjects of the test OpenWhisk API: token → namespace.
var subjects = map[string]string{
	"23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP": "alice",
	"5c1e5a21-1f9a-4b4e-9d0e-3a7d2f0f5b11:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789": "bob",
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("actions: skipped in -short mode (needs the local stack)")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "actions-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := stack.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if bins, err = local.BuildActions(ctx, root, dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := testkube.StartCluster(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer c.Stop()
	apiserver, reg, runtime = c.Kube, c.Registry, c.Runtime
	whisk = httptest.NewServer(http.HandlerFunc(namespaces))
	defer whisk.Close()
	return m.Run()
}

// namespaces is the OpenWhisk API's GET /api/v1/namespaces: the subject's
// namespaces for a known key, 401 otherwise.
func namespaces(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	ns, known := subjects[user+":"+pass]
	if r.URL.Path != "/api/v1/namespaces" || !ok || !known {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"The supplied authentication is invalid","code":"x"}`))
		return
	}
	_ = json.NewEncoder(w).Encode([]string{ns})
}
