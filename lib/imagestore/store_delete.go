package imagestore

import (
	"context"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// Deleted is what Delete removed.
type Deleted struct {
	// Image is the reference that was asked for, <pull host>/<user>:<tag>.
	Image string
	// Digest is the manifest that was deleted.
	Digest string
	// TagsRemoved are the tags of the user's repository that pointed at
	// Digest and are gone with it, the one asked for included.
	TagsRemoved []string
}

// Delete deletes user's image tag by the digest the registry holds for it.
// Every other tag of that manifest in the user's repository goes with it
// (TagsRemoved); the blobs stay until the registry's garbage collection.
// An invalid tag is Invalid (InvalidTag), an unknown one NotFound (ImageNotFound).
func (s Store) Delete(ctx context.Context, user, tag string) (Deleted, error) {
	if err := checkUser(user); err != nil {
		return Deleted{}, err
	}
	if !ValidTag(tag) {
		return Deleted{}, fault.New(fault.Invalid, "InvalidTag", "Invalid tag %q: a tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.", tag)
	}
	d, found, err := s.Client.DeleteTag(ctx, s.repository(user), tag)
	if err != nil {
		return Deleted{}, err
	}
	if !found {
		return Deleted{}, fault.New(fault.NotFound, "ImageNotFound", "Image %s:%s not found", user, tag)
	}
	return Deleted{Image: s.image(user, tag), Digest: d.Digest, TagsRemoved: d.Tags}, nil
}
