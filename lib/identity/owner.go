package identity

import (
	"regexp"
	"strings"
)

// entityName is OpenWhisk's grammar of a namespace, package or action name
// (EntityName in the controller): a word character, then word characters,
// '@', ' ', '.' or '-', not ending in a space.
var entityName = regexp.MustCompile(`^(?:\w|\w[\w@ .-]*[\w@.-])$`)

// Owner returns the namespace that owns an action, read from the action's
// fully qualified name as OpenWhisk sets it in __OW_ACTION_NAME:
// "/<namespace>/<package>/<action>" or "/<namespace>/<action>". ok is false
// for a missing or malformed name: then no activation is the owner's.
//
// The name comes from the platform, not from a setting, so a mis-set
// deployment cannot make another namespace the owner.
func Owner(actionName string) (namespace string, ok bool) {
	rest, ok := strings.CutPrefix(actionName, "/")
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 2 && len(parts) != 3 {
		return "", false
	}
	for _, p := range parts {
		if !entityName.MatchString(p) {
			return "", false
		}
	}
	return parts[0], true
}
