package runtimebuild

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
)

// checkSource checks a source's syntax and the source policy: a source is
// a builder of the catalog, a repository matched by allowed_sources, or the
// caller's own repository on the platform registry. Anything else is
// refused before any registry is contacted, with the same answer whether
// or not the image exists, so the action can neither be pointed at a host
// of the caller's choosing nor tell whether another user's tag exists.
func (s *Service) checkSource(ctx context.Context, user, source string) error {
	ref, err := ParseSource(source)
	if err != nil {
		return err
	}
	if Allowed(ref, s.allowedSources()) {
		return nil
	}
	hosts, err := s.registries.PlatformHosts(ctx)
	if err != nil {
		return err
	}
	if ownRepository(ref, user, hosts) {
		return nil
	}
	return fault.New(fault.Invalid, "SourceNotAllowed",
		"Source image %s is not allowed: use a builder of the catalog, an allowed runtime image, or an image of your own repository", source)
}

// allowedSources are the configured patterns and the catalog's sources.
func (s *Service) allowedSources() []string {
	allowed := append([]string{}, s.cfg.AllowedSources...)
	for _, b := range s.cfg.Builders {
		if r, err := ParseSource(b.Source); err == nil {
			allowed = append(allowed, r.Context().Name())
		}
	}
	return allowed
}

// ownRepository reports whether ref is in user's own repository,
// <push or pull host>/<user>, of the platform registry.
func ownRepository(ref name.Reference, user string, hosts imagestore.Hosts) bool {
	for _, h := range []string{hosts.Push, hosts.Pull} {
		own, err := name.NewRepository(h + "/" + user)
		if err == nil && own.Name() == ref.Context().Name() {
			return true
		}
	}
	return false
}
