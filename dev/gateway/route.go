package gateway

import "strings"

// Path prefixes the gateway answers.
const (
	webPrefix   = "/api/v1/web/"
	buildPrefix = "/system/api/v1/build/"
)

// named are the actions the ingress routes by name under buildPrefix; any
// other first segment there is a build id, served by the status action.
var named = map[string]bool{
	"start": true, "cleanup": true, "ensure": true, "images": true,
	"capabilities": true, "status": true, "logs": true,
}

// route maps an escaped request path to the action it reaches and the
// action's __ow_path: "/<rest>" after the action name, "" when nothing
// follows. ok is false for a path that names no action of the package.
func (g *Gateway) route(path string) (action, owPath string, ok bool) {
	switch {
	case strings.HasPrefix(path, webPrefix):
		// <namespace>/<package>/<action>[.http][/<rest>]
		parts := strings.SplitN(strings.TrimPrefix(path, webPrefix), "/", 4)
		if len(parts) < 3 || parts[0] != g.namespace || parts[1] != packageName {
			return "", "", false
		}
		// .http is the default extension; the others are not served here.
		action = strings.TrimSuffix(parts[2], ".http")
		if len(parts) == 4 {
			owPath = "/" + parts[3]
		}
	case strings.HasPrefix(path, buildPrefix):
		rest := strings.TrimPrefix(path, buildPrefix)
		name, tail, hasTail := strings.Cut(rest, "/")
		switch {
		case name == "":
			return "", "", false
		case named[name]:
			action = name
			if hasTail {
				owPath = "/" + tail
			}
		default:
			action, owPath = "status", "/"+rest
		}
	default:
		return "", "", false
	}
	return action, owPath, action != ""
}
