package requirements

import "strings"

// isLocalSpec reports whether a dependency value points at the local disk:
// a file:/link: spec or a path, as npm's package-arg reads them (".", "./",
// "../", "/", "\", "~/" or a drive letter).
func isLocalSpec(spec string) bool {
	s := strings.TrimSpace(strings.ToLower(spec))
	switch {
	case strings.HasPrefix(s, "file:"), strings.HasPrefix(s, "link:"), strings.HasPrefix(s, "git+file:"):
		return true
	case strings.HasPrefix(s, "."), strings.HasPrefix(s, "/"), strings.HasPrefix(s, `\`), strings.HasPrefix(s, "~/"):
		return true
	case len(s) >= 2 && s[1] == ':' && s[0] >= 'a' && s[0] <= 'z':
		return true
	}
	return false
}
