package webaction

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzDecode builds the parameters of an activation as OpenWhisk sends them
// — the JSON body's fields at the top level, __ow_headers, __ow_method,
// __ow_path, __ow_query and __ow_body as text or base64 — from fuzzed bytes,
// and checks what Decode makes of them: the method in upper case, header
// names in lower case, path segments without "/", no "__ow_" name ever a
// field, and each field found where the precedence says (parameter, then
// query, then body).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"source":"r/x:1","target":"alice:v1","kind":"python"}`), []byte(`{"authorization":"u:k","Content-Type":"application/json"}`),
		"post", "/", "", "", false)
	f.Add([]byte(`{}`), []byte(`{"A":"1","a":"2"}`), "get", "/abc//logs/", "tail=5&since=2026-01-02T15:04:05Z", "", false)
	f.Add([]byte(`{"__ow_user":"alice","id":3}`), []byte(`[1,2]`), "DELETE", "", "id=x&id=y", `{"id":"body","n":null}`, true)
	f.Add([]byte(`null`), []byte(`{"x":{"y":[true]}}`), "", "%zz", "a=%zz&b=1;c", `not json`, false)
	f.Fuzz(func(t *testing.T, params, headers []byte, method, path, query, body string, b64 bool) {
		args := map[string]any{}
		_ = json.Unmarshal(params, &args)
		if args == nil { // the JSON null
			args = map[string]any{}
		}
		var h any
		if json.Unmarshal(headers, &h) == nil {
			args["__ow_headers"] = h
		}
		args["__ow_method"], args["__ow_path"], args["__ow_query"] = method, path, query
		if b64 {
			args["__ow_body"] = base64.StdEncoding.EncodeToString([]byte(body))
		} else {
			args["__ow_body"] = body
		}

		r := Decode(args)

		assert.Equal(t, strings.ToUpper(method), r.Method)
		assert.Equal(t, method != "", r.IsWeb())
		assert.Equal(t, path, r.Path)
		checkSegments(t, path, r.PathSegments())
		checkHeaders(t, h, r)

		for name := range args {
			if strings.HasPrefix(name, "__ow_") {
				_, ok := r.Field(name)
				assert.False(t, ok, "%q is a field", name)
				assert.Empty(t, r.String(name))
			}
		}
		for name, v := range args {
			if !strings.HasPrefix(name, "__ow_") {
				got, ok := r.Field(name)
				require.True(t, ok, "parameter %q", name)
				assert.Equal(t, v, got, "parameter %q", name)
			}
		}
		q, _ := url.ParseQuery(query)
		for name, vs := range q {
			if _, shadowed := args[name]; shadowed || strings.HasPrefix(name, "__ow_") || len(vs) == 0 {
				continue
			}
			assert.Equal(t, vs[0], r.String(name), "query %q", name)
		}
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) == nil {
			for name, v := range m {
				_, inArgs := args[name]
				if inArgs || q.Has(name) || strings.HasPrefix(name, "__ow_") {
					continue
				}
				got, ok := r.Field(name)
				require.True(t, ok, "body field %q", name)
				assert.Equal(t, v, got, "body field %q", name)
				assert.True(t, r.HasAny("\x00none", name))
			}
		}
	})
}

// checkSegments: the segments are the path's non-empty parts, in order.
func checkSegments(t *testing.T, path string, seg []string) {
	t.Helper()
	for _, s := range seg {
		assert.NotEmpty(t, s)
		assert.NotContains(t, s, "/")
	}
	assert.Equal(t, strings.ReplaceAll(path, "/", ""), strings.Join(seg, ""))
}

// checkHeaders: every name is lower case and every header sent is found by
// any spelling of its name, with the value of one of the names that
// lower-case alike (OpenWhisk sends them lower-cased, so which one wins
// does not matter).
func checkHeaders(t *testing.T, sent any, r Request) {
	t.Helper()
	for k := range r.Headers {
		assert.Equal(t, strings.ToLower(k), k)
	}
	m, ok := sent.(map[string]any)
	if !ok {
		assert.Empty(t, r.Headers, "headers of type %T", sent)
		return
	}
	for k := range m {
		var candidates []string
		for k2, v2 := range m {
			if strings.ToLower(k2) == strings.ToLower(k) {
				candidates = append(candidates, str(v2))
			}
		}
		assert.Contains(t, candidates, r.Header(k), "header %q", k)
		if ascii(k) { // header names are ASCII tokens; Unicode case folding is not HTTP's
			assert.Contains(t, candidates, r.Header(strings.ToUpper(k)), "header %q", k)
		}
	}
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
