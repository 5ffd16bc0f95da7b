package webaction

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name        string
		args        map[string]any
		wantMethod  string
		wantHeaders map[string]string
		wantPath    string
		wantUser    string
		wantWeb     bool
	}{
		{
			name:        "nil arguments",
			args:        nil,
			wantHeaders: map[string]string{},
		},
		{
			name:        "non-web invoke",
			args:        map[string]any{"max_age_hours": "24"},
			wantHeaders: map[string]string{},
		},
		{
			name: "web call",
			args: map[string]any{
				"__ow_method":  "post",
				"__ow_headers": map[string]any{"Authorization": "Basic abc", "content-type": "application/json", "X-Mixed-Case": "v"},
				"__ow_path":    "/abc/logs",
				"__ow_user":    "alice",
			},
			wantMethod:  "POST",
			wantHeaders: map[string]string{"authorization": "Basic abc", "content-type": "application/json", "x-mixed-case": "v"},
			wantPath:    "/abc/logs",
			wantUser:    "alice",
			wantWeb:     true,
		},
		{
			name:        "method already upper case",
			args:        map[string]any{"__ow_method": "DELETE"},
			wantMethod:  "DELETE",
			wantHeaders: map[string]string{},
			wantWeb:     true,
		},
		{
			name:        "header values that are not strings",
			args:        map[string]any{"__ow_method": "get", "__ow_headers": map[string]any{"x-n": float64(3), "x-nil": nil}},
			wantMethod:  "GET",
			wantHeaders: map[string]string{"x-n": "3", "x-nil": ""},
			wantWeb:     true,
		},
		{
			name:        "headers of the wrong type",
			args:        map[string]any{"__ow_method": "get", "__ow_headers": "authorization: x"},
			wantMethod:  "GET",
			wantHeaders: map[string]string{},
			wantWeb:     true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(tt.args)
			assert.Equal(t, tt.wantMethod, r.Method)
			assert.Equal(t, tt.wantHeaders, r.Headers)
			assert.Equal(t, tt.wantPath, r.Path)
			assert.Equal(t, tt.wantUser, r.User)
			assert.Equal(t, tt.wantWeb, r.IsWeb())
			assert.NotNil(t, r.Params)
			for k, v := range tt.wantHeaders {
				assert.Equal(t, v, r.Header(k))
			}
		})
	}
}

func TestHeaderAnyCase(t *testing.T) {
	r := Decode(map[string]any{"__ow_headers": map[string]any{"Authorization": "Basic abc"}})
	assert.Equal(t, "Basic abc", r.Header("authorization"))
	assert.Equal(t, "Basic abc", r.Header("AUTHORIZATION"))
	assert.Equal(t, "", r.Header("x-missing"))
}

func TestDecodeBody(t *testing.T) {
	obj := `{"source":"apache/rt:v1","n":2}`
	tests := []struct {
		name      string
		body      any
		wantField any // the "source" field, nil when absent
	}{
		{name: "JSON text", body: obj, wantField: "apache/rt:v1"},
		{name: "JSON in base64", body: base64.StdEncoding.EncodeToString([]byte(obj)), wantField: "apache/rt:v1"},
		{name: "JSON object", body: map[string]any{"source": "apache/rt:v1"}, wantField: "apache/rt:v1"},
		{name: "not JSON", body: "source=apache/rt:v1"},
		{name: "base64 of not JSON", body: base64.StdEncoding.EncodeToString([]byte("source=x"))},
		{name: "JSON list", body: `["source"]`},
		{name: "JSON string", body: `"source"`},
		{name: "empty", body: ""},
		{name: "number", body: float64(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(map[string]any{"__ow_method": "post", "__ow_body": tt.body})
			v, ok := r.Field("source")
			assert.Equal(t, tt.wantField != nil, ok)
			assert.Equal(t, tt.wantField, v)
		})
	}
}

func TestFieldPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		args   map[string]any
		field  string
		want   any
		wantOK bool
	}{
		{
			name:  "top-level parameter first",
			args:  map[string]any{"id": "param", "__ow_query": "id=query", "__ow_body": `{"id":"body"}`},
			field: "id", want: "param", wantOK: true,
		},
		{
			name:  "query before body",
			args:  map[string]any{"__ow_query": "id=query&id=second", "__ow_body": `{"id":"body"}`},
			field: "id", want: "query", wantOK: true,
		},
		{
			name:  "body last",
			args:  map[string]any{"__ow_query": "other=1", "__ow_body": `{"id":"body"}`},
			field: "id", want: "body", wantOK: true,
		},
		{
			name:  "query with escapes",
			args:  map[string]any{"__ow_query": "since=2026-01-02T15%3A04%3A05Z&tail=10"},
			field: "since", want: "2026-01-02T15:04:05Z", wantOK: true,
		},
		{
			name:  "absent",
			args:  map[string]any{"__ow_query": "other=1", "__ow_body": `{"x":1}`},
			field: "id", wantOK: false,
		},
		{
			name:  "null parameter is present",
			args:  map[string]any{"id": nil},
			field: "id", want: nil, wantOK: true,
		},
		{
			name:  "OpenWhisk parameters are never fields",
			args:  map[string]any{"__ow_user": "alice"},
			field: "__ow_user", wantOK: false,
		},
		{
			name:  "OpenWhisk names in the body are never fields",
			args:  map[string]any{"__ow_body": `{"__ow_user":"mallory"}`},
			field: "__ow_user", wantOK: false,
		},
		{
			name:  "OpenWhisk names in the query are never fields",
			args:  map[string]any{"__ow_query": "__ow_user=mallory"},
			field: "__ow_user", wantOK: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decode(tt.args)
			v, ok := r.Field(tt.field)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, v)
		})
	}
}

func TestString(t *testing.T) {
	r := Decode(map[string]any{
		"s":     "text",
		"n":     float64(24),
		"f":     1.5,
		"b":     true,
		"null":  nil,
		"obj":   map[string]any{"a": float64(1)},
		"list":  []any{"x"},
		"empty": "",
	})
	tests := []struct {
		field string
		want  string
	}{
		{field: "s", want: "text"},
		{field: "n", want: "24"},
		{field: "f", want: "1.5"},
		{field: "b", want: "true"},
		{field: "null", want: ""},
		{field: "obj", want: `{"a":1}`},
		{field: "list", want: `["x"]`},
		{field: "empty", want: ""},
		{field: "missing", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			assert.Equal(t, tt.want, r.String(tt.field))
		})
	}
}

func TestHasAny(t *testing.T) {
	r := Decode(map[string]any{"__ow_method": "post", "__ow_body": `{"kind":"python"}`, "__ow_headers": map[string]any{}})
	assert.True(t, r.HasAny("source", "kind"))
	assert.False(t, r.HasAny("source", "target"))
	assert.False(t, r.HasAny())
	assert.False(t, r.HasAny("__ow_method", "__ow_headers"), "OpenWhisk parameters are no payload")
}

func TestPathSegments(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{path: "", want: nil},
		{path: "/", want: nil},
		{path: "/abc", want: []string{"abc"}},
		{path: "/abc/logs/", want: []string{"abc", "logs"}},
		{path: "//images//v1", want: []string{"images", "v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			require.Equal(t, tt.want, Decode(map[string]any{"__ow_path": tt.path}).PathSegments())
		})
	}
}
