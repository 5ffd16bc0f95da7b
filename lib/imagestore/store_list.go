package imagestore

import (
	"context"
)

// List returns the images of user's repository, sorted by tag. A user who
// has none, or whose repository does not exist, has an empty list.
func (s Store) List(ctx context.Context, user string) ([]Image, error) {
	if err := checkUser(user); err != nil {
		return nil, err
	}
	tags, err := s.Client.Tags(ctx, s.repository(user))
	if err != nil {
		return nil, err
	}
	out := make([]Image, 0, len(tags))
	for _, t := range tags {
		out = append(out, Image{Tag: t.Name, Digest: t.Digest, Image: s.image(user, t.Name)})
	}
	return out, nil
}
