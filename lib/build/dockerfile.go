package build

import (
	"fmt"
	"strings"
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
