package openwhisk

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/apache/openwhisk-client-go/whisk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
)

func readManifest(t *testing.T) local.Manifest {
	t.Helper()
	root, err := stack.RepoRoot()
	require.NoError(t, err)
	m, err := local.ReadManifest(root)
	require.NoError(t, err)
	return m
}

func annotation(kv whisk.KeyValueArr, key string) any {
	for _, p := range kv {
		if p.Key == key {
			return p.Value
		}
	}
	return nil
}

// What the stack runs is what wskdeploy made of manifest.yaml: every
// action with its annotations and limits, the package's inputs bound to the
// stack's settings, the trigger with its alarm and the rule.
func TestDeployedAsTheManifestSays(t *testing.T) {
	m := readManifest(t)
	pkg := m.Project.Packages["builder"]
	c := client(t, systemKey(t), m.Project.Namespace)

	p, _, err := c.Packages.Get("builder")
	require.NoError(t, err)
	assert.False(t, *p.Publish, "the system package is private")
	require.Len(t, p.Actions, len(pkg.Actions))
	for input := range pkg.Inputs {
		assert.Equal(t, fmt.Sprint(env.Inputs[input]), fmt.Sprint(annotation(p.Parameters, input)), "input %s", input)
	}

	for name, want := range pkg.Actions {
		t.Run(name, func(t *testing.T) {
			a, _, err := c.Actions.Get("builder/"+name, false)
			require.NoError(t, err)
			assert.Equal(t, "go:1.22", a.Exec.Kind)
			assert.Equal(t, want.Limits.Timeout, *a.Limits.Timeout)
			assert.Equal(t, want.Limits.MemorySize, *a.Limits.Memory)
			assert.Equal(t, want.Web == true, annotation(a.Annotations, "web-export") == true)
			for k, v := range want.Annotations {
				assert.Equal(t, v, annotation(a.Annotations, k), "annotation %s", k)
			}
		})
	}

	for name, want := range pkg.Triggers {
		tr, _, err := c.Triggers.Get(name)
		require.NoError(t, err)
		assert.Equal(t, want.Feed, annotation(tr.Annotations, "feed"))
		// The feed holds the schedule: READ it as wsk trigger get does.
		feed := client(t, systemKey(t), "whisk.system")
		res, _, err := feed.Actions.Invoke("alarms/alarm", map[string]any{
			"lifecycleEvent": "READ", "triggerName": "/" + m.Project.Namespace + "/" + name, "authKey": systemKey(t),
		}, true, true)
		require.NoError(t, err)
		config := res.(map[string]any)["config"].(map[string]any)
		assert.Equal(t, want.Inputs["cron"], config["cron"])
		wantPayload, _ := json.Marshal(want.Inputs["trigger_payload"].(map[string]any)["value"])
		gotPayload, _ := json.Marshal(config["payload"])
		assert.JSONEq(t, string(wantPayload), string(gotPayload))
	}
	for name, want := range pkg.Rules {
		r, _, err := c.Rules.Get(name)
		require.NoError(t, err)
		assert.Equal(t, "active", r.Status)
		b, _ := json.Marshal(r.Trigger)
		assert.JSONEq(t, fmt.Sprintf(`{"path":%q,"name":%q}`, m.Project.Namespace, want.Trigger), string(b))
		b, _ = json.Marshal(r.Action)
		assert.JSONEq(t, fmt.Sprintf(`{"path":%q,"name":%q}`, m.Project.Namespace+"/builder", want.Action), string(b))
	}
}
