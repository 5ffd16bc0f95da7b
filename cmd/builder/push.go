package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/apache/openserverless-deployer/lib/imagestore"
)

// pushTimeout bounds one push: a runtime is hundreds of MB.
const pushTimeout = 30 * time.Minute

// pushImage pushes an image into the registry as <repository>:<tag>: a
// runtime of one's own, to build from. On the local stack a source must be
// a catalog builder, <registry>/runtime-*, or the caller's own repository,
// so push a runtime as runtime-<name>:<tag>.
func pushImage(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("push-image", flag.ContinueOnError)
	from := fs.String("from", "", "an image tarball (docker save, crane pull), an OCI layout folder, or an image reference")
	image := fs.String("image", "", "<repository>:<tag> to push to, e.g. runtime-mine:v1")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *image == "" {
		return fmt.Errorf("set FROM=<tarball, OCI layout folder or reference> and IMAGE=<repository>:<tag>")
	}
	reg, err := registryAccess(ctx, imagestore.WithTimeout(pushTimeout))
	if err != nil {
		return err
	}
	repo, tag, err := repoTag(reg.Hosts.Push, *image)
	if err != nil {
		return err
	}
	img, err := loadImage(ctx, *from)
	if err != nil {
		return err
	}
	dest := inRegistry(reg.Hosts.Push, repo) + ":" + tag
	d, err := reg.Client.Write(ctx, dest, img)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pushed %s@%s\n", dest, d)
	fmt.Fprintf(out, "build from it: {\"source\": %q, \"kind\": <kind>, \"file\": <base64>} to build/ensure\n", reg.Hosts.Pull+"/"+repo+":"+tag)
	return nil
}

// loadImage reads the linux/amd64 image of from: a tarball file, an OCI
// layout folder, or a reference read with the credentials of
// ~/.docker/config.json.
func loadImage(ctx context.Context, from string) (v1.Image, error) {
	st, err := os.Stat(from)
	switch {
	case err == nil && st.IsDir():
		return layoutImage(from)
	case err == nil:
		img, err := tarball.ImageFromPath(from, nil)
		if err != nil {
			return nil, fmt.Errorf("reading image tarball %s (one image, as docker save or crane pull write it): %w", from, err)
		}
		return img, nil
	}
	ref, perr := name.ParseReference(from)
	if perr != nil {
		return nil, fmt.Errorf("%s is neither a file, a folder nor an image reference: %w", from, err)
	}
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithPlatform(imagestore.Platform), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", from, err)
	}
	return img, nil
}

// layoutImage is the linux/amd64 image of an OCI layout folder.
func layoutImage(dir string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	img, err := platformImage(idx)
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %s: %w", dir, err)
	}
	if img == nil {
		return nil, fmt.Errorf("OCI layout %s holds no %s/%s image", dir, imagestore.Platform.OS, imagestore.Platform.Architecture)
	}
	return img, nil
}

// platformImage is the first image for the build platform in idx or in
// an index it holds (as a multi-platform pull writes it), nil for none.
func platformImage(idx v1.ImageIndex) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, desc := range m.Manifests {
		switch {
		case desc.MediaType.IsImage() && imagestore.ForPlatform(desc):
			return idx.Image(desc.Digest)
		case desc.MediaType.IsIndex():
			child, err := idx.ImageIndex(desc.Digest)
			if err != nil {
				return nil, err
			}
			if img, err := platformImage(child); img != nil || err != nil {
				return img, err
			}
		}
	}
	return nil, nil
}
