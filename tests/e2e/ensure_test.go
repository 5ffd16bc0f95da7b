package e2e

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

// jobsOf counts the Jobs of one build id.
func jobsOf(t *testing.T, id string) int {
	t.Helper()
	list, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).List(context.Background(), metav1.ListOptions{
		LabelSelector: kube.LabelBuildID + "=" + id[:32],
	})
	require.NoError(t, err)
	return len(list.Items)
}

// ensure → 202 → poll → 200 with the registry's digest; again → 200 at
// once, no new Job.
func TestEnsureThenPollUntilTheImageExists(t *testing.T) {
	body := map[string]any{"builder": "nodejs:local", "file": b64(`{"dependencies":{"lodash":"^4.17.21"}}`)}
	r := call(t, "alice", http.MethodPost, "/ensure", body)
	require.Equal(t, http.StatusAccepted, r.Code, "%v", r.Body)
	assert.Equal(t, "queued", r.Str("state"))
	id := r.Str("id")
	require.Len(t, id, 64)
	assert.Equal(t, env.Registry.Host+"/alice:nodejs-"+id[:20], r.Str("image"))
	assert.NotEmpty(t, r.Str("job_name"))

	st := follow(t, "alice", id)
	require.Equal(t, http.StatusOK, st.Code, "%v", st.Body)
	ref, err := name.ParseReference(r.Str("image"), name.Insecure)
	require.NoError(t, err)
	desc, err := remote.Head(ref, remote.WithAuth(env.Registry.Auth()))
	require.NoError(t, err)
	assert.Equal(t, desc.Digest.String(), st.Str("digest"))

	again := call(t, "alice", http.MethodPost, "/ensure", body)
	assert.Equal(t, http.StatusOK, again.Code)
	assert.Equal(t, "succeeded", again.Str("state"))
	assert.Equal(t, id, again.Str("id"))
	assert.Equal(t, 1, jobsOf(t, id), "an image that exists needs no new job")

	// The same by source and kind is the same build.
	same := call(t, "alice", http.MethodPost, "/ensure", map[string]any{"source": env.Source("nodejs"), "kind": "nodejs", "file": body["file"]})
	assert.Equal(t, id, same.Str("id"))
	assert.Equal(t, http.StatusOK, same.Code)

	// Another user gets 404 for alice's build, not 403.
	other := call(t, "bob", http.MethodGet, "/"+id, nil)
	assert.Equal(t, http.StatusNotFound, other.Code)
	other = call(t, "bob", http.MethodGet, "/"+id+"/logs", nil)
	assert.Equal(t, http.StatusNotFound, other.Code)

	logs := call(t, "alice", http.MethodGet, "/"+id+"/logs?tail=3", nil)
	require.Equal(t, http.StatusOK, logs.Code, "%v", logs.Body)
	lines, _ := logs.Body["lines"].([]any)
	assert.Len(t, lines, 3)
	assert.NotEmpty(t, logs.Str("next_since"))
	byQuery := call(t, "alice", http.MethodGet, "/status?id="+id, nil)
	assert.Equal(t, http.StatusOK, byQuery.Code)
	assert.Equal(t, st.Str("digest"), byQuery.Str("digest"))
}

// Twenty identical ensures at once make exactly one Job, and all name it.
func TestConcurrentEnsuresMakeOneJob(t *testing.T) {
	body := map[string]any{"builder": "python:local", "file": b64("concurrent==1.0\n")}
	const n = 20
	ids := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := call(t, "carol", http.MethodPost, "/ensure", body)
			ids[i], codes[i] = r.Str("id"), r.Code
		}(i)
	}
	wg.Wait()
	for i := range ids {
		assert.Equal(t, ids[0], ids[i])
		assert.Contains(t, []int{http.StatusOK, http.StatusAccepted}, codes[i])
	}
	assert.Equal(t, 1, jobsOf(t, ids[0]))
	st := follow(t, "carol", ids[0])
	assert.Equal(t, "succeeded", st.Str("state"), "%v", st.Body)
}

// A failed build answers 409 with its reason and log; retry false keeps
// the answer, the default retries with a new Job.
func TestEnsureFailedBuild(t *testing.T) {
	body := map[string]any{"source": env.Source("noextend"), "kind": "python", "file": b64("anything\n")}
	r := call(t, "bob", http.MethodPost, "/ensure", body)
	require.Equal(t, http.StatusAccepted, r.Code, "%v", r.Body)
	st := follow(t, "bob", r.Str("id"))
	require.Equal(t, http.StatusConflict, st.Code, "%v", st.Body)
	assert.Equal(t, runtimebuild.ReasonBuildFailed, st.Str("reason"))
	logs, _ := st.Body["logs"].([]any)
	assert.NotEmpty(t, logs)

	body["retry"] = false
	again := call(t, "bob", http.MethodPost, "/ensure", body)
	assert.Equal(t, http.StatusConflict, again.Code)
	assert.Equal(t, r.Str("job_name"), again.Str("job_name"))

	delete(body, "retry")
	retried := call(t, "bob", http.MethodPost, "/ensure", body)
	assert.Equal(t, http.StatusAccepted, retried.Code, "%v", retried.Body)
	assert.Equal(t, "queued", retried.Str("state"))
	final := follow(t, "bob", r.Str("id"))
	assert.Equal(t, "failed", final.Str("state"))
}

// Cancel while running: the Job and its Pod are gone, the id is unknown.
func TestCancelRunningBuild(t *testing.T) {
	ctx := context.Background()
	r := call(t, "carol", http.MethodPost, "/start", map[string]any{
		"source": env.Source("python"), "target": "carol:slow", "kind": "python", "file": b64("# extend-sleep 60\nslow\n"),
	})
	require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
	id, job := r.Str("id"), r.Str("job_name")
	eventually(t, "the build runs", func() bool { return call(t, "carol", http.MethodGet, "/"+id, nil).Str("state") == "running" })

	assert.Equal(t, http.StatusNotFound, call(t, "alice", http.MethodDelete, "/"+id, nil).Code, "only the owner can cancel")
	c := call(t, "carol", http.MethodDelete, "/"+id, nil)
	require.Equal(t, http.StatusOK, c.Code, "%v", c.Body)
	eventually(t, "the job and its pod are gone", func() bool {
		_, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Get(ctx, job, metav1.GetOptions{})
		pods, errP := env.Kube.Client.CoreV1().Pods(local.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job})
		return err != nil && errP == nil && len(pods.Items) == 0
	})
	assert.Equal(t, http.StatusNotFound, call(t, "carol", http.MethodGet, "/"+id, nil).Code)
	assert.Equal(t, http.StatusNotFound, call(t, "carol", http.MethodDelete, "/"+id, nil).Code)
}

// With two unfinished builds, a user's third is refused with 429 and Retry-After.
// The two are made by hand, as an older deployer would have left them.
func TestQuotaPerUser(t *testing.T) {
	for i, d := range []byte{'e', 'f'} {
		testkube.FinishedJob(t, env.Kube.Client, buildjob.Plan{
			ID: testkube.ID(d), User: "dave", Kind: "python", Namespace: local.Namespace, Pinned: env.Runtimes["python"].String(),
			PullSecret: config.DefaultRegistrySecret, PushSecret: config.DefaultRegistrySecret, KanikoImage: config.DefaultKanikoImage, Deadline: time.Hour, TTL: time.Hour,
		}, "", time.Time{})
		_ = i
	}
	t.Cleanup(func() {
		for _, d := range []byte{'e', 'f'} {
			bg := metav1.DeletePropagationBackground
			_ = env.Kube.Client.BatchV1().Jobs(local.Namespace).Delete(context.Background(), buildjob.JobName("dave", testkube.ID(d)), metav1.DeleteOptions{PropagationPolicy: &bg})
		}
	})
	// Jobs made without the deployer are counted once adopted: when the
	// quota record is new or recreated, as after an operator deletes it.
	bg := metav1.DeletePropagationBackground
	require.NoError(t, env.Kube.Client.CoreV1().ConfigMaps(local.Namespace).Delete(context.Background(), runtimebuild.QuotaRecord, metav1.DeleteOptions{PropagationPolicy: &bg}))
	env.Tokens["dave"] = env.Subjects.Add("dave")
	r := call(t, "dave", http.MethodPost, "/start", map[string]any{"source": env.Source("python"), "target": "dave:third", "kind": "python"})
	assert.Equal(t, http.StatusTooManyRequests, r.Code, "%v", r.Body)
	assert.Equal(t, "QuotaExceeded", r.Str("reason"))
	assert.NotEmpty(t, r.Header.Get("Retry-After"))
}

func TestCapabilities(t *testing.T) {
	r := call(t, "alice", http.MethodGet, "/capabilities", nil)
	require.Equal(t, http.StatusOK, r.Code)
	kinds, _ := r.Body["kinds"].(map[string]any)
	assert.Equal(t, "requirements.txt", kinds["python"])
	builders, _ := r.Body["builders"].([]any)
	assert.Len(t, builders, len(local.Kinds))
	assert.Equal(t, http.StatusUnauthorized, call(t, "", http.MethodGet, "/capabilities", nil).Code)
}
