package api

import (
	"context"
	"strings"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// Route is one row of an action's routing table: the method and the path
// pattern (of __ow_path, the part of the URL after the action) that an
// operation answers.
//
// A pattern is matched segment by segment, empty segments ignored, so ""
// and "/" are the same path. "{name}" matches any one segment, a word
// matches itself, and "*" alone matches any path: an action that reads no
// path (start, ensure, …) answers under any.
type Route struct {
	Method string
	Path   string
	Op     Operation
}

// On is the Route of method and path to op.
func On(method, path string, op Operation) Route {
	return Route{Method: method, Path: path, Op: op}
}

// Routes is an action's routing table: one path reaches one action, which
// branches on the method (see SPEC.md, "HTTP API").
type Routes []Route

// Serve serves c with the first route that matches its path and method. A
// path no route matches is 404; a path some route matches, with another
// method, is 405. A non-web invoke has no method: it takes the first route
// for its path.
func (rs Routes) Serve(ctx context.Context, c Call) (webaction.Response, error) {
	segments := c.Request.PathSegments()
	found := false
	for _, r := range rs {
		if !matches(r.Path, segments) {
			continue
		}
		if !c.Request.IsWeb() || r.Method == c.Request.Method {
			return r.Op(ctx, c)
		}
		found = true
	}
	if found {
		return webaction.Response{}, notAllowed(c.Request.Method)
	}
	return webaction.Response{}, fault.New(fault.NotFound, "NotFound", "No such resource: %s", c.Request.Path)
}

// matches reports whether the path's segments match pattern.
func matches(pattern string, segments []string) bool {
	if pattern == "*" {
		return true
	}
	var want []string
	for _, s := range strings.Split(pattern, "/") {
		if s != "" {
			want = append(want, s)
		}
	}
	if len(want) != len(segments) {
		return false
	}
	for i, w := range want {
		if !strings.HasPrefix(w, "{") && w != segments[i] {
			return false
		}
	}
	return true
}

func notAllowed(method string) error {
	return fault.New(fault.MethodNotAllowed, "MethodNotAllowed", "Method %s is not allowed here", method)
}
