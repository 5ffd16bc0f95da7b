// Package openwhisk tests the deployer as OpenWhisk users and operators meet
// it, on the local stack (dev/local): the package deployed from manifest.yaml
// by the pinned wskdeploy through `task deploy:manifest`, invoked with
// openwhisk-client-go (the library wsk is built on) with the operator's key
// and a user's, and cleanup run by the manifest's alarm and by its cron
// annotation with nobody calling the API.
//
// The schedules under test fire every few seconds: the stack starts with
// local.Options.MinSchedule of a second, so the gateway accepts cron
// expressions with a seconds field, and each test replaces the deployed
// schedule the way an operator would (the alarm feed's DELETE and CREATE,
// an action update of the cron annotation).
package openwhisk

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/apache/openwhisk-client-go/whisk"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

var env *local.Stack

func TestMain(m *testing.M) {
	testapi.StackMain("openwhisk", func(dir string, logf *os.File) int { return run(m, dir, logf) })
}

func run(m *testing.M, dir string, logf *os.File) int {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	began := time.Now()
	var err error
	env, err = local.Start(ctx, local.Options{
		Dir: dir, Users: []string{"alice", "bob"}, Log: logf, MinSchedule: time.Second,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local stack:", err)
		return 1
	}
	fmt.Printf("openwhisk: local stack up and the package deployed in %s\n", time.Since(began).Round(time.Millisecond))
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}

// systemKey is the key of the system namespace, as an operator holds it.
func systemKey(t *testing.T) string {
	t.Helper()
	key, ok := env.Subjects.Token(env.Gateway.SystemNamespace())
	require.True(t, ok)
	return key
}

// client is openwhisk-client-go for a key, in namespace ns ("_" is the key's own).
func client(t *testing.T, token, ns string) *whisk.Client {
	t.Helper()
	c, err := whisk.NewClient(http.DefaultClient, &whisk.Config{Host: env.Gateway.URL(), AuthToken: token, Namespace: ns})
	require.NoError(t, err)
	return c
}
