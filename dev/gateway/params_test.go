package gateway

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRequestBecomesWebActionParams(t *testing.T) {
	g := startGateway(t, Options{})
	const id = "0123abcd"

	tests := []struct {
		name        string
		method      string
		path        string // after the gateway URL, query included
		contentType string
		body        string
		wantAction  string
		wantPath    string
		want        map[string]any // parameters that must be there, with these values
		wantAbsent  []string       // parameters that must not be there
	}{
		{
			name: "web path, query", method: "GET", path: "/api/v1/web/whisk-system/builder/capabilities?a=1&b=two&a=3",
			wantAction: "capabilities", wantPath: "",
			want:       map[string]any{"a": "3", "b": "two"},
			wantAbsent: []string{"__ow_body", "__ow_query", "__ow_user"},
		},
		{
			name: "web path with a rest", method: "GET", path: "/api/v1/web/whisk-system/builder/images/latest/x",
			wantAction: "images", wantPath: "/latest/x",
		},
		{
			name: "web path, trailing slash", method: "GET", path: "/api/v1/web/whisk-system/builder/images/",
			wantAction: "images", wantPath: "/",
		},
		{
			name: "web path, .http extension", method: "DELETE", path: "/api/v1/web/whisk-system/builder/images.http/v1",
			wantAction: "images", wantPath: "/v1",
		},
		{
			name: "JSON body and query, body wins", method: "POST", path: "/system/api/v1/build/start?kind=python&x=query",
			contentType: "application/json", body: `{"source":"s","n":12345678901234567890,"x":"body","nested":{"k":[1,"two"]}}`,
			wantAction: "start", wantPath: "",
			want: map[string]any{"source": "s", "n": 12345678901234567890.0, "x": "body", "kind": "python",
				"nested": map[string]any{"k": []any{1.0, "two"}}},
			wantAbsent: []string{"__ow_body"},
		},
		{
			name: "JSON with a charset and +json", method: "POST", path: "/system/api/v1/build/ensure",
			contentType: "application/vnd.api+json; charset=utf-8", body: `{"builder":"python:3.13"}`,
			wantAction: "ensure", wantPath: "", want: map[string]any{"builder": "python:3.13"},
		},
		{
			name: "named action with a rest", method: "POST", path: "/system/api/v1/build/start/extra/more",
			wantAction: "start", wantPath: "/extra/more",
		},
		{
			name: "build id, GET", method: "GET", path: "/system/api/v1/build/" + id,
			wantAction: "status", wantPath: "/" + id,
		},
		{
			name: "build id, DELETE", method: "DELETE", path: "/system/api/v1/build/" + id,
			wantAction: "status", wantPath: "/" + id,
		},
		{
			name: "build id logs", method: "GET", path: "/system/api/v1/build/" + id + "/logs?tail=5",
			wantAction: "status", wantPath: "/" + id + "/logs", want: map[string]any{"tail": "5"},
		},
		{
			name: "status by query", method: "GET", path: "/system/api/v1/build/status?id=" + id,
			wantAction: "status", wantPath: "", want: map[string]any{"id": id},
		},
		{
			name: "logs action by name", method: "GET", path: "/system/api/v1/build/logs/" + id,
			wantAction: "logs", wantPath: "/" + id,
		},
		{
			name: "images tag delete", method: "DELETE", path: "/system/api/v1/build/images/v1.2",
			wantAction: "images", wantPath: "/v1.2",
		},
		{
			name: "text body", method: "POST", path: "/system/api/v1/build/cleanup",
			contentType: "text/plain", body: "hello\nworld",
			wantAction: "cleanup", want: map[string]any{"__ow_body": "hello\nworld"},
		},
		{
			name: "XML body is text", method: "PUT", path: "/system/api/v1/build/cleanup",
			contentType: "application/xml", body: "<a/>",
			wantAction: "cleanup", want: map[string]any{"__ow_body": "<a/>"},
		},
		{
			name: "binary body", method: "POST", path: "/system/api/v1/build/cleanup",
			contentType: "application/zip", body: "\x00\x01\xfe\xff",
			wantAction: "cleanup", want: map[string]any{"__ow_body": base64.StdEncoding.EncodeToString([]byte("\x00\x01\xfe\xff"))},
		},
		{
			name: "body without a content type", method: "POST", path: "/system/api/v1/build/cleanup",
			body:       "raw",
			wantAction: "cleanup", want: map[string]any{"__ow_body": base64.StdEncoding.EncodeToString([]byte("raw"))},
		},
		{
			name: "JSON array body", method: "POST", path: "/system/api/v1/build/cleanup",
			contentType: "application/json", body: `[1,"two"]`,
			wantAction: "cleanup", want: map[string]any{"__ow_body": []any{1.0, "two"}},
		},
		{
			name: "JSON string body", method: "POST", path: "/system/api/v1/build/cleanup",
			contentType: "application/json", body: `"24"`,
			wantAction: "cleanup", want: map[string]any{"__ow_body": "24"},
		},
		{
			name: "empty JSON body", method: "POST", path: "/system/api/v1/build/cleanup",
			contentType: "application/json", body: "",
			wantAction: "cleanup", wantAbsent: []string{"__ow_body"},
		},
		{
			name: "form body", method: "POST", path: "/system/api/v1/build/cleanup?max_age_hours=1",
			contentType: "application/x-www-form-urlencoded", body: "max_age_hours=24&x=a+b",
			wantAction: "cleanup", want: map[string]any{"max_age_hours": "24", "x": "a b"},
			wantAbsent: []string{"__ow_body"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.contentType != "" {
				headers = []string{"Content-Type", tt.contentType}
			}
			var body *strings.Reader
			if tt.body != "" || tt.method != "GET" {
				body = strings.NewReader(tt.body)
			}
			r := call(t, tt.method, g.URL()+tt.path, readerOrNil(body), headers...)
			e := decodeEcho(t, r)
			assert.Equal(t, "/whisk-system/builder/"+tt.wantAction, e.Env["__OW_ACTION_NAME"])
			assert.Equal(t, strings.ToLower(tt.method), e.Params["__ow_method"])
			assert.Equal(t, tt.wantPath, e.Params["__ow_path"])
			for k, v := range tt.want {
				assert.Equal(t, v, e.Params[k], "parameter %s", k)
			}
			for _, k := range tt.wantAbsent {
				assert.NotContains(t, e.Params, k)
			}
		})
	}
}

// readerOrNil keeps a nil *strings.Reader from becoming a non-nil io.Reader.
func readerOrNil(r *strings.Reader) io.Reader {
	if r == nil {
		return nil
	}
	return r
}

// onlyReader hides the length of its reader, so the client sends it chunked.
type onlyReader struct{ io.Reader }

func TestMalformedBodyIs400(t *testing.T) {
	g := startGateway(t, Options{})
	tests := []struct{ name, contentType, body string }{
		{"broken JSON", "application/json", `{"source":`},
		{"two JSON values", "application/json", `{} {}`},
		{"broken form", "application/x-www-form-urlencoded", "a=%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, http.MethodPost, g.URL()+"/system/api/v1/build/start", strings.NewReader(tt.body), "Content-Type", tt.contentType)
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Contains(t, errorOf(t, r), "The request content was malformed")
		})
	}
}

func TestHeadersReachTheActionLowerCased(t *testing.T) {
	g := startGateway(t, Options{})
	r := call(t, http.MethodPost, g.URL()+"/system/api/v1/build/start", strings.NewReader(`{"a":1}`),
		"Content-Type", "application/json",
		"Authorization", "Basic dXVpZDprZXk=",
		"X-Custom-Header", "Value With Case",
		"X-Multi", "first",
		"X-Multi", "last",
	)
	e := decodeEcho(t, r)
	h, ok := e.Params["__ow_headers"].(map[string]any)
	require.True(t, ok, "__ow_headers is an object: %v", e.Params["__ow_headers"])
	assert.Equal(t, "Basic dXVpZDprZXk=", h["authorization"])
	assert.Equal(t, "Value With Case", h["x-custom-header"], "names are lower-cased, values kept")
	assert.Equal(t, "last", h["x-multi"], "the last value of a repeated header, as the controller keeps it")
	assert.Equal(t, "application/json", h["content-type"])
	assert.Equal(t, strings.TrimPrefix(g.URL(), "http://"), h["host"])
	assert.NotContains(t, h, "content-length")
	for name := range h {
		assert.Equal(t, strings.ToLower(name), name)
	}
}

func TestInputsAreFinal(t *testing.T) {
	g := startGateway(t, Options{Inputs: map[string]any{"namespace": "builds", "max_active_builds": 3}})

	t.Run("bound and defaulted inputs reach the action", func(t *testing.T) {
		e := decodeEcho(t, call(t, http.MethodGet, webURL(g, "capabilities"), nil))
		assert.Equal(t, "builds", e.Params["namespace"])
		assert.Equal(t, 3.0, e.Params["max_active_builds"])
		assert.Equal(t, "", e.Params["kaniko_image"], "an unbound setting is bound to \"\", as the manifest binds it")
	})

	tests := []struct {
		name, query, body string
	}{
		{"body field naming a bound input", "", `{"namespace":"evil"}`},
		{"query naming a bound input", "?namespace=evil", ""},
		{"body field naming a setting bound to \"\"", "", `{"kaniko_image":"evil/kaniko"}`},
		{"body field naming __ow_method", "", `{"__ow_method":"get"}`},
		{"query naming __ow_path", "?__ow_path=/x", ""},
		{"body field naming __ow_user", "", `{"__ow_user":"alice"}`},
		{"body field naming __ow_body", "", `{"__ow_body":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, http.MethodPost, g.URL()+"/system/api/v1/build/start"+tt.query,
				strings.NewReader(tt.body), "Content-Type", "application/json")
			assert.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			assert.Equal(t, msgParamsNotAllowed, errorOf(t, r))
		})
	}
}

func TestRequestBodyLimit(t *testing.T) {
	g := startGateway(t, Options{})
	url := g.URL() + "/system/api/v1/build/start"

	// A JSON body of exactly maxEntity bytes whose result is small.
	prefix, suffix := `{"result":{"statusCode":204},"pad":"`, `"}`
	exact := prefix + strings.Repeat("p", maxEntity-len(prefix)-len(suffix)) + suffix
	require.Len(t, exact, maxEntity)

	tests := []struct {
		name    string
		body    func() io.Reader
		want    int
		wantMsg string
	}{
		{"exactly 1 MiB", func() io.Reader { return strings.NewReader(exact) }, http.StatusNoContent, ""},
		{"one byte over, with a length", func() io.Reader {
			return strings.NewReader(exact + " ")
		}, http.StatusRequestEntityTooLarge, "Request larger than allowed: 1048577 > 1048576 bytes."},
		{"over, chunked", func() io.Reader {
			return onlyReader{bytes.NewReader(make([]byte, 2*maxEntity))}
		}, http.StatusRequestEntityTooLarge, "Request larger than allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, http.MethodPost, url, tt.body(), "Content-Type", "application/json")
			assert.Equal(t, tt.want, r.status)
			if tt.wantMsg != "" {
				assert.Contains(t, errorOf(t, r), tt.wantMsg)
			}
		})
	}
}

func TestUnknownActionIs404(t *testing.T) {
	g := startGateway(t, Options{Actions: map[string]string{"start": echoPath}})
	paths := []string{
		"/api/v1/web/whisk-system/builder/nope",
		"/api/v1/web/whisk-system/builder/",
		"/api/v1/web/whisk-system/builder",
		"/api/v1/web/guest/builder/start",
		"/api/v1/web/whisk-system/other/start",
		"/api/v1/web/whisk-system/builder/start.json",
		"/system/api/v1/build/images",
		"/system/api/v1/build/0123abcd",
		"/system/api/v1/build/",
		"/system/api/v1/build",
		"/nothing",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			r := call(t, http.MethodGet, g.URL()+p, nil)
			assert.Equal(t, http.StatusNotFound, r.status)
			assert.Equal(t, msgNotFound, errorOf(t, r))
		})
	}
	t.Run("a declared size over the limit is refused first", func(t *testing.T) {
		r := call(t, http.MethodPost, g.URL()+"/api/v1/web/whisk-system/builder/nope", bytes.NewReader(make([]byte, maxEntity+1)))
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	})
	// The one action it has is served.
	assert.Equal(t, http.StatusOK, call(t, http.MethodGet, g.URL()+"/system/api/v1/build/start", nil).status)
}

func TestMethodsAndPreflight(t *testing.T) {
	g := startGateway(t, Options{})
	url := g.URL() + "/system/api/v1/build/start"

	t.Run("OPTIONS is answered by the gateway with CORS headers", func(t *testing.T) {
		r := call(t, http.MethodOptions, url, nil, "Access-Control-Request-Headers", "authorization, content-type")
		assert.Equal(t, http.StatusOK, r.status)
		assert.Empty(t, r.body)
		assert.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "authorization, content-type", r.header.Get("Access-Control-Allow-Headers"))
		assert.Empty(t, r.header.Get("X-Openwhisk-Activation-Id"), "no activation")
	})
	t.Run("an unsupported method is 405", func(t *testing.T) {
		r := call(t, "PROPFIND", url, nil)
		assert.Equal(t, http.StatusMethodNotAllowed, r.status)
	})
	t.Run("HEAD reaches the action", func(t *testing.T) {
		r := call(t, http.MethodHead, url, nil)
		assert.Equal(t, http.StatusOK, r.status)
		assert.NotEmpty(t, r.header.Get("X-Openwhisk-Activation-Id"))
	})
}
