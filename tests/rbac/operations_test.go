package rbac

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/apache/openwhisk-client-go/whisk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

// operationsRan is set once the operations have run (whatever the outcome):
// both tests need them, and they run once.
var operationsRan bool

// Every operation, through the gateway and the built actions, with the
// service account's token as the actions' only Kubernetes credentials.
func TestOperationsUnderTheRole(t *testing.T) {
	operations(t)
}

func operations(t *testing.T) {
	if operationsRan {
		return
	}
	operationsRan = true
	ctx := context.Background()
	admin := env.Kube.Client // the admin's, for the tests' own checks

	t.Run("start, status, logs", func(t *testing.T) {
		r := call(t, alice, http.MethodPost, "/start", map[string]any{
			"source": env.Source("python"), "target": alice + ":rbac", "kind": "python", "file": b64("requests\n"),
		})
		require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
		st := follow(t, alice, r.Str("id"))
		require.Equal(t, "succeeded", st.Str("state"), "%v", st.Body)
		logs := call(t, alice, http.MethodGet, "/"+r.Str("id")+"/logs?tail=50", nil)
		require.Equal(t, http.StatusOK, logs.Code, "%v", logs.Body)
		assert.NotEmpty(t, logs.Body["lines"], "%v", logs.Body)
		again := call(t, alice, http.MethodPost, "/start", map[string]any{
			"source": env.Source("python"), "target": alice + ":rbac", "kind": "python", "file": b64("requests\n"),
		})
		require.Equal(t, http.StatusOK, again.Code, "%v", again.Body)
		assert.Equal(t, r.Str("job_name"), again.Str("job_name"), "the same start answers the same Job")
	})

	t.Run("ensure, and the retry of a failed build", func(t *testing.T) {
		body := map[string]any{"source": env.Source("noextend"), "kind": "python", "file": b64("anything\n")}
		r := call(t, bob, http.MethodPost, "/ensure", body)
		require.Equal(t, http.StatusAccepted, r.Code, "%v", r.Body)
		st := follow(t, bob, r.Str("id"))
		require.Equal(t, http.StatusConflict, st.Code, "%v", st.Body)
		retried := call(t, bob, http.MethodPost, "/ensure", body)
		require.Equal(t, http.StatusAccepted, retried.Code, "the failed build is retried: %v", retried.Body)
		assert.Equal(t, "failed", follow(t, bob, r.Str("id")).Str("state"))

		ok := map[string]any{"builder": "python:local", "file": b64("ensured\n")}
		r = call(t, bob, http.MethodPost, "/ensure", ok)
		require.Equal(t, http.StatusAccepted, r.Code, "%v", r.Body)
		require.Equal(t, "succeeded", follow(t, bob, r.Str("id")).Str("state"))
		exists := call(t, bob, http.MethodPost, "/ensure", ok)
		assert.Equal(t, http.StatusOK, exists.Code, "the image exists: %v", exists.Body)
	})

	t.Run("cancel", func(t *testing.T) {
		r := call(t, bob, http.MethodPost, "/start", map[string]any{
			"source": env.Source("python"), "target": bob + ":slow", "kind": "python", "file": b64("# extend-sleep 60\nslow\n"),
		})
		require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
		id := r.Str("id")
		testapi.Eventually(t, "the build runs", func() bool { return call(t, bob, http.MethodGet, "/"+id, nil).Str("state") == "running" })
		c := call(t, bob, http.MethodDelete, "/"+id, nil)
		require.Equal(t, http.StatusOK, c.Code, "%v", c.Body)
		assert.Equal(t, http.StatusNotFound, call(t, bob, http.MethodGet, "/"+id, nil).Code)
	})

	t.Run("per-user Secrets", func(t *testing.T) {
		for _, user := range []string{carol, dave} {
			r := call(t, user, http.MethodPost, "/start", map[string]any{
				"source": env.Source("python"), "target": user + ":own", "kind": "python", "file": b64("requests\n"),
			})
			require.Equal(t, http.StatusOK, r.Code, "%s: %v", user, r.Body)
			assert.Equal(t, "succeeded", follow(t, user, r.Str("id")).Str("state"), user)
		}
	})

	t.Run("images list and delete", func(t *testing.T) {
		l := call(t, alice, http.MethodGet, "/images", nil)
		require.Equal(t, http.StatusOK, l.Code, "%v", l.Body)
		images, _ := l.Body["images"].([]any)
		require.NotEmpty(t, images)
		d := call(t, alice, http.MethodDelete, "/images/rbac", nil)
		require.Equal(t, http.StatusOK, d.Code, "%v", d.Body)
	})

	t.Run("cleanup in user scope", func(t *testing.T) {
		r := call(t, carol, http.MethodPost, "/cleanup", map[string]any{"max_age_hours": "0"})
		require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
		assert.Equal(t, float64(1), r.Body["deleted"], "%v", r.Body)
	})

	t.Run("cleanup in system scope", func(t *testing.T) {
		// The schedule: a plain invoke by the namespace owning the action,
		// through the OpenWhisk API, as the alarm's rule and the cron
		// annotation invoke it.
		key, ok := env.Subjects.Token(env.Gateway.SystemNamespace())
		require.True(t, ok)
		ow, err := whisk.NewClient(http.DefaultClient, &whisk.Config{Host: env.Gateway.URL(), AuthToken: key, Namespace: "_"})
		require.NoError(t, err)
		out, _, err := ow.Actions.Invoke("builder/cleanup", map[string]any{"max_age_hours": "0"}, true, true)
		require.NoError(t, err)
		b, err := json.Marshal(out)
		require.NoError(t, err)
		var res map[string]any
		require.NoError(t, json.Unmarshal(b, &res))
		require.Equal(t, float64(200), res["statusCode"], "%v", res)
		body, _ := res["body"].(map[string]any)
		assert.Equal(t, float64(4), body["deleted"], "alice's, bob's two and dave's: %v", body)
		testapi.Eventually(t, "every finished build is gone", func() bool {
			jobs, err := admin.BatchV1().Jobs(local.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelUser})
			return err == nil && len(jobs.Items) == 0
		})
	})
}
