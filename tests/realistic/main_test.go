// Package realistic tests builds on the realistic runtimes (dev/fixtures:
// Debian bookworm with nodejs and npm, or python3 and pip, hundreds of MB)
// whose /bin/extend runs the real package manager: npm against the npm
// registry, pip against the local package index. They cost minutes (the
// runtimes are made once per machine, ~5 minutes; each build takes 30–90 s)
// and run only with DEPLOYER_REALISTIC=1:
//
//	DEPLOYER_REALISTIC=1 go test -count=1 -v -timeout 40m ./tests/realistic/
package realistic

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

var (
	env *local.Stack
	api testapi.Client
)

func TestMain(m *testing.M) {
	if os.Getenv("DEPLOYER_REALISTIC") != "1" {
		fmt.Println("realistic: skipped (DEPLOYER_REALISTIC=1 runs them; they take minutes)")
		os.Exit(0)
	}
	testapi.RequireRoot("realistic")
	os.Exit(testapi.InStackDir("realistic", func(dir string, logf *os.File) int { return run(m, dir, logf) }))
}

func run(m *testing.M, dir string, logf *os.File) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	began := time.Now()
	var err error
	env, err = local.Start(ctx, local.Options{
		Dir: dir, Users: []string{"alice"}, Log: logf, Realistic: true,
		Inputs: testapi.WithEngine(map[string]any{"build_timeout_seconds": "900"}),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local stack:", err)
		return 1
	}
	api = testapi.New(env)
	fmt.Printf("realistic: local stack up in %s\n", time.Since(began).Round(time.Millisecond))
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return code
}
