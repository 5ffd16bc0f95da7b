package imagestore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Tag is one tag of a repository and the digest of the manifest (or index)
// the registry holds for it.
type Tag struct {
	Name   string `json:"tag"`
	Digest string `json:"digest"`
}

// headWorkers bounds the HEAD requests Tags sends at once.
const headWorkers = 8

// Tags lists the tags of repo ("host/user") with their digests, sorted by
// name. A repository the registry does not know has no tags, not an error.
// The registry's tag list carries no digests, so each tag costs one HEAD;
// a tag that vanishes between the list and its HEAD is left out.
func (c *Client) Tags(ctx context.Context, repo string) ([]Tag, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	r, err := c.Repository(repo)
	if err != nil {
		return nil, fmt.Errorf("parsing repository %q: %w", repo, err)
	}
	names, err := remote.List(r, c.remote(ctx, r.Registry)...)
	if IsNotFound(err) {
		return []Tag{}, nil
	}
	if err != nil {
		return nil, registryError(err, "listing the tags of %s", repo)
	}
	type result struct {
		tag   Tag
		found bool
		err   error
	}
	results := make([]result, len(names))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(headWorkers, len(names)) {
		wg.Go(func() {
			for i := range work {
				desc, err := remote.Head(r.Tag(names[i]), c.remote(ctx, r.Registry)...)
				switch {
				case IsNotFound(err):
				case err != nil:
					results[i].err = registryError(err, "reading tag %s of %s", names[i], repo)
				default:
					results[i] = result{tag: Tag{Name: names[i], Digest: desc.Digest.String()}, found: true}
				}
			}
		})
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()
	out := make([]Tag, 0, len(names))
	for _, res := range results {
		if res.err != nil {
			return nil, res.err
		}
		if res.found {
			out = append(out, res.tag)
		}
	}
	slices.SortFunc(out, func(a, b Tag) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Catalog lists the repositories of the registry at host, sorted. Registries
// that do not offer the catalog API answer an error.
func (c *Client) Catalog(ctx context.Context, host string) ([]string, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	var opts []name.Option
	if c.insecure[host] {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("parsing registry %q: %w", host, err)
	}
	repos, err := remote.Catalog(ctx, reg, c.remote(ctx, reg)...)
	if err != nil {
		return nil, registryError(err, "listing the repositories of %s", host)
	}
	slices.Sort(repos)
	return repos, nil
}
