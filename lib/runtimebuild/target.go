package runtimebuild

import (
	"regexp"
	"strings"

	"github.com/apache/openserverless-deployer/lib/fault"
)

var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// repoComponent is a registry repository path component (the distribution spec's grammar).
var repoComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*$`)

const invalidTarget = "Invalid target for the build."

// maxUser keeps the user usable as the value of the Job's user label.
const maxUser = 63

// Target is a parsed "<user>:<tag>".
type Target struct {
	User string
	Tag  string
}

func (t Target) String() string { return t.User + ":" + t.Tag }

// ParseTarget parses a start target. The user part must be the caller unless
// strict is false; a registry host or a path is never accepted, since the
// registry is the platform's and the repository is the user.
func ParseTarget(s, caller string, strict bool) (Target, error) {
	user, tag, ok := strings.Cut(s, ":")
	switch {
	case !ok || user == "" || tag == "":
		return Target{}, fault.New(fault.Invalid, "InvalidTarget", "%s The target must be <user>:<tag>.", invalidTarget)
	case strings.Contains(s, "/"):
		return Target{}, fault.New(fault.Invalid, "InvalidTarget", "%s The target names no registry host or path, only <user>:<tag>.", invalidTarget)
	case !tagPattern.MatchString(tag):
		return Target{}, fault.New(fault.Invalid, "InvalidTarget", "%s The tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.", invalidTarget)
	case strict && user != caller:
		return Target{}, fault.New(fault.Invalid, "InvalidTarget", invalidTarget)
	case len(user) > maxUser || !repoComponent.MatchString(user):
		return Target{}, fault.New(fault.Invalid, "InvalidTarget", "%s %q is not a valid repository name.", invalidTarget, user)
	}
	return Target{User: user, Tag: tag}, nil
}
