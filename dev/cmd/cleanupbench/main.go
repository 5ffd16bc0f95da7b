// Command cleanupbench measures what many kept build Jobs cost on a real API
// server and registry it starts itself (tests/testkube, everything on
// 127.0.0.1):
//
//	go run ./dev/cmd/cleanupbench [-jobs 5000] [-keep 100] [-active 4] [-calls 100] [-qps 200 -burst 400]
//
// It creates the Jobs as real builds label them — finished long ago,
// finished lately, and a few running — then times starts and ensures
// through the actions' code (lib/api and the build operations, warm, with
// the deployer's identity from deploy/rbac.yaml and lib/kube's client
// settings): p50 and p99, and the API calls, bytes and objects each call
// listed. Last it runs the cleanup with system scope, as the schedule does,
// through a client made as the actions make theirs, whose requests it
// counts, and checks that exactly the old Jobs went.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	var n counts
	flag.IntVar(&n.old, "jobs", 5000, "finished build Jobs older than the cutoff, half Complete and half Failed")
	flag.IntVar(&n.recent, "keep", 100, "finished build Jobs that must stay: ended an hour ago, half Complete and half Failed")
	flag.IntVar(&n.active, "active", 4, "running build Jobs (they must stay too), made without the deployer")
	calls := flag.Int("calls", 100, "starts, and as many ensures, timed through the actions before the cleanup (0: none)")
	var limit rateLimit
	flag.Float64Var(&limit.qps, "qps", 0, "the client's rate limit instead of lib/kube's (negative: none), to see what the API server allows")
	flag.IntVar(&limit.burst, "burst", 0, "the client's burst instead of lib/kube's")
	flag.Parse()
	if n.old < 0 || n.recent < 0 || n.active < 0 || *calls < 0 {
		fmt.Fprintln(os.Stderr, "cleanupbench: -jobs, -keep, -active and -calls must not be negative")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, n, *calls, limit); err != nil {
		fmt.Fprintln(os.Stderr, "cleanupbench:", err)
		os.Exit(1)
	}
}
