// Package e2e tests the deployer end to end on the local stack (dev/local):
// HTTP requests to the gateway run the built actions over ActionLoop; the
// Jobs they create are run by the real Job controller; their Pods by the
// node agent with the real Kaniko, which pushes to the Debian registry;
// the images are then pulled and read with go-containerregistry.
package e2e

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/tests/testapi"
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
	env, err = local.Start(ctx, local.Options{
		Dir: dir, Users: []string{"alice", "bob", "carol", "erin", "a.b", "a-b"}, Log: logf,
		Inputs: map[string]any{"max_kept_builds_per_user": "3"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local stack:", err)
		testapi.Dump(dir + "/stack.log")
		return 1
	}
	api = testapi.New(env)
	fmt.Printf("e2e: local stack up in %s\n", time.Since(began).Round(time.Millisecond))
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	if code != 0 {
		testapi.Dump(dir + "/stack.log")
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
