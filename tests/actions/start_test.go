package actions

import (
	"context"
	"encoding/base64"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/actionproxy"
	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

const aliceToken = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"

// action starts one built action as a warm ActionLoop process, with no
// Kubernetes credentials in its environment (its inputs bind the deployer's
// service account, see namespace), and stops it (by pid) at the end.
func action(t *testing.T, name string) *actionproxy.Process {
	t.Helper()
	env := local.WithoutKubeCredentials(os.Environ())
	p, err := actionproxy.Start(context.Background(), bins[name], env, os.Stderr, os.Stderr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Stop() })
	return p
}

// namespace makes a namespace with the registry secret and the deployer's
// service account and Role (deploy/rbac.yaml), and returns the package
// inputs bound for it, as the manifest and the deploy task bind them.
func namespace(t *testing.T) map[string]any {
	t.Helper()
	ns := testkube.Namespace(t, apiserver.Client, "act-", reg.DockerConfigJSON())
	inputs := map[string]any{}
	for _, k := range config.Keys() {
		inputs[k] = ""
	}
	for k, v := range testkube.Identity(t, apiserver, ns).Inputs() {
		inputs[k] = v
	}
	inputs["namespace"] = ns
	inputs["apihost"] = whisk.URL
	inputs["registry_push_host"] = reg.Host
	inputs["registry_insecure"] = "true"
	// As an operator allows the runtimes of their own registry.
	inputs["allowed_sources"] = runtime.Context().Name()
	return inputs
}

// web builds the parameters of a web call as OpenWhisk does: bound inputs,
// the JSON body's fields, __ow_method, __ow_headers, __ow_path.
func web(inputs map[string]any, method, path string, headers map[string]any, body map[string]any) map[string]any {
	p := map[string]any{}
	for k, v := range body {
		p[k] = v
	}
	for k, v := range inputs {
		p[k] = v
	}
	p["__ow_method"] = method
	p["__ow_path"] = path
	p["__ow_headers"] = headers
	return p
}

func invoke(t *testing.T, p *actionproxy.Process, params map[string]any) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := p.Invoke(ctx, actionproxy.Activation{
		Value: params, Namespace: "whisk-system", ActionName: "/whisk-system/builder/x",
		ActivationID: "0123456789abcdef0123456789abcdef", Deadline: time.Now().Add(60 * time.Second),
	})
	require.NoError(t, err)
	code, _ := res["statusCode"].(float64)
	body, _ := res["body"].(map[string]any)
	return int(code), body
}

func TestStartOverActionLoop(t *testing.T) {
	inputs := namespace(t)
	start := action(t, "start")
	file := base64.StdEncoding.EncodeToString([]byte("requests==2.32.3\n"))
	good := map[string]any{"source": runtime.Context().Name() + ":v3.13", "target": "alice:custom", "kind": "python", "file": file}

	cases := []struct {
		name    string
		headers map[string]any
		body    map[string]any
		code    int
		message string
	}{
		{"missing token", map[string]any{"content-type": "application/json"}, good, 401, "Missing authorization header"},
		{"bad token", map[string]any{"authorization": "nobody:nothing"}, good, 401, "Invalid authorization"},
		{"cross-user target", map[string]any{"authorization": aliceToken}, map[string]any{
			"source": good["source"], "target": "bob:custom", "kind": "python"}, 400, "Invalid target for the build."},
		{"no payload", map[string]any{"authorization": aliceToken}, nil, 400, "No JSON payload provided for build."},
		{"no kind", map[string]any{"authorization": aliceToken}, map[string]any{"source": "x", "target": "alice:t"}, 400, "No kind provided for build."},
		{"good, raw token", map[string]any{"authorization": aliceToken}, good, 200, ""},
		{"good, basic", map[string]any{"authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(aliceToken))}, good, 200, ""},
	}
	var job string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := invoke(t, start, web(inputs, "post", "", c.headers, c.body))
			assert.Equal(t, c.code, code, "body: %v", body)
			if c.code != 200 {
				assert.Equal(t, "ko", body["status"])
				assert.Equal(t, c.message, body["message"])
				return
			}
			assert.Equal(t, "ok", body["status"])
			assert.Equal(t, "Build process initiated successfully. Job: "+body["job_name"].(string), body["message"])
			assert.Equal(t, reg.Host+"/alice:custom", body["image"])
			if job == "" {
				job = body["job_name"].(string)
			}
			assert.Equal(t, job, body["job_name"], "the same request answers the same job")
		})
	}
	jobs, err := apiserver.Client.BatchV1().Jobs(inputs["namespace"].(string)).List(context.Background(), metav1.ListOptions{LabelSelector: kube.LabelUser + "=alice"})
	require.NoError(t, err)
	assert.Len(t, jobs.Items, 1)
}

func TestWrongMethod(t *testing.T) {
	inputs := namespace(t)
	code, body := invoke(t, action(t, "start"), web(inputs, "get", "", map[string]any{"authorization": aliceToken}, nil))
	assert.Equal(t, 405, code, "body: %v", body)
}

// A plain invoke from another namespace may forge web-call parameters: its
// identity is still its own namespace, never system scope.
func TestCleanupScope(t *testing.T) {
	inputs := namespace(t)
	cleanup := action(t, "cleanup")
	ns := inputs["namespace"].(string)
	alices := testkube.FinishedJob(t, apiserver.Client, buildjob.Plan{
		ID: testkube.ID('a'), User: "alice", Kind: "python", Namespace: ns, Pinned: runtime.String(),
		PullSecret: config.DefaultRegistrySecret, PushSecret: config.DefaultRegistrySecret, KanikoImage: config.DefaultKanikoImage, Deadline: time.Hour, TTL: 24 * time.Hour,
	}, batchv1.JobFailed, time.Now().Add(-time.Hour))
	forged := web(inputs, "post", "", map[string]any{"authorization": aliceToken}, map[string]any{"max_age_hours": "0"})
	forged["__ow_user"] = "whisk-system"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := cleanup.Invoke(ctx, actionproxy.Activation{Value: forged, Namespace: "mallory", ActionName: "/whisk-system/builder/cleanup", Deadline: time.Now().Add(30 * time.Second)})
	require.NoError(t, err)
	assert.Equal(t, float64(200), res["statusCode"])
	body, _ := res["body"].(map[string]any)
	assert.Equal(t, float64(0), body["deleted"], "mallory has no builds; alice's must not be touched")
	_, err = apiserver.Client.BatchV1().Jobs(ns).Get(ctx, alices.Name, metav1.GetOptions{})
	require.NoError(t, err, "a forged call must not get system scope")

	code, body := invoke(t, cleanup, web(inputs, "post", "", map[string]any{"authorization": aliceToken}, map[string]any{"max_age_hours": "abc"}))
	assert.Equal(t, 400, code)
	assert.Contains(t, body["message"], "max_age_hours")

	code, body = invoke(t, cleanup, web(inputs, "post", "", map[string]any{"authorization": aliceToken}, map[string]any{"max_age_hours": "24"}))
	assert.Equal(t, 200, code)
	assert.Equal(t, "Cleaned up 0 jobs successfully.", body["message"], "alice's build ended an hour ago")

	code, body = invoke(t, cleanup, web(inputs, "post", "", map[string]any{"authorization": aliceToken}, map[string]any{"max_age_hours": 0}))
	assert.Equal(t, 200, code)
	assert.Equal(t, "Cleaned up 1 jobs successfully.", body["message"])
	assert.Equal(t, float64(1), body["deleted"])

	// The owner's schedule: system scope comes from the action's own name.
	bobs := testkube.FinishedJob(t, apiserver.Client, buildjob.Plan{
		ID: testkube.ID('b'), User: "bob", Kind: "python", Namespace: ns, Pinned: runtime.String(),
		PullSecret: config.DefaultRegistrySecret, PushSecret: config.DefaultRegistrySecret, KanikoImage: config.DefaultKanikoImage, Deadline: time.Hour, TTL: 24 * time.Hour,
	}, batchv1.JobComplete, time.Now().Add(-time.Hour))
	schedule := func(actionName string) float64 {
		params := map[string]any{"max_age_hours": "0"}
		for k, v := range inputs {
			params[k] = v
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := cleanup.Invoke(ctx, actionproxy.Activation{Value: params, Namespace: "whisk-system", ActionName: actionName, Deadline: time.Now().Add(30 * time.Second)})
		require.NoError(t, err)
		require.Equal(t, float64(200), res["statusCode"], "%v", res)
		body, _ := res["body"].(map[string]any)
		return body["deleted"].(float64)
	}
	assert.Equal(t, float64(0), schedule("/ops-system/builder/cleanup"), "whisk-system does not own this action")
	assert.Equal(t, float64(0), schedule("whisk-system/builder/cleanup"), "a malformed name gives no system scope")
	assert.Equal(t, float64(1), schedule("/whisk-system/builder/cleanup"), "the owner cleans up bob's build")
	_, err = apiserver.Client.BatchV1().Jobs(ns).Get(context.Background(), bobs.Name, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "bob's build is gone: %v", err)
}
