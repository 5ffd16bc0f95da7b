package webaction

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/fault"
)

func TestFromErrorStatus(t *testing.T) {
	tests := []struct {
		kind fault.Kind
		want int
	}{
		{kind: fault.Internal, want: 500},
		{kind: fault.Invalid, want: 400},
		{kind: fault.Unauthorized, want: 401},
		{kind: fault.NotFound, want: 404},
		{kind: fault.MethodNotAllowed, want: 405},
		{kind: fault.Conflict, want: 409},
		{kind: fault.TooLarge, want: 413},
		{kind: fault.TooMany, want: 429},
		{kind: fault.Unavailable, want: 503},
		{kind: fault.Pending, want: 202},
		{kind: fault.Kind(99), want: 500},
		{kind: fault.Kind(-1), want: 500},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("kind %d", tt.kind), func(t *testing.T) {
			err := fault.New(tt.kind, "SomeReason", "Something happened")
			r := FromError(err)
			assert.Equal(t, tt.want, r.Status)
			assert.Equal(t, tt.want, Status(err))
			assert.Equal(t, map[string]any{"status": "ko", "message": "Something happened", "reason": "SomeReason"}, r.Body)
			assert.Nil(t, r.Headers)
		})
	}
}

func TestFromErrorWrapped(t *testing.T) {
	cause := errors.New("dial tcp 127.0.0.2:443: secret internal detail")
	err := fmt.Errorf("starting build: %w", fault.Wrap(cause, fault.Unavailable, "KubernetesUnavailable", "Kubernetes API is unavailable"))
	r := FromError(err)
	assert.Equal(t, http.StatusServiceUnavailable, r.Status)
	assert.Equal(t, "Kubernetes API is unavailable", r.Body["message"])
	assert.Equal(t, "KubernetesUnavailable", r.Body["reason"])
	assert.NotContains(t, fmt.Sprint(r.Body), "secret internal detail", "the cause is never shown")
}

func TestFromErrorPlainError(t *testing.T) {
	err := errors.New("open /var/run/secrets/token: permission denied")
	r := FromError(err)
	assert.Equal(t, http.StatusInternalServerError, r.Status)
	assert.Equal(t, http.StatusInternalServerError, Status(err))
	assert.Equal(t, map[string]any{"status": "ko", "message": "Internal error", "reason": "InternalError"}, r.Body)
	b, jerr := json.Marshal(r.Map())
	require.NoError(t, jerr)
	assert.NotContains(t, string(b), "permission denied")
	assert.NotContains(t, string(b), "/var/run")
}

func TestFromErrorRetryAfter(t *testing.T) {
	tests := []struct {
		name        string
		retryAfter  int
		wantHeaders map[string]string
	}{
		{name: "none", retryAfter: 0, wantHeaders: nil},
		{name: "thirty seconds", retryAfter: 30, wantHeaders: map[string]string{"Retry-After": "30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := fault.New(fault.TooMany, "QuotaExceeded", "Too many")
			e.RetryAfter = tt.retryAfter
			r := FromError(e)
			assert.Equal(t, http.StatusTooManyRequests, r.Status)
			assert.Equal(t, tt.wantHeaders, r.Headers)
			h := r.Map()["headers"].(map[string]any)
			assert.Equal(t, "application/json", h["Content-Type"])
			if tt.wantHeaders != nil {
				assert.Equal(t, "30", h["Retry-After"])
			} else {
				assert.NotContains(t, h, "Retry-After")
			}
		})
	}
}

func TestFromErrorDetails(t *testing.T) {
	e := fault.New(fault.Conflict, "BuildFailed", "The build failed")
	e.Details = map[string]any{"state": "failed", "logs": []string{"step 1"}, "status": "failed", "reason": "Other", "message": "other"}
	r := FromError(e)
	assert.Equal(t, http.StatusConflict, r.Status)
	assert.Equal(t, map[string]any{
		"status":  "ko",
		"message": "The build failed",
		"reason":  "BuildFailed",
		"state":   "failed",
		"logs":    []string{"step 1"},
	}, r.Body)
}

func TestFromErrorWithoutReason(t *testing.T) {
	r := FromError(&fault.Error{Kind: fault.NotFound, Message: "No such build"})
	assert.Equal(t, map[string]any{"status": "ko", "message": "No such build"}, r.Body)
	assert.Equal(t, http.StatusNotFound, r.Status)
}

func TestReply(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		message string
		fields  map[string]any
		want    map[string]any
	}{
		{
			name: "start", status: 200, message: "Build process initiated successfully. Job: build-alice-1",
			fields: map[string]any{"id": "abc", "job_name": "build-alice-1"},
			want:   map[string]any{"status": "ok", "message": "Build process initiated successfully. Job: build-alice-1", "id": "abc", "job_name": "build-alice-1"},
		},
		{
			name: "no message", status: 202, fields: map[string]any{"state": "queued"},
			want: map[string]any{"status": "ok", "state": "queued"},
		},
		{
			name: "nothing", status: 200,
			want: map[string]any{"status": "ok"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reply(tt.status, tt.message, tt.fields)
			assert.Equal(t, tt.status, r.Status)
			assert.Equal(t, tt.want, r.Body)
			m := r.Map()
			assert.Equal(t, tt.status, m["statusCode"])
			assert.Equal(t, map[string]any{"Content-Type": "application/json"}, m["headers"])
			assert.Equal(t, tt.want, m["body"])
		})
	}
}

func TestMapHeaders(t *testing.T) {
	r := Response{Status: 200, Headers: map[string]string{"X-A": "1", "Content-Type": "text/plain"}, Body: map[string]any{}}
	assert.Equal(t, map[string]any{"X-A": "1", "Content-Type": "text/plain"}, r.Map()["headers"])
}
