package runtimebuild

import (
	"strings"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/imagestore"
)

const invalidTarget = "Invalid target for the build."

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
	case !imagestore.ValidTag(tag):
		return Target{}, fault.New(fault.Invalid, "InvalidTarget", "%s The tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.", invalidTarget)
	case strict && user != caller:
		return Target{}, fault.New(fault.Invalid, "InvalidTarget", invalidTarget)
	case !identity.ValidUser(user):
		return Target{}, fault.New(fault.Invalid, "InvalidTarget", "%s %q is not a valid repository name.", invalidTarget, user)
	}
	return Target{User: user, Tag: tag}, nil
}
