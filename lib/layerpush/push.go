package layerpush

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/apache/openserverless-deployer/lib/layer"
)

// The labels the Kaniko path writes, naming the base.
const (
	LabelBaseName   = "org.opencontainers.image.base.name"
	LabelBaseDigest = "org.opencontainers.image.base.digest"
)

// CreatedBy is the history entry of the appended layer: the Dockerfile's
// COPY and RUN, which it holds together.
const CreatedBy = "RUN /bin/extend"

// Options are the inputs of Push. Base, BaseName, Layer and Destination
// are required.
type Options struct {
	// Base is the pinned base, "repository@sha256:…"; BaseName the source as
	// the user gave it, for the base.name label.
	Base     string
	BaseName string
	// Layer is the tarball the build step wrote; "" for a build without a
	// dependency file, whose image is the base with the new config.
	Layer string
	// Destination is where the image is pushed.
	Destination string
	// User is the image's USER, the base's own user as the Dockerfile
	// restores it; "" keeps the base config's.
	User string
	// MaxBytes bounds the layer's size (≤ 0: no bound).
	MaxBytes int64
	// InsecureRegistries are reached over plain HTTP.
	InsecureRegistries []string
	// Keychain gives the credentials of the destination; authn.DefaultKeychain
	// (DOCKER_CONFIG) when nil. BaseKeychain gives those the base is read
	// with (the platform's pull credential); Keychain when nil.
	Keychain     authn.Keychain
	BaseKeychain authn.Keychain
	// Transport carries the requests; remote.DefaultTransport when nil.
	Transport http.RoundTripper
	// Now is the image's creation time; time.Now when zero.
	Now time.Time
}

// Push appends the layer to the base, pushes the image and returns it as
// "<repository>@<digest>". A layer that fails the check gives an error
// wrapping layer.ErrInvalid.
func Push(ctx context.Context, o Options) (string, error) {
	if o.Base == "" || o.BaseName == "" || o.Destination == "" {
		return "", errors.New("the base, its name and the destination are required")
	}
	base, err := name.NewDigest(o.Base)
	if err != nil {
		return "", fmt.Errorf("parsing the base %q: %w", o.Base, err)
	}
	dst, err := name.ParseReference(o.Destination)
	if err != nil {
		return "", fmt.Errorf("parsing the destination %q: %w", o.Destination, err)
	}
	if base, err = name.NewDigest(o.Base, o.nameOptions(base.Context().RegistryStr())...); err != nil {
		return "", fmt.Errorf("parsing the base %q: %w", o.Base, err)
	}
	if dst, err = name.ParseReference(o.Destination, o.nameOptions(dst.Context().RegistryStr())...); err != nil {
		return "", fmt.Errorf("parsing the destination %q: %w", o.Destination, err)
	}
	if o.Layer != "" {
		if err := checkLayer(o.Layer, o.MaxBytes); err != nil {
			return "", err
		}
	}
	keychain, baseKeychain, transport := o.Keychain, o.BaseKeychain, o.Transport
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	if baseKeychain == nil {
		baseKeychain = keychain
	}
	if transport == nil {
		transport = remote.DefaultTransport
	}
	remoteOpts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain), remote.WithTransport(transport)}
	baseOpts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(baseKeychain), remote.WithTransport(transport)}

	baseImg, err := remote.Image(base, baseOpts...)
	if err != nil {
		return "", fmt.Errorf("reading the base %s: %w", base, err)
	}
	img, err := extend(baseImg, o, base.DigestStr())
	if err != nil {
		return "", err
	}
	if err := remote.Write(dst, img, remoteOpts...); err != nil {
		return "", fmt.Errorf("pushing %s: %w", dst, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("computing the image's digest: %w", err)
	}
	return dst.Context().Digest(digest.String()).String(), nil
}

// nameOptions are the options a reference to registry is parsed with:
// plain HTTP for an insecure one.
func (o Options) nameOptions(registry string) []name.Option {
	if slices.Contains(o.InsecureRegistries, registry) {
		return []name.Option{name.Insecure}
	}
	return nil
}

// checkLayer checks the layer file before anything is pushed. It must be
// a regular file: the build step wrote it, and a symlink there would be
// followed here, in the step that holds the credentials, to a file of
// this step's own (its Secret), and a FIFO would hold the push forever.
func checkLayer(path string, limit int64) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("reading the layer: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("checking the layer %s: %w: not a regular file (%s)", path, layer.ErrInvalid, fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading the layer: %w", err)
	}
	defer f.Close()
	if err := layer.Check(f, limit); err != nil {
		return fmt.Errorf("checking the layer %s: %w", path, err)
	}
	return nil
}

// extend appends the layer to the base and writes the config the
// Dockerfile gives: the base's, with its USER restored, the base labels
// and the time of this build. The new layer has the base manifest's kind
// of layer media type, so an OCI base stays all OCI.
func extend(base v1.Image, o Options, baseDigest string) (v1.Image, error) {
	mt, err := base.MediaType()
	if err != nil {
		return nil, fmt.Errorf("reading the base's manifest: %w", err)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Second)
	img := base
	if o.Layer != "" {
		layerType := types.DockerLayer
		if mt == types.OCIManifestSchema1 {
			layerType = types.OCILayer
		}
		l, err := tarball.LayerFromFile(o.Layer, tarball.WithMediaType(layerType))
		if err != nil {
			return nil, fmt.Errorf("reading the layer: %w", err)
		}
		img, err = mutate.Append(base, mutate.Addendum{
			Layer:     l,
			MediaType: layerType,
			History:   v1.History{Created: v1.Time{Time: now}, CreatedBy: CreatedBy},
		})
		if err != nil {
			return nil, fmt.Errorf("appending the layer: %w", err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading the base's config: %w", err)
	}
	cfg := *cf.Config.DeepCopy()
	if o.User != "" {
		cfg.User = o.User
	}
	cfg.Labels = maps.Clone(cfg.Labels)
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels[LabelBaseName] = o.BaseName
	cfg.Labels[LabelBaseDigest] = baseDigest
	if img, err = mutate.Config(img, cfg); err != nil {
		return nil, fmt.Errorf("writing the config: %w", err)
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: now}); err != nil {
		return nil, fmt.Errorf("writing the config: %w", err)
	}
	return img, nil
}
