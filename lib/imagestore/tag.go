package imagestore

import (
	"regexp"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/identity"
)

// tagPattern is a registry tag (the distribution spec's grammar), as the
// start target's tag.
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidTag reports whether tag is a registry tag: it holds no path, host or
// digest, so it can only name a tag of the caller's own repository.
func ValidTag(tag string) bool { return tagPattern.MatchString(tag) }

// checkUser refuses a user that is not a repository name; the caller's
// identity already guarantees it, this keeps a programming error from
// reaching the registry.
func checkUser(user string) error {
	if !identity.ValidUser(user) {
		return fault.New(fault.Invalid, "InvalidUser", "%q cannot be used as an image repository name", user)
	}
	return nil
}
