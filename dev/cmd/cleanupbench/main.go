// Command cleanupbench measures the cleanup of many finished build Jobs on a
// real API server it starts itself (dev/stack, in a temporary folder,
// everything on 127.0.0.1): it creates the Jobs as real builds label them,
// runs the cleanup with system scope, as the schedule does, through a client
// made as the actions make theirs (lib/kube: the deployer's identity from
// deploy/rbac.yaml, the same rate limit) whose requests it counts, and checks
// that what must stay stayed. Before the cleanup it times, as the deployer,
// the Job list of a start's quota decision beside a list of every build Job.
//
//	go run ./dev/cmd/cleanupbench [-jobs 5000] [-keep 100] [-qps 200 -burst 400]
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
	jobs := flag.Int("jobs", 5000, "finished build Jobs older than the cutoff, half Complete and half Failed")
	keep := flag.Int("keep", 100, "build Jobs that must stay: half running, half finished an hour ago")
	var limit rateLimit
	flag.Float64Var(&limit.qps, "qps", 0, "the client's rate limit instead of lib/kube's (negative: none), to see what the API server allows")
	flag.IntVar(&limit.burst, "burst", 0, "the client's burst instead of lib/kube's")
	flag.Parse()
	if *jobs < 0 || *keep < 0 {
		fmt.Fprintln(os.Stderr, "cleanupbench: -jobs and -keep must not be negative")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *jobs, *keep, limit); err != nil {
		fmt.Fprintln(os.Stderr, "cleanupbench:", err)
		os.Exit(1)
	}
}
