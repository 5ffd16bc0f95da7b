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
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/stack"
)

var (
	kube    *stack.Kube
	reg     *stack.Registry
	runtime name.Digest
	whisk   *httptest.Server
	bins    string // folder with one built exec per action
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
	var err error
	dir, err := os.MkdirTemp("", "actions-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins = dir
	for _, a := range []string{"start", "cleanup", "status", "ensure"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bins, a), "../../actions/"+a)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building action", a, err)
			return 1
		}
	}
	if kube, err = stack.StartKube(ctx, stack.KubeOptions{Log: os.Stderr}); err != nil {
		fmt.Fprintln(os.Stderr, "starting the API server:", err)
		return 1
	}
	defer kube.Stop()
	if reg, err = stack.StartRegistry(ctx, stack.RegistryOptions{Log: os.Stderr}); err != nil {
		fmt.Fprintln(os.Stderr, "starting the registry:", err)
		return 1
	}
	defer reg.Stop()
	if runtime, err = fixtures.Push(ctx, reg.Host, reg.Auth(), fixtures.Runtime{Repo: "runtime-python", Tag: "v3.13", User: "1001", Extend: true}); err != nil {
		fmt.Fprintln(os.Stderr, "pushing the fixture runtime:", err)
		return 1
	}
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
