// Command kanikoargs times the Kaniko executor on the realistic nodejs
// runtime with different arguments, to choose the build Job's: it pushes the
// runtime to a registry of its own on 127.0.0.1, then, for each variant, runs
// the executor by hand, laid out as the kubelet lays out the build container
// — in a throwaway root (new mount and PID namespaces, the executor, its
// credentials and the context bound in, chroot) — and prints each run's total
// time, its phases from the timestamps of Kaniko's log lines, and the peak
// memory of its processes. Kaniko writes the image's whole filesystem into
// its own "/": it is never run outside such a root. Needs root.
//
//	go run ./dev/cmd/kanikoargs [-runs 3] [-only today,single-snapshot] [-file package.json] [-env KEY=value] [-dockerfile FILE] [-logs]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 3, "runs of each variant")
	only := flag.String("only", "", "comma-separated variants to run (default: all)")
	file := flag.String("file", "", "package.json to install (default: is-number and left-pad)")
	keep := flag.Bool("logs", false, "print each run's log")
	env := flag.String("env", "", "KEY=value set for the RUN (an ENV line after FROM), for experiments")
	dockerfile := flag.String("dockerfile", "", "a Dockerfile to build instead of the deployer's, for experiments; BASE in it becomes the runtime's reference by digest")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "kanikoargs: the sandbox (unshare, chroot) needs root")
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	pkg := []byte(defaultPackageJSON)
	if *file != "" {
		var err error
		if pkg, err = os.ReadFile(*file); err != nil {
			fmt.Fprintln(os.Stderr, "kanikoargs:", err)
			os.Exit(1)
		}
	}
	var names []string
	if *only != "" {
		names = strings.Split(*only, ",")
	}
	var custom string
	if *dockerfile != "" {
		b, err := os.ReadFile(*dockerfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kanikoargs:", err)
			os.Exit(1)
		}
		custom = string(b)
	}
	if err := run(ctx, *runs, names, pkg, *env, custom, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "kanikoargs:", err)
		os.Exit(1)
	}
}

// defaultPackageJSON asks for two small packages from the npm registry.
const defaultPackageJSON = `{"name":"bench","version":"1.0.0","dependencies":{"is-number":"7.0.0","left-pad":"1.3.0"}}` + "\n"

// elapsed formats a duration in seconds with one decimal.
func elapsed(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }
