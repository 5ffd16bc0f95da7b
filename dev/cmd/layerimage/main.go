// Command layerimage builds the layer engine's image (cmd/layerhelper and
// cmd/layerpush, static, in /layer, as the local stack's) and pushes it to
// the reference given, with the credentials of the Docker config
// (docker login): what an operator does once before setting
// build_engine=layer, naming the image in layer_image.
//
//	go run ./dev/cmd/layerimage -image registry.example.com/openserverless-deployer/layer:0.1.0
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/apache/openserverless-deployer/dev/stepimages"
)

func main() {
	image := flag.String("image", "", "where to push the image, repository:tag")
	insecure := flag.Bool("insecure", false, "the registry is plain HTTP")
	flag.Parse()
	if err := run(*image, *insecure); err != nil {
		fmt.Fprintln(os.Stderr, "layerimage:", err)
		os.Exit(1)
	}
}

func run(image string, insecure bool) error {
	if image == "" {
		return fmt.Errorf("-image is required")
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewTag(image, opts...)
	if err != nil {
		return fmt.Errorf("-image %q: %w", image, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	img, err := stepimages.LayerImage(ctx, root, os.Stderr)
	if err != nil {
		return err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Println(ref.Context().Digest(digest.String()).String())
	return nil
}
