package imagestore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Manifest describes what an image reference points at in the registry.
type Manifest struct {
	// Reference is the reference as given, fully qualified.
	Reference string `json:"reference"`
	// Digest and MediaType are those of what the reference points at: an
	// image manifest or an index.
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	// Platforms lists the children of an index ("linux/amd64", …); empty for an image.
	Platforms []string `json:"platforms,omitempty"`
	// ImageDigest is the linux/amd64 image read below; it differs from Digest for an index.
	ImageDigest string `json:"image_digest"`
	// User and Labels are from the image config.
	User    string            `json:"user"`
	Labels  map[string]string `json:"labels"`
	Created time.Time         `json:"created"`
	Layers  []Layer           `json:"layers"`
	// Size is what the image takes in the registry: the compressed layers, the
	// config and the manifest.
	Size int64 `json:"size"`
}

// Layer is one layer of an image manifest.
type Layer struct {
	Digest    string `json:"digest"`
	MediaType string `json:"media_type"`
	Size      int64  `json:"size"`
}

// Inspect reads ref's manifest and, for an index, its linux/amd64 image:
// the digests, the config's user and labels, and the layers with their sizes.
func (c *Client) Inspect(ctx context.Context, ref string) (Manifest, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	r, err := c.ParseReference(ref)
	if err != nil {
		return Manifest{}, fmt.Errorf("parsing %q: %w", ref, err)
	}
	desc, err := remote.Get(r, append(c.remote(ctx, r.Context().Registry), remote.WithPlatform(Platform))...)
	if err != nil {
		return Manifest{}, registryError(err, "reading %s", ref)
	}
	m := Manifest{Reference: r.Name(), Digest: desc.Digest.String(), MediaType: string(desc.MediaType)}
	if desc.MediaType.IsIndex() {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return Manifest{}, fmt.Errorf("parsing the index of %s: %w", ref, err)
		}
		for _, d := range idx.Manifests {
			p := "unknown"
			if d.Platform != nil {
				p = d.Platform.String()
			}
			m.Platforms = append(m.Platforms, p)
		}
	}
	img, err := desc.Image()
	if err != nil {
		return Manifest{}, registryError(err, "reading the image of %s", ref)
	}
	im, err := img.Manifest()
	if err != nil {
		return Manifest{}, registryError(err, "reading the manifest of %s", ref)
	}
	digest, err := img.Digest()
	if err != nil {
		return Manifest{}, fmt.Errorf("digest of %s: %w", ref, err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		return Manifest{}, fmt.Errorf("manifest of %s: %w", ref, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return Manifest{}, registryError(err, "reading the config of %s", ref)
	}
	m.ImageDigest = digest.String()
	m.User, m.Labels, m.Created = cfg.Config.User, cfg.Config.Labels, cfg.Created.Time
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	m.Size = int64(len(raw)) + im.Config.Size
	m.Layers = make([]Layer, 0, len(im.Layers))
	for _, l := range im.Layers {
		m.Layers = append(m.Layers, Layer{Digest: l.Digest.String(), MediaType: string(l.MediaType), Size: l.Size})
		m.Size += l.Size
	}
	return m, nil
}
