package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// reserved are the parameters the controller sets from the request
// (WebApiDirectives.reservedProperties); a request may not supply them.
var reserved = []string{"__ow_method", "__ow_headers", "__ow_path", "__ow_user", "__ow_query", "__ow_body"}

func isReserved(k string) bool {
	for _, r := range reserved {
		if k == r {
			return true
		}
	}
	return false
}

// errNotAllowed means the query or body names a final input or a reserved
// parameter.
var errNotAllowed = errors.New(msgParamsNotAllowed)

// webParams builds the parameters of a non-raw web action from a request
// whose body has been read, as the controller's Context.toActionArgument
// does: the inputs, then __ow_method, __ow_headers and __ow_path, then the
// query, then the body (its fields, or __ow_body). A final action's inputs
// cannot be overridden, and no request may set a reserved parameter. There is
// no __ow_user: the request reaches the action unauthenticated.
func webParams(r *http.Request, b []byte, owPath string, inputs map[string]any, final bool) (map[string]any, error) {
	contentType := r.Header.Get("Content-Type")
	if contentType == "" && len(b) > 0 {
		contentType = "application/octet-stream"
	}
	bd, err := decodeBody(contentType, b)
	if err != nil {
		return nil, err
	}
	query := lastValues(r.URL.Query())
	for _, fields := range []map[string]any{query, bd.fields} {
		for k := range fields {
			if _, bound := inputs[k]; (final && bound) || isReserved(k) {
				return nil, fmt.Errorf("%w: %s", errNotAllowed, k)
			}
		}
	}

	p := make(map[string]any, len(inputs)+len(query)+len(bd.fields)+4)
	for k, v := range inputs {
		p[k] = v
	}
	p["__ow_method"] = strings.ToLower(r.Method)
	p["__ow_headers"] = headers(r, contentType)
	p["__ow_path"] = owPath
	for k, v := range query {
		p[k] = v
	}
	for k, v := range bd.fields {
		p[k] = v
	}
	if bd.hasRaw {
		p["__ow_body"] = bd.raw
	}
	return p, nil
}

// headers returns the request headers as the controller passes them: names
// lower-cased, the last value of a repeated header, the host, and the
// content type of the body, but no content-length, which the controller's
// HTTP library keeps apart from the headers.
func headers(r *http.Request, contentType string) map[string]any {
	h := lastValues(r.Header)
	out := make(map[string]any, len(h)+2)
	for k, v := range h {
		out[strings.ToLower(k)] = v
	}
	delete(out, "content-length")
	if r.Host != "" {
		out["host"] = r.Host
	}
	if contentType != "" {
		out["content-type"] = contentType
	}
	return out
}
