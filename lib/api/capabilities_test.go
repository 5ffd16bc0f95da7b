package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testweb"
)

func TestCapabilities(t *testing.T) {
	resp := Serve(context.Background(), testEnv(&countingVerifier{}, nil), testweb.Args("get", "", aliceToken, nil), Capabilities)
	require.Equal(t, http.StatusOK, resp.Status, "%v", resp.Body)
	assert.Equal(t, "ok", resp.Body["status"])
	assert.Equal(t, buildjob.Version, resp.Body["version"], "the recipe version runtimebuild makes ids with")
	kinds, ok := resp.Body["kinds"].(map[string]string)
	require.True(t, ok, "%T", resp.Body["kinds"])
	assert.Equal(t, "requirements.txt", kinds["python"])
	assert.Equal(t, "go.mod", kinds["go"])
	limits, ok := resp.Body["limits"].(map[string]any)
	require.True(t, ok)
	assert.Equal(t, runtimebuild.MaxLogTail, limits["log_tail_max"], "the tail runtimebuild bounds a page by")
	assert.Equal(t, 8760, limits["max_age_hours_max"])
	assert.Equal(t, 2, limits["max_active_builds_per_user"])
	assert.Equal(t, 10, limits["max_active_builds"])
	assert.Equal(t, 900, limits["build_timeout_seconds"])
	assert.Equal(t, "2Gi", limits["build_memory_limit"])
	assert.Equal(t, "10Gi", limits["build_ephemeral_storage_limit"])
	assert.Equal(t, []string{"docker.io/apache/openserverless-runtime-*"}, resp.Body["allowed_sources"])
	assert.Equal(t, "kaniko", resp.Body["build_engine"])
	assert.Equal(t, true, resp.Body["user_namespace"])
}

func TestCapabilitiesRefusesOtherMethods(t *testing.T) {
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions} {
		t.Run(m, func(t *testing.T) {
			resp := Serve(context.Background(), testEnv(&countingVerifier{}, nil), testweb.Args(m, "", aliceToken, nil), Capabilities)
			assert.Equal(t, http.StatusMethodNotAllowed, resp.Status, "%v", resp.Body)
			assert.Equal(t, "MethodNotAllowed", resp.Body["reason"])
		})
	}
}

// The defaults the log parameters are read with are the ones runtimebuild
// applies.
func TestLogLimitsAreRuntimebuilds(t *testing.T) {
	assert.Equal(t, runtimebuild.DefaultLogTail, DefaultLogTail)
	assert.Equal(t, runtimebuild.MaxLogTail, MaxLogTail)
}
