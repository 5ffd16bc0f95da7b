package webaction

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
)

// Request is one web-action call as OpenWhisk delivered it.
type Request struct {
	// Method is the HTTP method in upper case; empty for a non-web invoke.
	Method string
	// Headers holds the request headers by lower-cased name.
	Headers map[string]string
	// Path is the part of the URL after the action name (__ow_path).
	Path string
	// User is __ow_user: the namespace the controller authenticated, if any.
	User string
	// Params are all the activation's parameters as OpenWhisk passed them.
	Params map[string]any

	query url.Values
	body  map[string]any // the JSON object in __ow_body, if it holds one
}

// Decode builds a Request from an activation's parameters.
func Decode(args map[string]any) Request {
	if args == nil {
		args = map[string]any{}
	}
	r := Request{
		Method:  strings.ToUpper(str(args["__ow_method"])),
		Headers: map[string]string{},
		Path:    str(args["__ow_path"]),
		User:    str(args["__ow_user"]),
		Params:  args,
	}
	if h, ok := args["__ow_headers"].(map[string]any); ok {
		for k, v := range h {
			r.Headers[strings.ToLower(k)] = str(v)
		}
	}
	if q := str(args["__ow_query"]); q != "" {
		r.query, _ = url.ParseQuery(q)
	}
	r.body = decodeBody(args["__ow_body"])
	return r
}

// IsWeb reports whether the call came through the web-action interface.
func (r Request) IsWeb() bool { return r.Method != "" }

// Header returns the value of the named header (any case), or "".
func (r Request) Header(name string) string { return r.Headers[strings.ToLower(name)] }

// Field returns a request field: a top-level parameter (query or JSON body
// field), else a raw query parameter, else a field of a JSON object in
// __ow_body. Names starting with "__ow_" are never fields.
func (r Request) Field(name string) (any, bool) {
	if strings.HasPrefix(name, "__ow_") {
		return nil, false
	}
	if v, ok := r.Params[name]; ok {
		return v, true
	}
	if vs, ok := r.query[name]; ok && len(vs) > 0 {
		return vs[0], true
	}
	v, ok := r.body[name]
	return v, ok
}

// String returns a field as a string: strings as they are, numbers and
// booleans in their JSON form, "" when absent or null.
func (r Request) String(name string) string {
	v, _ := r.Field(name)
	return str(v)
}

// HasAny reports whether any of the named fields is present.
func (r Request) HasAny(names ...string) bool {
	for _, n := range names {
		if _, ok := r.Field(n); ok {
			return true
		}
	}
	return false
}

// PathSegments returns the non-empty segments of Path.
func (r Request) PathSegments() []string {
	var out []string
	for _, s := range strings.Split(r.Path, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return ""
		}
		return string(b)
	}
}

// decodeBody returns the JSON object held in __ow_body, which OpenWhisk sends
// as text or, for binary content types, base64.
func decodeBody(v any) map[string]any {
	s, ok := v.(string)
	if !ok || s == "" {
		if m, ok := v.(map[string]any); ok {
			return m
		}
		return nil
	}
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) == nil {
		return m
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && json.Unmarshal(b, &m) == nil {
		return m
	}
	return nil
}
