package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/webaction"
)

// named is an operation that answers its name.
func named(name string) Operation {
	return func(context.Context, Call) (webaction.Response, error) {
		return webaction.Reply(http.StatusOK, name, nil), nil
	}
}

func TestRoutes(t *testing.T) {
	status := Routes{
		On(http.MethodGet, "", named("status")),
		On(http.MethodDelete, "", named("cancel")),
		On(http.MethodGet, "{id}", named("status")),
		On(http.MethodDelete, "{id}", named("cancel")),
		On(http.MethodGet, "{id}/logs", named("logs")),
	}
	anyPath := Routes{On(http.MethodDelete, "*", named("cancel")), On(http.MethodPost, "*", named("cancel"))}
	tests := []struct {
		name       string
		routes     Routes
		method     string // as OpenWhisk sends it, lower case; "" for a non-web invoke
		path       string
		want       string // the operation that answers
		wantStatus int
		wantReason string
	}{
		{name: "root", routes: status, method: "get", path: "", want: "status"},
		{name: "a slash is the root", routes: status, method: "delete", path: "/", want: "cancel"},
		{name: "one segment", routes: status, method: "get", path: "/ab", want: "status"},
		{name: "trailing slash", routes: status, method: "delete", path: "/ab/", want: "cancel"},
		{name: "a word", routes: status, method: "get", path: "/ab/logs", want: "logs"},
		{name: "another method", routes: status, method: "post", path: "/ab", wantStatus: http.StatusMethodNotAllowed, wantReason: "MethodNotAllowed"},
		{name: "head is not get", routes: status, method: "head", path: "/ab", wantStatus: http.StatusMethodNotAllowed, wantReason: "MethodNotAllowed"},
		{name: "another method below", routes: status, method: "delete", path: "/ab/logs", wantStatus: http.StatusMethodNotAllowed, wantReason: "MethodNotAllowed"},
		{name: "unknown word, before the method", routes: status, method: "put", path: "/ab/x", wantStatus: http.StatusNotFound, wantReason: "NotFound"},
		{name: "too deep", routes: status, method: "get", path: "/ab/logs/x", wantStatus: http.StatusNotFound, wantReason: "NotFound"},
		{name: "non-web invoke takes the first route", routes: status, method: "", path: "/ab", want: "status"},
		{name: "non-web invoke, no route", routes: status, method: "", path: "/ab/x", wantStatus: http.StatusNotFound, wantReason: "NotFound"},
		{name: "any path", routes: anyPath, method: "delete", path: "/a/b/c", want: "cancel"},
		{name: "any path, second row", routes: anyPath, method: "post", path: "", want: "cancel"},
		{name: "any path, another method", routes: anyPath, method: "get", path: "/a", wantStatus: http.StatusMethodNotAllowed, wantReason: "MethodNotAllowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Call{Request: webaction.Decode(map[string]any{"__ow_method": tt.method, "__ow_path": tt.path})}
			resp, err := tt.routes.Serve(context.Background(), c)
			if tt.want != "" {
				require.NoError(t, err)
				assert.Equal(t, tt.want, resp.Body["message"])
				return
			}
			resp = webaction.FromError(err)
			assert.Equal(t, tt.wantStatus, resp.Status)
			assert.Equal(t, tt.wantReason, resp.Body["reason"])
			if tt.wantStatus == http.StatusMethodNotAllowed {
				assert.Equal(t, "Method "+strings.ToUpper(tt.method)+" is not allowed here", resp.Body["message"])
			} else {
				assert.Equal(t, "No such resource: "+tt.path, resp.Body["message"])
			}
		})
	}
}
