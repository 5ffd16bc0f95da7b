package rbac

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

// A build cancelled and started again before the garbage collector has
// removed what the old Job owned (its context ConfigMap, a temporary
// Secret): the new Job must get its own, under a Role that deletes no
// ConfigMap or Secret. The controller manager is paused (SIGSTOP) to hold
// the garbage collector back, then resumed.
func TestRestartBeforeGarbageCollection(t *testing.T) {
	ctx := context.Background()
	admin := env.Kube.Client
	for _, user := range []string{alice, dave} { // dave's builds have a temporary Secret too
		t.Run(user, func(t *testing.T) {
			req := map[string]any{"source": env.Source("python"), "target": user + ":again", "kind": "python", "file": b64("again\n")}
			r := call(t, user, http.MethodPost, "/start", req)
			require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
			id, jobName := r.Str("id"), r.Str("job_name")
			first, err := admin.BatchV1().Jobs(local.Namespace).Get(ctx, jobName, metav1.GetOptions{})
			require.NoError(t, err)
			owned := func(uid string) int {
				n := 0
				cms, err := admin.CoreV1().ConfigMaps(local.Namespace).List(ctx, metav1.ListOptions{LabelSelector: kube.LabelUser + "=" + user})
				require.NoError(t, err)
				for _, cm := range cms.Items {
					if ref := metav1.GetControllerOf(&cm); ref != nil && string(ref.UID) == uid {
						n++
					}
				}
				return n
			}
			require.Equal(t, 1, owned(string(first.UID)), "the first Job's context")

			require.NoError(t, env.Kube.PauseControllers())
			paused := true
			defer func() {
				if paused {
					_ = env.Kube.ResumeControllers()
				}
			}()
			c := call(t, user, http.MethodDelete, "/"+id, nil)
			require.Equal(t, http.StatusOK, c.Code, "%v", c.Body)
			again := call(t, user, http.MethodPost, "/start", req)
			assert.Equal(t, http.StatusOK, again.Code, "started again while the old context remains: %v", again.Body)
			assert.Equal(t, 1, owned(string(first.UID)), "the garbage collector was held back: the old context is still there")

			require.NoError(t, env.Kube.ResumeControllers())
			paused = false
			if again.Code != http.StatusOK {
				return
			}
			st := follow(t, user, again.Str("id"))
			assert.Equal(t, "succeeded", st.Str("state"), "%v", st.Body)
			testapi.Eventually(t, "the old Job's context is collected", func() bool { return owned(string(first.UID)) == 0 })
		})
	}
}
