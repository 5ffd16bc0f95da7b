package imagestore

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// problem is what a failed registry call says about the registry: every
// answer the package gives a caller starts from this one classification.
type problem int

const (
	// unavailable: refused, timed out or cut off mid-answer.
	unavailable problem = iota
	// notFound: the image or its repository does not exist (404,
	// MANIFEST_UNKNOWN, NAME_UNKNOWN).
	notFound
	// denied: the registry refused the credentials (401/403).
	denied
	// tooLarge: an answer over MaxAnswer, cut off here.
	tooLarge
	// unsupported: the registry refuses the operation itself, as the
	// reference registry answers a delete when deletion is disabled (405
	// UNSUPPORTED).
	unsupported
)

func classify(err error) problem {
	if errors.Is(err, ErrAnswerTooLarge) {
		return tooLarge
	}
	var te *transport.Error
	if !errors.As(err, &te) {
		return unavailable
	}
	switch te.StatusCode {
	case http.StatusNotFound:
		return notFound
	case http.StatusUnauthorized, http.StatusForbidden:
		return denied
	case http.StatusMethodNotAllowed:
		return unsupported
	}
	for _, d := range te.Errors {
		switch d.Code {
		case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode:
			return notFound
		case transport.UnsupportedErrorCode:
			return unsupported
		}
	}
	return unavailable
}

// IsNotFound reports whether err is the registry saying the image or its
// repository does not exist.
func IsNotFound(err error) bool { return classify(err) == notFound }

// registryError is a failed call on the deployer's behalf: a missing image
// is NotFound, credentials the registry refuses are the platform's
// misconfiguration (Internal), an answer over MaxAnswer is the registry
// misbehaving (Internal: asking again will not shorten it), and anything
// else means the registry is not answering as it should (Unavailable). The
// cause is kept for the log.
func registryError(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	switch classify(err) {
	case notFound:
		return fault.Wrap(err, fault.NotFound, "ImageNotFound", "Not found: %s", what)
	case denied:
		return fault.Wrap(err, fault.Internal, "RegistryDenied", "The registry refused the deployer's credentials while %s", what)
	case tooLarge:
		return fault.Wrap(err, fault.Internal, "RegistryAnswerTooLarge", "The registry sent an answer over %d MiB while %s", MaxAnswer>>20, what)
	}
	return fault.Wrap(err, fault.Unavailable, "RegistryUnavailable", "The registry is unavailable while %s", what)
}

// sourceError is a failed read of a source the caller named: what the
// registry does not have, or will not show, and what is too large, are the
// caller's to fix (Invalid); anything else is the registry's (Unavailable).
func sourceError(err error, ref string) error {
	switch classify(err) {
	case notFound, denied:
		return fault.Wrap(err, fault.Invalid, "SourceNotFound", "Source image %s not found", ref)
	case tooLarge:
		return fault.Wrap(err, fault.Invalid, "SourceTooLarge", "Source image %s has a manifest or config over %d MiB", ref, MaxAnswer>>20)
	}
	return fault.Wrap(err, fault.Unavailable, "RegistryUnavailable", "Registry of %s is unavailable", ref)
}
