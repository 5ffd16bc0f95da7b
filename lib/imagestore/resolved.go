package imagestore

import (
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
)

// maxResolved bounds the sources a process remembers; past it the memory
// starts over, which costs each source one more read.
const maxResolved = 1024

// resolved remembers, for the process, the user and run settings of each
// image it has read by digest ("repository@sha256:…"). A digest names the same content for
// as long as it exists, so an entry never goes stale; an image deleted
// since is found missing by the build's fetch step instead.
var resolved = resolvedSources{m: map[string]Source{}}

type resolvedSources struct {
	mu sync.Mutex
	m  map[string]Source
}

// get answers a reference pinned by digest.
func (r *resolvedSources) get(d name.Digest) (Source, bool) {
	src := Source{Repository: d.Context().Name(), Name: d.Name(), Digest: d.DigestStr()}
	known, ok := r.lookup(src.Pinned())
	src.User, src.Run = known.User, known.Run
	return src, ok
}

func (r *resolvedSources) lookup(pinned string) (Source, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	src, ok := r.m[pinned]
	return src, ok
}

func (r *resolvedSources) put(src Source) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) >= maxResolved {
		clear(r.m)
	}
	r.m[src.Pinned()] = src
}
