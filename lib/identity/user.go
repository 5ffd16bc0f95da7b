package identity

import (
	"regexp"
	"strings"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// maxUser keeps a user usable as a Kubernetes label value.
const maxUser = 63

// userPattern is a registry repository path component (distribution's
// reference grammar); it also starts and ends like a label value must.
var userPattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$`)

// ValidUser reports whether user is usable as is: a registry repository path
// component of at most 63 characters, in lower case.
func ValidUser(user string) bool {
	return len(user) <= maxUser && userPattern.MatchString(user)
}

// User returns the user of an OpenWhisk namespace: the namespace lower-cased.
// A namespace that cannot be a user is a fault.Invalid "InvalidUser".
func User(namespace string) (string, error) {
	u := strings.ToLower(namespace)
	if !ValidUser(u) {
		return "", fault.New(fault.Invalid, "InvalidUser",
			"Namespace %q cannot be used as an image repository name", namespace)
	}
	return u, nil
}
