package imagestore

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// Source is an image reference pinned to what the registry holds now.
type Source struct {
	// Repository is the fully qualified repository, e.g. "index.docker.io/apache/runtime".
	Repository string
	// Name is the reference as given, fully qualified ("…/runtime:tag").
	Name string
	// Digest is the digest the reference points at (an index or a manifest).
	Digest string
	// User is the user the image runs as, from its config ("" when unset).
	User string
	// Run is what a Dockerfile's RUN on this image runs with, from its
	// config: the layer engine's build step runs the same way.
	Run RunConfig
}

// RunConfig is the part of an image's config a RUN instruction uses.
type RunConfig struct {
	Env        []string
	WorkingDir string
	Shell      []string
}

// Pinned returns "repository@digest", the reference a Dockerfile FROM uses.
func (s Source) Pinned() string { return s.Repository + "@" + s.Digest }

// Platform is the one the build Pods run on.
var Platform = v1.Platform{OS: "linux", Architecture: "amd64"}

// ForPlatform reports whether an index's child is an image for Platform; a
// child without a platform counts as one, as go-containerregistry assumes.
func ForPlatform(d v1.Descriptor) bool {
	return d.Platform == nil || d.Platform.Satisfies(Platform)
}

// Resolve pins ref to its digest and reads the user and the run settings
// from the linux/amd64 image config. An image the registry does not have is Invalid (the caller
// named it); a registry that does not answer is Unavailable.
func (c *Client) Resolve(ctx context.Context, ref string) (Source, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	r, err := c.ParseReference(ref)
	if err != nil {
		return Source{}, fault.Wrap(err, fault.Invalid, "InvalidSource", "Invalid source image %q", ref)
	}
	// What a digest names never changes: a reference pinned by digest is
	// answered from what an earlier call read, and a tag costs the one
	// request that tells its digest.
	if d, pinned := r.(name.Digest); pinned {
		if src, ok := resolved.get(d); ok {
			return src, nil
		}
	}
	opts := append(c.remote(ctx, r.Context().Registry), remote.WithPlatform(Platform))
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return Source{}, sourceError(err, ref)
	}
	src := Source{Repository: r.Context().Name(), Name: r.Name(), Digest: desc.Digest.String()}
	if known, ok := resolved.lookup(src.Pinned()); ok {
		src.User, src.Run = known.User, known.Run
		return src, nil
	}
	// An index without a linux/amd64 image is the caller's mistake, not a
	// registry failure.
	if desc.MediaType.IsIndex() && !hasPlatform(desc.Manifest) {
		return Source{}, fault.New(fault.Invalid, "SourcePlatformMissing", "Source image %s has no %s/%s image", ref, Platform.OS, Platform.Architecture)
	}
	img, err := desc.Image()
	if err != nil {
		return Source{}, sourceError(fmt.Errorf("reading image %s: %w", ref, err), ref)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return Source{}, sourceError(fmt.Errorf("reading config of %s: %w", ref, err), ref)
	}
	src.User = cfg.Config.User
	src.Run = RunConfig{Env: cfg.Config.Env, WorkingDir: cfg.Config.WorkingDir, Shell: cfg.Config.Shell}
	resolved.put(src)
	return src, nil
}

// hasPlatform reports whether an index lists an image for the build
// platform (ForPlatform). An index it cannot parse is left to the image
// read to report.
func hasPlatform(index []byte) bool {
	m, err := v1.ParseIndexManifest(bytes.NewReader(index))
	if err != nil {
		return true
	}
	return slices.ContainsFunc(m.Manifests, ForPlatform)
}

// Digest returns the digest the registry holds for ref, or found=false when
// it holds none.
func (c *Client) Digest(ctx context.Context, ref string) (digest string, found bool, err error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	r, err := c.ParseReference(ref)
	if err != nil {
		return "", false, fmt.Errorf("parsing %q: %w", ref, err)
	}
	desc, err := remote.Head(r, c.remote(ctx, r.Context().Registry)...)
	if IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, registryError(err, "reading %s", ref)
	}
	return desc.Digest.String(), true, nil
}
