package imagestore

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Write pushes img to ref and returns its digest. The deployer's actions
// never push (the build Job's push step does); the operator's registry
// tasks use it to bring a runtime into a registry, so give the Client a
// timeout that fits the image.
func (c *Client) Write(ctx context.Context, ref string, img v1.Image) (string, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	r, err := c.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("parsing %q: %w", ref, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(c.keychain), remote.WithTransport(c.transport)}
	if err := remote.Write(r, img, opts...); err != nil {
		return "", registryError(err, "pushing %s", ref)
	}
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("digest of %s: %w", ref, err)
	}
	return d.String(), nil
}
