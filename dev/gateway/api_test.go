package gateway

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/openwhisk-client-go/whisk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoZip packs the echo executable as `task build` packs an action.
func echoZip(t *testing.T, execEnv string) string {
	t.Helper()
	exe, err := os.ReadFile(echoPath)
	require.NoError(t, err)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode os.FileMode
		data []byte
	}{{"exec", 0o755, exe}, {"exec.env", 0o644, []byte(execEnv)}} {
		h := &zip.FileHeader{Name: f.name, Method: zip.Deflate}
		h.SetMode(f.mode)
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = w.Write(f.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

// client is openwhisk-client-go, as wsk builds it, for the key token.
func client(t *testing.T, g *Gateway, token string) *whisk.Client {
	t.Helper()
	c, err := whisk.NewClient(http.DefaultClient, &whisk.Config{Host: g.URL(), AuthToken: token, Namespace: "_"})
	require.NoError(t, err)
	return c
}

// deployEcho deploys package builder (bound to one input) holding action
// echo from a zip, as wskdeploy does, with the system key.
func deployEcho(t *testing.T, c *whisk.Client, annotations whisk.KeyValueArr) {
	t.Helper()
	_, _, err := c.Packages.Insert(&whisk.Package{Name: "builder", Namespace: "whisk-system",
		Parameters: whisk.KeyValueArr{{Key: "namespace", Value: "builds"}}}, true)
	require.NoError(t, err)
	code, binary := echoZip(t, DefaultRuntimes["go:1.22"]), true
	timeout := 30000
	_, _, err = c.Actions.Insert(&whisk.Action{Name: "builder/echo", Namespace: "whisk-system",
		Exec:        &whisk.Exec{Kind: "go:1.22", Code: &code, Binary: &binary},
		Annotations: annotations, Limits: &whisk.Limits{Timeout: &timeout}}, true)
	require.NoError(t, err)
}

// apiGateway starts a gateway without executables, with users devel and
// guest, and returns it with the system key and devel's.
func apiGateway(t *testing.T, o Options) (g *Gateway, system, devel string) {
	t.Helper()
	o.Subjects = NewSubjects()
	system = o.Subjects.Add("whisk-system")
	devel = o.Subjects.Add("devel")
	o.Subjects.Add("guest")
	o.Actions = map[string]string{}
	return startGateway(t, o), system, devel
}

// echoOf returns the body of the echo action's result: params, env, pid.
func echoOf(t *testing.T, v any) map[string]any {
	t.Helper()
	return resultMap(t, resultMap(t, v)["body"])
}

func resultMap(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%T %v", v, v)
	return m
}

// A plain invoke of a deployed zip, blocking for the result, gets the
// package's inputs and the caller's own parameters, no web fields, and the
// caller's namespace and key as OpenWhisk sets them.
func TestInvokeBlockingResult(t *testing.T) {
	g, system, _ := apiGateway(t, Options{})
	c := client(t, g, system)
	deployEcho(t, c, nil)

	res, resp, err := c.Actions.Invoke("builder/echo", map[string]any{"max_age_hours": "1"}, true, true)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	out := echoOf(t, res)
	args := resultMap(t, out["params"])
	assert.Equal(t, "builds", args["namespace"], "the package's input")
	assert.Equal(t, "1", args["max_age_hours"])
	for k := range args {
		assert.False(t, strings.HasPrefix(k, "__ow_"), "web field %s in a plain invoke", k)
	}
	env := resultMap(t, out["env"])
	assert.Equal(t, "whisk-system", env["__OW_NAMESPACE"])
	assert.Equal(t, "/whisk-system/builder/echo", env["__OW_ACTION_NAME"])
	assert.Equal(t, system, env["__OW_API_KEY"])
	assert.Equal(t, g.URL(), env["__OW_API_HOST"])
}

// Blocking without result answers the activation record, with the logs;
// a non-blocking invoke answers 202 with the id, whose record, result and
// logs are then read.
func TestInvokeRecordsActivations(t *testing.T) {
	g, system, _ := apiGateway(t, Options{})
	c := client(t, g, system)
	deployEcho(t, c, nil)

	res, resp, err := c.Actions.Invoke("builder/echo", nil, true, false)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	rec := resultMap(t, res)
	id, _ := rec["activationId"].(string)
	require.Regexp(t, `^[0-9a-f]{32}$`, id)
	response := resultMap(t, rec["response"])
	assert.Equal(t, "success", response["status"])
	assert.Equal(t, true, response["success"])
	assert.Contains(t, strings.Join(toStrings(rec["logs"]), "\n"), "stdout: echo "+id)

	res, resp, err = c.Actions.Invoke("builder/echo", map[string]any{"n": 2}, false, false)
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	id, _ = resultMap(t, res)["activationId"].(string)
	require.NotEmpty(t, id)
	var a *whisk.Activation
	require.Eventually(t, func() bool {
		a, _, err = c.Activations.Get(id)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, "echo", a.Name)
	assert.Equal(t, "whisk-system", a.Namespace)
	assert.True(t, a.Response.Success)
	assert.Equal(t, json.Number("2"), resultMap(t, echoOf(t, a.Response.Result)["params"])["n"])

	r, _, err := c.Activations.Result(id)
	require.NoError(t, err)
	assert.Equal(t, echoOf(t, a.Response.Result)["pid"], echoOf(t, r.Result)["pid"])
	logs, _, err := c.Activations.Logs(id)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(logs.Logs, "\n"), "stdout: echo "+id)

	list, _, err := c.Activations.List(&whisk.ActivationListOptions{Name: "echo"})
	require.NoError(t, err)
	assert.Len(t, list, 2)
}

func toStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, e := range l {
			s, _ := e.(string)
			out = append(out, s)
		}
	}
	return out
}

// A user's key cannot invoke or read the system package while it is
// private (403); once the operator publishes it, a user's invoke runs as
// that user, never as the system namespace.
func TestInvokeOfAnotherNamespace(t *testing.T) {
	g, system, devel := apiGateway(t, Options{})
	op := client(t, g, system)
	deployEcho(t, op, nil)
	user := client(t, g, devel)
	user.Namespace = "whisk-system"

	_, resp, err := user.Actions.Invoke("builder/echo", nil, true, true)
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	_, resp, _ = user.Packages.Get("builder")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	published := true
	_, _, err = op.Packages.Insert(&whisk.Package{Name: "builder", Publish: &published}, true)
	require.NoError(t, err)
	res, _, err := user.Actions.Invoke("builder/echo", map[string]any{"__ow_user": "whisk-system"}, true, true)
	require.NoError(t, err)
	env := resultMap(t, echoOf(t, res)["env"])
	assert.Equal(t, "devel", env["__OW_NAMESPACE"])
	assert.Equal(t, devel, env["__OW_API_KEY"])
	assert.Equal(t, "/whisk-system/builder/echo", env["__OW_ACTION_NAME"])

	// The user's activations are the user's, not the operator's.
	user.Namespace = "_"
	list, _, err := user.Activations.List(&whisk.ActivationListOptions{})
	require.NoError(t, err)
	assert.Len(t, list, 1)
	// An entity cannot be written in another namespace, shared or not.
	user.Namespace = "whisk-system"
	_, resp, _ = user.Packages.Insert(&whisk.Package{Name: "builder"}, true)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestRefusals(t *testing.T) {
	g, system, devel := apiGateway(t, Options{})
	c := client(t, g, system)
	deployEcho(t, c, nil)
	url := g.URL() + "/api/v1/namespaces/"
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(system))
	tests := []struct {
		name, method, path, body string
		status                   int
		reason                   string
	}{
		{"unknown action", http.MethodPost, "_/actions/builder/nothing?blocking=true", "", http.StatusNotFound, msgNotFound},
		{"unknown package", http.MethodGet, "_/packages/nothing", "", http.StatusNotFound, msgNotFound},
		{"action in an unknown package", http.MethodPost, "_/actions/nothing/echo", "", http.StatusNotFound, msgNotFound},
		{"unknown namespace", http.MethodGet, "nobody/actions/builder/echo", "", http.StatusNotFound, msgNotFound},
		{"unknown trigger", http.MethodPost, "_/triggers/nothing", "", http.StatusNotFound, msgNotFound},
		{"unknown activation", http.MethodGet, "_/activations/0123", "", http.StatusNotFound, msgNotFound},
		{"existing action without overwrite", http.MethodPut, "_/actions/builder/echo", `{"exec":{"kind":"go:1.22","code":"AA==","binary":true}}`, http.StatusConflict, msgConflict},
		{"action without exec", http.MethodPut, "_/actions/builder/new", `{}`, http.StatusBadRequest, "exec undefined"},
		{"unknown kind", http.MethodPut, "_/actions/builder/new", `{"exec":{"kind":"cobol:1","code":"x"}}`, http.StatusBadRequest, "kind 'cobol:1'"},
		{"binary code not base64", http.MethodPut, "_/actions/builder/new", `{"exec":{"kind":"go:1.22","code":"%%","binary":true}}`, http.StatusBadRequest, "not base64"},
		{"time limit too long", http.MethodPut, "_/actions/builder/new", `{"exec":{"kind":"go:1.22","code":"AA==","binary":true},"limits":{"timeout":300001}}`, http.StatusBadRequest, "Time limit 300001"},
		{"not an object", http.MethodPut, "_/packages/p", `[1]`, http.StatusBadRequest, "not a JSON object"},
		{"bad JSON", http.MethodPut, "_/triggers/t", `{"parameters":`, http.StatusBadRequest, "malformed"},
		{"parameter without key", http.MethodPut, "_/triggers/t", `{"parameters":[{"value":1}]}`, http.StatusBadRequest, "parameter 0 has no key"},
		{"bad entity name", http.MethodPut, "_/packages/-x", `{}`, http.StatusBadRequest, "not valid"},
		{"rule without action", http.MethodPut, "_/rules/r", `{"trigger":"t"}`, http.StatusBadRequest, "needs a trigger and an action"},
		{"rule of an unknown trigger", http.MethodPut, "_/rules/r", `{"trigger":"t","action":"builder/echo"}`, http.StatusNotFound, msgNotFound},
		{"bad rule state", http.MethodPost, "_/rules/r", `{"status":"on"}`, http.StatusBadRequest, "active or inactive"},
		{"package that holds actions", http.MethodDelete, "_/packages/builder", "", http.StatusConflict, "Package not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tt.method, url+tt.path, strings.NewReader(tt.body), "Authorization", auth, "Content-Type", "application/json")
			assert.Equal(t, tt.status, r.status, "body: %s", r.body)
			assert.Contains(t, errorOf(t, r), tt.reason)
		})
	}
	t.Run("no key", func(t *testing.T) {
		r := call(t, http.MethodGet, url+"_/actions", nil)
		assert.Equal(t, http.StatusUnauthorized, r.status)
	})
	t.Run("a wrong key", func(t *testing.T) {
		r := call(t, http.MethodGet, url+"_/actions", nil, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(devel+"x")))
		assert.Equal(t, http.StatusUnauthorized, r.status)
	})
}

// A zip the Go runtime would refuse deploys, and every activation of it is
// a developer error naming why, as the runtime's /init fails.
func TestZipForAnotherRuntime(t *testing.T) {
	g, system, _ := apiGateway(t, Options{})
	c := client(t, g, system)
	code, binary := echoZip(t, "apacheopenserverless/runtime-golang-v1.21"), true
	_, _, err := c.Actions.Insert(&whisk.Action{Name: "old", Exec: &whisk.Exec{Kind: "go:1.22", Code: &code, Binary: &binary}}, false)
	require.NoError(t, err)
	res, resp, err := c.Actions.Invoke("old", nil, true, true)
	require.Error(t, err)
	assert.Equal(t, http.StatusBadGateway, resp.StatusCode)
	assert.Contains(t, resultMap(t, res)["error"], "runtime-golang-v1.21")
}

// Entities are created once without overwrite, replaced with it, listed,
// and deleted.
func TestEntityLifecycle(t *testing.T) {
	g, system, _ := apiGateway(t, Options{})
	c := client(t, g, system)
	deployEcho(t, c, whisk.KeyValueArr{{Key: "web-export", Value: true}})

	a, _, err := c.Actions.Get("builder/echo", false)
	require.NoError(t, err)
	assert.Equal(t, "whisk-system/builder", a.Namespace)
	assert.Equal(t, 30000, *a.Limits.Timeout)
	p, _, err := c.Packages.Get("builder")
	require.NoError(t, err)
	require.Len(t, p.Actions, 1)
	assert.Equal(t, "echo", p.Actions[0].Name)
	list, _, err := c.Actions.List("", nil)
	require.NoError(t, err)
	assert.Len(t, list, 1)

	// The deployed zip answers a web call too, with the web fields.
	e := decodeEcho(t, call(t, http.MethodGet, webURL(g, "echo"), nil))
	assert.Equal(t, "get", e.Params["__ow_method"])

	_, resp, err := c.Triggers.Insert(&whisk.Trigger{Name: "t"}, false)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	_, resp, _ = c.Triggers.Insert(&whisk.Trigger{Name: "t"}, false)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	_, _, err = c.Rules.Insert(&whisk.Rule{Name: "r", Trigger: "/whisk-system/t", Action: "/whisk-system/builder/echo"}, false)
	require.NoError(t, err)
	tr, _, err := c.Triggers.Get("t")
	require.NoError(t, err)
	assert.Contains(t, tr.Rules, "whisk-system/r")
	r, _, err := c.Rules.Get("r")
	require.NoError(t, err)
	assert.Equal(t, "active", r.Status)

	_, err = c.Rules.Delete("r")
	require.NoError(t, err)
	_, _, err = c.Triggers.Delete("t")
	require.NoError(t, err)
	_, err = c.Actions.Delete("builder/echo")
	require.NoError(t, err)
	_, resp, _ = c.Actions.Get("builder/echo", false)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, http.StatusNotFound, call(t, http.MethodGet, webURL(g, "echo"), nil).status)
	_, err = c.Packages.Delete("builder")
	require.NoError(t, err)
}

// A trigger fired with no active rule runs nothing and records nothing;
// with an active rule its action runs as the trigger's namespace with the
// payload, caused by the trigger's activation.
func TestFireTrigger(t *testing.T) {
	g, system, _ := apiGateway(t, Options{})
	c := client(t, g, system)
	deployEcho(t, c, nil)
	_, _, err := c.Triggers.Insert(&whisk.Trigger{Name: "t", Parameters: whisk.KeyValueArr{{Key: "from", Value: "trigger"}}}, false)
	require.NoError(t, err)

	_, resp, err := c.Triggers.Fire("t", map[string]any{"x": 1})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	list, _, err := c.Activations.List(&whisk.ActivationListOptions{})
	require.NoError(t, err)
	assert.Empty(t, list, "a trigger without rules records nothing")

	_, _, err = c.Rules.Insert(&whisk.Rule{Name: "r", Trigger: "t", Action: "builder/echo"}, false)
	require.NoError(t, err)
	_, _, err = c.Rules.SetState("r", "inactive")
	require.NoError(t, err)
	_, resp, err = c.Triggers.Fire("t", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode, "an inactive rule runs nothing")

	_, _, err = c.Rules.SetState("r", "active")
	require.NoError(t, err)
	fired, resp, err := c.Triggers.Fire("t", map[string]any{"x": 1})
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, resp.StatusCode)
	var echo *whisk.Activation
	require.Eventually(t, func() bool {
		l, _, err := c.Activations.List(&whisk.ActivationListOptions{Name: "echo", Docs: true})
		if err != nil || len(l) == 0 {
			return false
		}
		echo = &l[0]
		return true
	}, 10*time.Second, 20*time.Millisecond)
	assert.Equal(t, fired.ActivationId, echo.Cause)
	args := resultMap(t, echoOf(t, echo.Response.Result)["params"])
	assert.Equal(t, json.Number("1"), args["x"])
	assert.Equal(t, "trigger", args["from"])
	assert.Equal(t, "builds", args["namespace"])
	assert.Equal(t, "whisk-system", resultMap(t, echoOf(t, echo.Response.Result)["env"])["__OW_NAMESPACE"])
}
