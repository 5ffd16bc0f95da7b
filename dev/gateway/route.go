package gateway

import "strings"

// Path prefixes the gateway answers.
const (
	webPrefix       = "/api/v1/web/"
	buildPrefix     = "/system/api/v1/build/"
	namespacesPath  = "/api/v1/namespaces"
	namespacePrefix = namespacesPath + "/"
)

// named are the actions the ingress routes by name under buildPrefix; any
// other first segment there is a build id, served by the status action.
var named = map[string]bool{
	"start": true, "cleanup": true, "ensure": true, "images": true,
	"capabilities": true, "status": true, "logs": true,
}

// route maps an escaped web request path to the action it names and the
// action's __ow_path: "/<rest>" after the action name, "" when nothing
// follows. ok is false for a path that names no action.
func (g *Gateway) route(path string) (q qname, owPath string, ok bool) {
	switch {
	case strings.HasPrefix(path, webPrefix):
		// <namespace>/<package>/<action>[.http][/<rest>]; package "default"
		// is no package.
		parts := strings.SplitN(strings.TrimPrefix(path, webPrefix), "/", 4)
		if len(parts) < 3 {
			return qname{}, "", false
		}
		q = qname{ns: parts[0], pkg: parts[1], name: strings.TrimSuffix(parts[2], ".http")}
		if q.pkg == "default" {
			q.pkg = ""
		}
		// .http is the default extension; the others are not served here.
		if len(parts) == 4 {
			owPath = "/" + parts[3]
		}
	case strings.HasPrefix(path, buildPrefix):
		q = qname{ns: g.namespace, pkg: packageName}
		rest := strings.TrimPrefix(path, buildPrefix)
		name, tail, hasTail := strings.Cut(rest, "/")
		switch {
		case name == "":
			return qname{}, "", false
		case named[name]:
			q.name = name
			if hasTail {
				owPath = "/" + tail
			}
		default:
			q.name, owPath = "status", "/"+rest
		}
	default:
		return qname{}, "", false
	}
	return q, owPath, q.name != "" && q.ns != ""
}
