package openwhisk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/apache/openwhisk-client-go/whisk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

// finishedJob makes a build Job of user that finished at "at".
func finishedJob(t *testing.T, user string, digit byte, at time.Time) string {
	t.Helper()
	secret := config.DefaultRegistrySecret
	j := testkube.FinishedJob(t, env.Kube.Client, buildjob.Plan{
		ID: testkube.ID(digit), User: user, Kind: "python", Namespace: local.Namespace, Pinned: env.Runtimes["python"].String(),
		PullSecret: secret, PushSecret: secret, Deadline: 15 * time.Minute, TTL: 7 * 24 * time.Hour,
		Destination: env.Registry.Host + "/" + user + ":t", Image: env.Registry.Host + "/" + user + ":t",
	}, batchv1.JobComplete, at)
	return j.Name
}

// exists reports whether the Job is still there.
func exists(t *testing.T, name string) bool {
	t.Helper()
	_, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	require.NoError(t, err)
	return true
}

// body is the web response an action's result holds.
func body(t *testing.T, result any) map[string]any {
	t.Helper()
	m, ok := result.(map[string]any)
	require.True(t, ok, "%T", result)
	b, ok := m["body"].(map[string]any)
	require.True(t, ok, "result %v", m)
	return b
}

// jsonOf encodes v, so that values decoded as json.Number and as float64
// compare equal.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// web calls the ingress path of an action with a key, as ops does.
func web(t *testing.T, method, path, token string, payload any) map[string]any {
	t.Helper()
	var rd io.Reader
	if payload != nil {
		b, err := json.Marshal(payload)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, env.Gateway.URL()+"/system/api/v1/build/"+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// The operator invokes capabilities as a plain action, blocking and not,
// and gets what the web call answers.
func TestOperatorInvokesCapabilities(t *testing.T) {
	c := client(t, systemKey(t), "_")
	res, resp, err := c.Actions.Invoke("builder/capabilities", nil, true, true)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	plain := body(t, res)
	assert.Equal(t, "ok", plain["status"])
	assert.JSONEq(t, jsonOf(t, plain), jsonOf(t, web(t, http.MethodGet, "capabilities", systemKey(t), nil)), "the web call and the plain invoke agree")

	res, resp, err = c.Actions.Invoke("builder/capabilities", nil, false, false)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	id := res.(map[string]any)["activationId"].(string)
	var a *whisk.Activation
	require.Eventually(t, func() bool {
		a, _, err = c.Activations.Get(id)
		return err == nil
	}, 30*time.Second, 100*time.Millisecond)
	assert.True(t, a.Response.Success)
	assert.Equal(t, "whisk-system", a.Namespace)
	assert.JSONEq(t, jsonOf(t, plain), jsonOf(t, body(t, a.Response.Result)))
	r, _, err := c.Activations.Result(id)
	require.NoError(t, err)
	assert.JSONEq(t, jsonOf(t, plain), jsonOf(t, body(t, r.Result)))
}

// Cleanup invoked by the operator has system scope: every user's old
// finished builds go, the recent ones stay. The same cleanup called on the
// web by a user deletes only that user's.
func TestOperatorCleanupHasSystemScope(t *testing.T) {
	aliceOld := finishedJob(t, "alice", '1', time.Now().Add(-3*time.Hour))
	bobOld := finishedJob(t, "bob", '2', time.Now().Add(-3*time.Hour))
	aliceRecent := finishedJob(t, "alice", '3', time.Now().Add(-5*time.Minute))

	c := client(t, systemKey(t), "_")
	res, _, err := c.Actions.Invoke("builder/cleanup", map[string]any{"max_age_hours": 1}, true, false)
	require.NoError(t, err)
	rec := res.(map[string]any)
	response := rec["response"].(map[string]any)
	assert.Equal(t, true, response["success"])
	out := body(t, response["result"])
	assert.Equal(t, "ok", out["status"])
	assert.Equal(t, "2", fmt.Sprint(out["deleted"]))
	assert.Eventually(t, func() bool { return !exists(t, aliceOld) && !exists(t, bobOld) }, 10*time.Second, 100*time.Millisecond)
	assert.True(t, exists(t, aliceRecent))

	aliceOld = finishedJob(t, "alice", '4', time.Now().Add(-3*time.Hour))
	bobOld = finishedJob(t, "bob", '5', time.Now().Add(-3*time.Hour))
	out = web(t, http.MethodPost, "cleanup", env.Tokens["alice"], map[string]any{"max_age_hours": 1})
	assert.Equal(t, "1", fmt.Sprint(out["deleted"]), "a user's web call cleans up that user's builds only")
	assert.Eventually(t, func() bool { return !exists(t, aliceOld) }, 10*time.Second, 100*time.Millisecond)
	assert.True(t, exists(t, bobOld))
	assert.True(t, exists(t, aliceRecent))
}

// A user's key is refused the system package: it is private, as OpenWhisk
// refuses a private package of another namespace.
func TestUserIsRefusedTheSystemPackage(t *testing.T) {
	c := client(t, env.Tokens["alice"], "whisk-system")
	for _, name := range []string{"builder/cleanup", "builder/capabilities"} {
		_, resp, err := c.Actions.Invoke(name, map[string]any{"max_age_hours": 0}, true, true)
		require.Error(t, err)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, name)
	}
	_, resp, _ := c.Packages.Get("builder")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// Where an operator shares the package, a user's plain invoke runs as the
// user: cleanup then acts on that user's builds only, never with system
// scope, whatever __ow_ parameters the user sends.
func TestSharedPackageGivesUsersTheirOwnScope(t *testing.T) {
	op := client(t, systemKey(t), "_")
	publish := func(shared bool) {
		_, _, err := op.Packages.Insert(&whisk.Package{Name: "builder", Publish: &shared}, true)
		require.NoError(t, err)
	}
	publish(true)
	defer publish(false)
	aliceOld := finishedJob(t, "alice", 'b', time.Now().Add(-3*time.Hour))
	bobOld := finishedJob(t, "bob", 'c', time.Now().Add(-3*time.Hour))

	c := client(t, env.Tokens["alice"], env.Gateway.SystemNamespace())
	res, _, err := c.Actions.Invoke("builder/cleanup", map[string]any{"max_age_hours": 1, "__ow_user": env.Gateway.SystemNamespace()}, true, true)
	require.NoError(t, err)
	assert.Equal(t, "1", fmt.Sprint(body(t, res)["deleted"]), "alice's build only")
	assert.Eventually(t, func() bool { return !exists(t, aliceOld) }, 10*time.Second, 100*time.Millisecond)
	assert.True(t, exists(t, bobOld), "another user's build stays")
}
