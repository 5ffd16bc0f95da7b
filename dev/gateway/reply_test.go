package gateway

import (
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResultBecomesHTTP(t *testing.T) {
	log := newSyncBuffer()
	g := startGateway(t, Options{Log: log})
	png := "\x89PNG\r\n\x1a\n"

	tests := []struct {
		name        string
		result      map[string]any
		wantStatus  int
		wantType    string            // Content-Type of the reply; "" means none
		wantBody    string            // exact body, unless wantJSON or wantError
		wantJSON    string            // body as JSON
		wantError   string            // an OpenWhisk error reply with this message
		wantHeaders map[string]string // other headers
	}{
		{
			name: "status, headers and a JSON body",
			result: map[string]any{"statusCode": 201, "headers": map[string]any{"X-Build": "b1", "Content-Type": "application/json"},
				"body": map[string]any{"status": "ok", "html": "<b>"}},
			wantStatus: 201, wantType: "application/json", wantJSON: `{"status":"ok","html":"<b>"}`,
			wantHeaders: map[string]string{"X-Build": "b1"},
		},
		{
			name:       "a JSON array body",
			result:     map[string]any{"body": []any{1, "a"}},
			wantStatus: 200, wantType: "application/json", wantJSON: `[1,"a"]`,
		},
		{
			name:       "status code as a string",
			result:     map[string]any{"statusCode": "202", "body": map[string]any{"state": "queued"}},
			wantStatus: 202, wantType: "application/json", wantJSON: `{"state":"queued"}`,
		},
		{
			name:       "a string body defaults to HTML",
			result:     map[string]any{"body": "<p>hi</p>"},
			wantStatus: 200, wantType: "text/html; charset=UTF-8", wantBody: "<p>hi</p>",
		},
		{
			name:       "a string body under a JSON type is sent as it is",
			result:     map[string]any{"headers": map[string]any{"content-type": "application/json"}, "body": `{"a":1}`},
			wantStatus: 200, wantType: "application/json", wantBody: `{"a":1}`,
		},
		{
			name:       "a binary body is base64-decoded",
			result:     map[string]any{"headers": map[string]any{"Content-Type": "image/png"}, "body": base64.StdEncoding.EncodeToString([]byte(png))},
			wantStatus: 200, wantType: "image/png", wantBody: png,
		},
		{
			name:       "no body is 204",
			result:     map[string]any{"headers": map[string]any{"X-A": "b"}},
			wantStatus: 204, wantHeaders: map[string]string{"X-A": "b"},
		},
		{
			name:       "an empty string body with a status",
			result:     map[string]any{"statusCode": 200, "body": ""},
			wantStatus: 200,
		},
		{
			name:       "header values of every kind",
			result:     map[string]any{"statusCode": 200, "headers": map[string]any{"X-N": 5, "X-F": 1.5, "X-B": true}, "body": "x"},
			wantStatus: 200, wantType: "text/html; charset=UTF-8", wantBody: "x",
			wantHeaders: map[string]string{"X-N": "5", "X-F": "1.5", "X-B": "true"},
		},
		{
			name:       "an application error carrying a response",
			result:     map[string]any{"error": map[string]any{"statusCode": 409, "body": map[string]any{"status": "ko"}}},
			wantStatus: 409, wantType: "application/json", wantJSON: `{"status":"ko"}`,
		},
		{
			name:       "an application error that is a message",
			result:     map[string]any{"error": "boom"},
			wantStatus: 400, wantError: msgInvalidHTTP,
		},
		{
			name:       "status code not a number",
			result:     map[string]any{"statusCode": "abc"},
			wantStatus: 400, wantError: msgInvalidHTTP,
		},
		{
			name:       "status code not whole",
			result:     map[string]any{"statusCode": 200.5},
			wantStatus: 400, wantError: msgInvalidHTTP,
		},
		{
			name:       "status code unknown",
			result:     map[string]any{"statusCode": 99},
			wantStatus: 400, wantError: msgInvalidHTTP,
		},
		{
			name:       "headers not an object",
			result:     map[string]any{"headers": "x"},
			wantStatus: 400, wantError: msgInvalidHTTP,
		},
		{
			name:       "a header value that is an object",
			result:     map[string]any{"headers": map[string]any{"X": map[string]any{"y": 1}}},
			wantStatus: 400, wantError: msgInvalidHTTP,
		},
		{
			name:       "an object body under a text type",
			result:     map[string]any{"headers": map[string]any{"Content-Type": "text/plain"}, "body": map[string]any{"a": 1}},
			wantStatus: 400, wantError: msgContentTypeError,
		},
		{
			name:       "a binary body that is not base64",
			result:     map[string]any{"headers": map[string]any{"Content-Type": "image/png"}, "body": "not base64!"},
			wantStatus: 400, wantError: msgContentTypeError,
		},
		{
			name:       "a content type that does not parse",
			result:     map[string]any{"headers": map[string]any{"Content-Type": "///"}, "body": "x"},
			wantStatus: 400, wantError: msgUnknownContentType,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, http.MethodPost, g.URL()+"/system/api/v1/build/start",
				jsonBody(t, map[string]any{"result": tt.result}), "Content-Type", "application/json")
			assert.Equal(t, tt.wantStatus, r.status, "body: %s", r.body)
			assert.Regexp(t, `^[0-9a-f]{32}$`, r.header.Get("X-Openwhisk-Activation-Id"))
			assert.Equal(t, "*", r.header.Get("Access-Control-Allow-Origin"))
			switch {
			case tt.wantError != "":
				assert.Equal(t, tt.wantError, errorOf(t, r))
				return
			case tt.wantJSON != "":
				assert.JSONEq(t, tt.wantJSON, string(r.body))
			default:
				assert.Equal(t, tt.wantBody, string(r.body))
			}
			assert.Equal(t, tt.wantType, r.header.Get("Content-Type"))
			for k, v := range tt.wantHeaders {
				assert.Equal(t, v, r.header.Get(k), "header %s", k)
			}
		})
	}

	t.Run("repeated header values", func(t *testing.T) {
		r := call(t, http.MethodPost, g.URL()+"/system/api/v1/build/start",
			jsonBody(t, map[string]any{"result": map[string]any{"headers": map[string]any{"Set-Cookie": []any{"a=1", "b=2"}}}}),
			"Content-Type", "application/json")
		assert.Equal(t, []string{"a=1", "b=2"}, r.header.Values("Set-Cookie"))
	})
	assert.Contains(t, log.String(), `application error: "boom"`, "an application error is logged")
}

func TestOversizedResultIsADeveloperError(t *testing.T) {
	log := newSyncBuffer()
	g := startGateway(t, Options{Log: log})
	url := g.URL() + "/system/api/v1/build/start"

	tests := []struct {
		name string
		size int
		want int
	}{
		{"under the limit", maxEntity - 100, http.StatusOK},
		{"over the limit", maxEntity + 1, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, http.MethodPost, url, jsonBody(t, map[string]any{"big": tt.size}), "Content-Type", "application/json")
			require.Equal(t, tt.want, r.status)
			if tt.want == http.StatusOK {
				assert.Equal(t, tt.size, len(r.body))
				return
			}
			assert.Equal(t, msgProcessingError, errorOf(t, r))
		})
	}
	assert.Contains(t, log.String(), "exceeded the allowed length")
	assert.Equal(t, http.StatusOK, call(t, http.MethodGet, url, nil).status, "the action still serves")
}

func TestActivationEnvelope(t *testing.T) {
	tests := []struct {
		name      string
		namespace string
		path      string
		wantNS    string
	}{
		{"default system namespace", "", "/api/v1/web/whisk-system/builder/start", "whisk-system"},
		{"another system namespace", "nuvolaris", "/api/v1/web/nuvolaris/builder/start", "nuvolaris"},
		{"ingress path", "nuvolaris", "/system/api/v1/build/start", "nuvolaris"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subjects := NewSubjects()
			g := startGateway(t, Options{SystemNamespace: tt.namespace, Subjects: subjects, Timeout: 90 * time.Second})
			before := nowMillis()
			r := call(t, http.MethodGet, g.URL()+tt.path, nil)
			after := nowMillis()
			e := decodeEcho(t, r)

			assert.Equal(t, tt.wantNS, e.Env["__OW_NAMESPACE"], "a web action runs as its owner")
			assert.Equal(t, "/"+tt.wantNS+"/builder/start", e.Env["__OW_ACTION_NAME"])
			assert.Equal(t, g.URL(), e.Env["__OW_API_HOST"])
			assert.Regexp(t, `^[0-9a-f]{32}$`, e.Env["__OW_ACTIVATION_ID"])
			assert.Equal(t, r.header.Get("X-Openwhisk-Activation-Id"), e.Env["__OW_ACTIVATION_ID"])
			deadline := parseInt(t, e.Env["__OW_DEADLINE"])
			assert.GreaterOrEqual(t, deadline, before+90_000)
			assert.LessOrEqual(t, deadline, after+90_000)

			key := e.Env["__OW_API_KEY"]
			want, ok := subjects.Token(tt.wantNS)
			require.True(t, ok, "New adds a key of the system namespace")
			assert.Equal(t, want, key)
			assert.Equal(t, tt.wantNS, verify(t, g.URL(), key), "the key is one the namespaces API knows")
			assert.NotContains(t, e.Params, "__ow_user")
		})
	}
}

func TestSystemKeyIsReused(t *testing.T) {
	subjects := NewSubjects()
	token := subjects.Add("whisk-system")
	_, err := New(Options{Actions: map[string]string{"start": echoPath}, Subjects: subjects})
	require.NoError(t, err)
	got, _ := subjects.Token("whisk-system")
	assert.Equal(t, token, got)
	var keys int
	for _, s := range subjects.all {
		if s.Namespace == "whisk-system" {
			keys++
		}
	}
	assert.Equal(t, 1, keys, "no second key when the store has one")
}
