package imagestore

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// Deletion is what deleting one tag removed from a repository.
type Deletion struct {
	// Digest is the manifest (or index) that was deleted.
	Digest string
	// Tags are the tags of the repository that pointed at Digest, the one
	// asked for included, sorted: deleting by digest removes them all.
	Tags []string
}

// DeleteTag deletes the manifest that repo:tag points at, by the digest the
// registry holds for it now (HEAD): the reference registry refuses to delete
// by tag (DIGEST_INVALID). Deleting by digest removes every tag of that
// manifest in the repository, so the tags are listed first to say which.
// Blob space returns only after the registry's garbage collection. found is
// false when the registry holds nothing for repo:tag.
func (c *Client) DeleteTag(ctx context.Context, repo, tag string) (_ Deletion, found bool, err error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	r, err := c.Repository(repo)
	if err != nil {
		return Deletion{}, false, fmt.Errorf("parsing repository %q: %w", repo, err)
	}
	desc, err := remote.Head(r.Tag(tag), c.remote(ctx, r.Registry)...)
	if IsNotFound(err) {
		return Deletion{}, false, nil
	}
	if err != nil {
		return Deletion{}, false, registryError(err, "reading tag %s of %s", tag, repo)
	}
	d := Deletion{Digest: desc.Digest.String(), Tags: []string{tag}}
	tags, err := c.Tags(ctx, repo)
	if err != nil {
		return Deletion{}, false, err
	}
	for _, t := range tags {
		if t.Digest == d.Digest && t.Name != tag {
			d.Tags = append(d.Tags, t.Name)
		}
	}
	slices.Sort(d.Tags)
	err = remote.Delete(r.Digest(d.Digest), c.remote(ctx, r.Registry)...)
	switch {
	case err == nil, IsNotFound(err):
		// Gone already (a concurrent delete): the outcome asked for.
		return d, true, nil
	case classify(err) == unsupported:
		return Deletion{}, false, fault.Wrap(err, fault.Internal, "RegistryDeleteDisabled",
			"The registry does not allow deleting images (storage.delete.enabled is off)")
	default:
		return Deletion{}, false, registryError(err, "deleting %s@%s", repo, d.Digest)
	}
}
