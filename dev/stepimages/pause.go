package stepimages

import (
	"context"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// PauseTarball writes the pause image, tagged <host>/PauseImage, to path as a
// Docker archive (the format of `docker save`, which
// `ctr -n k8s.io images import` reads), and returns the tag. The node's
// containerd needs its sandbox image without pulling it: the stack's
// registry asks for credentials, which containerd does not have for it.
// root is the repository root; progress goes to log (nil discards it).
func PauseTarball(ctx context.Context, root, host, path string, log io.Writer) (name.Tag, error) {
	if log == nil {
		log = io.Discard
	}
	tag, err := name.NewTag(host+"/"+PauseImage, name.StrictValidation)
	if err != nil {
		return name.Tag{}, fmt.Errorf("parsing the pause image's reference: %w", err)
	}
	cache, err := cacheDir()
	if err != nil {
		return name.Tag{}, err
	}
	bin, err := buildPause(ctx, root, cache, log)
	if err != nil {
		return name.Tag{}, err
	}
	img, err := pause(bin).image(cache)
	if err != nil {
		return name.Tag{}, err
	}
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		return name.Tag{}, fmt.Errorf("writing the pause image to %s: %w", path, err)
	}
	return tag, nil
}
