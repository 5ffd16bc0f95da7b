// Package testweb makes the parameters OpenWhisk hands a web action, for
// the tests of the operations.
package testweb

import "strings"

// Args are the parameters of a web call with method to path, carrying
// token as its Authorization header (none when ""), and params.
func Args(method, path, token string, params map[string]any) map[string]any {
	headers := map[string]any{"accept": "application/json"}
	if token != "" {
		headers["authorization"] = token
	}
	args := map[string]any{"__ow_method": strings.ToLower(method), "__ow_path": path, "__ow_headers": headers}
	for k, v := range params {
		args[k] = v
	}
	return args
}
