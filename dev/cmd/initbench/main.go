// Command initbench measures what the OpenWhisk Go runtime's proxy does on
// /init for a precompiled action, on this machine: for each package zip (as
// ./task build packs it: exec and exec.env) it builds the /init body the
// invoker sends (the zip in base64), then, runs times over, decodes the body
// and the base64, unzips into a fresh numbered folder, starts exec through
// dev/actionproxy and waits for its {"ok":true} on file descriptor 3, then
// stops it by process id. It prints per action the zip and exec sizes and the
// median, min and max of the whole /init, with the median of each part.
//
//	go run ./dev/cmd/initbench [-runs 10] packages/*.zip
//
// Everything it writes goes in one temporary folder, removed at the end;
// each run's folder is removed as soon as its process is gone.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 10, "initializations per action")
	timeout := flag.Duration("timeout", 30*time.Second, "how long one exec may take to answer {\"ok\":true}")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: initbench [-runs N] [-timeout D] packages/*.zip")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *runs < 1 || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, flag.Args(), *runs, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "initbench:", err)
		os.Exit(1)
	}
}
