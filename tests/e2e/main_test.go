// Package e2e tests the deployer end to end on the local stack (dev/local):
// HTTP requests to the gateway run the built actions over ActionLoop; the
// Jobs they create are run by the real Job controller; their Pods by a real
// node (kubelet, containerd, runc) pulling the real Kaniko and crane images,
// which push to the Debian registry;
// the images are then pulled and read with go-containerregistry.
package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

var env *local.Stack

// diskLimit is the stack's build_ephemeral_storage_limit: far above what a
// fixture build writes, far below what the node has.
const diskLimit = "256Mi"

func TestMain(m *testing.M) {
	testapi.StackMain("e2e", func(dir string, logf *os.File) int { return run(m, dir, logf) })
}

func run(m *testing.M, dir string, logf *os.File) int {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	began := time.Now()
	var err error
	env, err = local.Start(ctx, local.Options{
		Dir: dir, Users: []string{"alice", "bob", "carol", "erin", "a.b", "a-b"}, Log: logf,
		Inputs: testapi.WithEngine(map[string]any{"max_kept_builds_per_user": "3", "build_ephemeral_storage_limit": diskLimit}),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local stack:", err)
		return 1
	}
	api = testapi.New(env)
	fmt.Printf("e2e: local stack up in %s\n", time.Since(began).Round(time.Millisecond))
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// api calls the stack's API; call, follow and eventually are its shorthands.
var api testapi.Client

type reply = testapi.Reply

func call(t *testing.T, user, method, path string, body any) reply {
	t.Helper()
	return api.Call(t, user, method, path, body)
}

func follow(t *testing.T, user, id string) reply {
	t.Helper()
	return api.Follow(t, user, id)
}

var eventually = testapi.Eventually

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
