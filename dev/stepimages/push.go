package stepimages

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// Images are the step images in a registry, by digest; each is also tagged
// as the package documentation says.
type Images struct {
	// Executor is Kaniko's executor, the build step.
	Executor name.Digest
	// Warmer is Kaniko's warmer, the step that fetches the base.
	Warmer name.Digest
	// Crane is crane, the push step.
	Crane name.Digest
	// Pause is the node's sandbox image.
	Pause name.Digest
	// Layer is the layer engine's image: its helper and push steps.
	Layer name.Digest
}

// Push builds the step images (their programs and layers once per machine,
// the layer engine's programs on every call; see the package documentation) and pushes them to host, a registry on
// plain HTTP, with auth (nil is anonymous). root is the repository root;
// progress goes to log (nil discards it).
func Push(ctx context.Context, root, host string, auth authn.Authenticator, log io.Writer) (Images, error) {
	if log == nil {
		log = io.Discard
	}
	began := time.Now()
	cache, err := cacheDir()
	if err != nil {
		return Images{}, err
	}
	bins, err := buildBinaries(ctx, root, cache, log)
	if err != nil {
		return Images{}, err
	}
	specs, err := stepImages(bins)
	if err != nil {
		return Images{}, err
	}
	// Layers are made one at a time (a cold machine compresses ~150 MB);
	// the uploads overlap.
	imgs := make([]v1.Image, len(specs))
	for i, s := range specs {
		if imgs[i], err = s.image(cache); err != nil {
			return Images{}, err
		}
	}
	refs := make([]name.Digest, len(specs))
	g, gctx := errgroup.WithContext(ctx)
	for i, s := range specs {
		g.Go(func() (err error) {
			refs[i], err = fixtures.PushImage(gctx, host+"/"+s.ref, auth, imgs[i])
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return Images{}, fmt.Errorf("pushing the step images: %w", err)
	}
	fmt.Fprintf(log, "step images pushed to %s in %s\n", host, time.Since(began).Round(time.Millisecond))
	return Images{Executor: refs[0], Warmer: refs[1], Crane: refs[2], Pause: refs[3], Layer: refs[4]}, nil
}

// LayerImage builds the layer engine's image from the repository at root,
// as Push makes it for the local stack, for an operator to push to the
// registry their layer_image names.
func LayerImage(ctx context.Context, root string, log io.Writer) (v1.Image, error) {
	if log == nil {
		log = io.Discard
	}
	cache, err := cacheDir()
	if err != nil {
		return nil, err
	}
	progs, err := buildLayerPrograms(ctx, root, cache, log)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(CABundle)
	if err != nil {
		return nil, fmt.Errorf("reading the machine's certificate bundle: %w", err)
	}
	return layer(progs[0], progs[1], ca).image(cache)
}
