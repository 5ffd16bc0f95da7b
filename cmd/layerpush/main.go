package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/apache/openserverless-deployer/lib/imagestore"
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

// list is a flag that may be given more than once.
type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// run parses the flags, pushes, and writes the pushed image to the
// termination log and to stdout: "layerpush: pushed <ref>".
func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o layerpush.Options
	var termination, baseConfig string
	var insecure list
	fs := flag.NewFlagSet("layerpush", flag.ContinueOnError)
	fs.StringVar(&o.Base, "base", "", "the pinned base, repository@sha256:…")
	fs.StringVar(&o.BaseName, "base-name", "", "the base as given, for the "+layerpush.LabelBaseName+" label")
	fs.StringVar(&o.Layer, "layer", "", "the layer tarball (none: the base with the new config)")
	fs.StringVar(&o.Destination, "destination", "", "where the image is pushed")
	fs.StringVar(&o.User, "user", "", "the image's USER (default: the base's)")
	fs.Int64Var(&o.MaxBytes, "max-bytes", 0, "the largest layer accepted, in bytes (0: no bound)")
	fs.Var(&insecure, "insecure-registry", "a registry reached over plain HTTP (repeated)")
	fs.StringVar(&baseConfig, "base-config", "", "a Docker config.json to read the base with (default: DOCKER_CONFIG's, as the destination)")
	fs.StringVar(&termination, "termination-log", "/dev/termination-log", "where <repository>@<digest> is written")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.InsecureRegistries = insecure
	if baseConfig != "" {
		data, err := os.ReadFile(baseConfig)
		if err != nil {
			return fmt.Errorf("reading the base's credentials: %w", err)
		}
		if o.BaseKeychain, err = imagestore.ParseDockerConfig(data); err != nil {
			return fmt.Errorf("reading the base's credentials: %w", err)
		}
	}
	ref, err := layerpush.Push(ctx, o)
	if err != nil {
		return err
	}
	if err := os.WriteFile(termination, []byte(ref), 0o644); err != nil {
		return fmt.Errorf("writing the termination log: %w", err)
	}
	_, _ = fmt.Fprintln(stdout, "layerpush: pushed "+ref)
	return nil
}
