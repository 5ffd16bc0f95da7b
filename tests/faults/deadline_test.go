package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

// TestDeadlineSaysWhyTheBuildWaited: the layer engine's helper image names
// a digest the registry does not have, so the node cannot pull it and the
// build waits. At the deadline the Job controller deletes the waiting Pod;
// the build's status still says what could not be pulled, read from that
// Pod's events, and nothing of the build is left unfinished.
func TestDeadlineSaysWhyTheBuildWaited(t *testing.T) {
	ctx := context.Background()
	engine := api.Call(t, "alice", http.MethodGet, "/capabilities", nil).Str("build_engine")
	api.SetEngine(t, env, "alice", "layer")
	t.Cleanup(func() { api.SetEngine(t, env, "alice", engine) })
	missing := env.Registry.Host + "/apache/openserverless-deployer/layer@sha256:" + strings.Repeat("0", 64)
	testapi.SetParameter(t, env, "layer_image", missing)
	t.Cleanup(func() { testapi.SetParameter(t, env, "layer_image", env.Steps.Layer.String()) })
	testapi.SetParameter(t, env, "build_timeout_seconds", "15")
	t.Cleanup(func() { testapi.SetParameter(t, env, "build_timeout_seconds", "300") })

	r := api.Call(t, "alice", http.MethodPost, "/start", map[string]any{
		"source": env.Source("python"), "target": fmt.Sprintf("alice:deadline-%d", time.Now().UnixNano()),
		"kind": "python", "file": b64("six==1.0\n"),
	})
	require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
	id, jobName := r.Str("id"), r.Str("job_name")

	testapi.Eventually(t, "the build waits for the helper image, saying so", func() bool {
		st := api.Call(t, "alice", http.MethodGet, "/"+id, nil)
		return st.Str("state") == "queued" && st.Str("reason") == "BuilderPullFailed" && strings.Contains(st.Str("message"), missing)
	})
	final := api.Follow(t, "alice", id)
	assert.Equal(t, "failed", final.Str("state"), "%v", final.Body)
	assert.Equal(t, "DeadlineExceeded", final.Str("reason"), "%v", final.Body)
	assert.True(t, strings.HasPrefix(final.Str("message"), "The build did not finish within its deadline: Failed to pull image \""+missing+"\""), "%v", final.Body)
	pods, err := env.Kube.Client.CoreV1().Pods(local.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + jobName})
	require.NoError(t, err)
	assert.Empty(t, pods.Items, "the Job controller deleted the waiting Pod")
	assertNothingLeft(t)
}
