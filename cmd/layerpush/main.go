package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/apache/openserverless-deployer/lib/layerpush"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "layerpush: %v\n", err)
		os.Exit(1)
	}
}

// run parses the flags, pushes, and writes the pushed image to the
// termination log and to stdout.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o layerpush.Options
	var termination string
	fs := flag.NewFlagSet("layerpush", flag.ContinueOnError)
	fs.StringVar(&o.Base, "base", "", "the pinned base, repository@sha256:…")
	fs.StringVar(&o.BaseName, "base-name", "", "the base as given, for the "+layerpush.LabelBaseName+" label")
	fs.StringVar(&o.Layer, "layer", "", "the layer tarball")
	fs.StringVar(&o.Destination, "destination", "", "where the image is pushed")
	fs.StringVar(&o.User, "user", "", "the image's USER (default: the base's)")
	fs.Int64Var(&o.MaxBytes, "max-bytes", 0, "the largest layer accepted, in bytes (0: no bound)")
	fs.BoolVar(&o.Insecure, "insecure", false, "reach the registries over plain HTTP")
	fs.StringVar(&termination, "termination-log", "/dev/termination-log", "where <repository>@<digest> is written")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ref, err := layerpush.Push(ctx, o)
	if err != nil {
		return err
	}
	if err := os.WriteFile(termination, []byte(ref), 0o644); err != nil {
		return fmt.Errorf("writing the termination log: %w", err)
	}
	_, _ = fmt.Fprintln(stdout, ref)
	return nil
}
