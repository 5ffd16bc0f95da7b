package main

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVerb(t *testing.T) {
	tests := []struct {
		method, url, want string
	}{
		{http.MethodGet, "/apis/batch/v1/namespaces/builds/jobs?labelSelector=a%3Db&limit=500", "list"},
		{http.MethodGet, "/apis/batch/v1/namespaces/builds/jobs/build-a", "get"},
		{http.MethodGet, "/apis/batch/v1/namespaces/builds/jobs/build-a/status", "get"},
		{http.MethodGet, "/apis/batch/v1/jobs", "list"},
		{http.MethodGet, "/apis/batch/v1/namespaces/builds/jobs?watch=true", "watch"},
		{http.MethodGet, "/api/v1/namespaces", "list"},
		{http.MethodGet, "/api/v1/namespaces/builds", "get"},
		{http.MethodGet, "/api/v1/namespaces/builds/configmaps", "list"},
		{http.MethodGet, "/api/v1/namespaces/builds/configmaps/config", "get"},
		{http.MethodDelete, "/apis/batch/v1/namespaces/builds/jobs/build-a", "delete"},
		{http.MethodDelete, "/apis/batch/v1/namespaces/builds/jobs", "deletecollection"},
		{http.MethodPost, "/apis/batch/v1/namespaces/builds/jobs", "create"},
		{http.MethodPut, "/apis/batch/v1/namespaces/builds/jobs/build-a/status", "update"},
		{http.MethodPatch, "/apis/batch/v1/namespaces/builds/jobs/build-a", "patch"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.url, func(t *testing.T) {
			assert.Equal(t, tt.want, verb(httptest.NewRequest(tt.method, tt.url, nil)))
		})
	}
}
