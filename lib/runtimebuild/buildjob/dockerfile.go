package buildjob

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/apache/openserverless-deployer/lib/fault"
)

// DefaultUser is the user an extended image runs as when its base names none.
const DefaultUser = "nobody"

// Dockerfile returns the build recipe: FROM the pinned base; with a file, copy
// it to /tmp, run the runtime's own /bin/extend as root, and go back to the
// base image's user so the extended runtime runs as the stock one does.
func Dockerfile(pinnedSource, fileName, baseUser string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "FROM %s\n", pinnedSource)
	if fileName == "" {
		return b.String()
	}
	if baseUser == "" {
		baseUser = DefaultUser
	}
	fmt.Fprintf(&b, "COPY %s /tmp/%s\n", fileName, fileName)
	b.WriteString("USER root\n")
	b.WriteString("RUN /bin/extend\n")
	fmt.Fprintf(&b, "USER %s\n", baseUser)
	return b.String()
}

// baseUserPattern is a USER a Dockerfile can carry: a name or id, and an
// optional group, with nothing a Dockerfile line would read further.
var baseUserPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,31})?$`)

// CheckBaseUser checks the base image's own USER before it is written into
// the Dockerfile: it comes from an image the user may have made, and a
// line break in it would add instructions of theirs to the recipe.
func CheckBaseUser(user string) error {
	if user == "" || baseUserPattern.MatchString(user) {
		return nil
	}
	return fault.New(fault.Invalid, "InvalidBaseImage", "The source image's USER is not a user name or id the build can restore")
}
