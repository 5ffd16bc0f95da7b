package e2e

import (
	"archive/tar"
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
)

// A start builds for real: the Job completes by the real Job controller and
// the pushed image holds what /bin/extend made, on the base by digest, as
// the base image's user, with the OCI base labels.
func TestStartBuildsAndPushesTheImage(t *testing.T) {
	ctx := context.Background()
	r := call(t, "alice", http.MethodPost, "/start", map[string]any{
		"source": env.Source("python"), "target": "alice:py-e2e", "kind": "python",
		"file": b64("requests==2.32.3\n# a comment\n\nnews\n"),
	})
	require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
	assert.Equal(t, "Build process initiated successfully. Job: "+r.Str("job_name"), r.Str("message"))
	image := env.Registry.Host + "/alice:py-e2e"
	assert.Equal(t, image, r.Str("image"))

	st := follow(t, "alice", r.Str("id"))
	require.Equal(t, "succeeded", st.Str("state"), "%v", st.Body)
	require.Equal(t, http.StatusOK, st.Code)

	// The status reports the push; the Job controller records the Pod's
	// success a moment later.
	eventually(t, "the Job controller completes the job", func() bool {
		job, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Get(ctx, r.Str("job_name"), metav1.GetOptions{})
		return err == nil && hasCondition(job, batchv1.JobComplete)
	})

	img := pull(t, image)
	digest, err := img.Digest()
	require.NoError(t, err)
	assert.Equal(t, digest.String(), st.Str("digest"), "the status carries the pushed digest")

	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	base := env.Runtimes["python"]
	assert.Equal(t, "1001", cfg.Config.User, "the extended image runs as the base image's user")
	assert.Equal(t, base.DigestStr(), cfg.Config.Labels["org.opencontainers.image.base.digest"])

	baseImg := pull(t, base.String())
	baseLayers, err := baseImg.Layers()
	require.NoError(t, err)
	layers, err := img.Layers()
	require.NoError(t, err)
	require.Greater(t, len(layers), len(baseLayers))
	for i, l := range baseLayers {
		want, _ := l.Digest()
		got, _ := layers[i].Digest()
		assert.Equal(t, want, got, "layer %d comes from the base FROM by digest", i)
	}

	fs := files(t, img, "/opt/extended/requirements.lst", "/opt/extended/kind", "/tmp/requirements.txt")
	assert.Equal(t, "requests==2.32.3\nnews\n", fs["/opt/extended/requirements.lst"].Body)
	assert.Equal(t, "requirements.txt\n", fs["/opt/extended/kind"].Body)
	assert.Equal(t, byte(tar.TypeReg), fs["/tmp/requirements.txt"].Type, "the context file reached the build as a regular file")
}

// A failing build fails its Job; the status says why with the log tail, and
// cleanup removes the Job, its Pod and its context.
func TestFailingBuildsAndCleanup(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, source, file, logLine string
	}{
		{"no /bin/extend in the runtime", env.Source("noextend"), "requests\n", "/bin/extend"},
		{"extend rejects the file", env.Source("python"), "requests\nfail-the-build\n", "asks the build to fail"},
	}
	var jobs []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, "bob", http.MethodPost, "/start", map[string]any{
				"source": c.source, "target": "bob:failing", "kind": "python", "file": b64(c.file),
			})
			require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
			st := follow(t, "bob", r.Str("id"))
			assert.Equal(t, http.StatusConflict, st.Code)
			assert.Equal(t, "failed", st.Str("state"))
			assert.Equal(t, runtimebuild.ReasonBuildFailed, st.Str("reason"))
			assert.Contains(t, st.Str("message"), "exit code")
			logs, _ := st.Body["logs"].([]any)
			require.NotEmpty(t, logs)
			assert.Contains(t, joined(logs), c.logLine)
			jobs = append(jobs, r.Str("job_name"))
		})
	}
	require.Len(t, jobs, 2)

	r := call(t, "bob", http.MethodPost, "/cleanup", map[string]any{"max_age_hours": 0})
	require.Equal(t, http.StatusOK, r.Code, "%v", r.Body)
	assert.Equal(t, float64(2), r.Body["deleted"])
	for _, name := range jobs {
		eventually(t, "job "+name+", its pod and its context are gone", func() bool {
			_, errJ := env.Kube.Client.BatchV1().Jobs(local.Namespace).Get(ctx, name, metav1.GetOptions{})
			cms, errC := env.Kube.Client.CoreV1().ConfigMaps(local.Namespace).List(ctx, metav1.ListOptions{})
			pods, errP := env.Kube.Client.CoreV1().Pods(local.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + name})
			return apierrors.IsNotFound(errJ) && errC == nil && !ownedBy(cms.Items, name) && errP == nil && len(pods.Items) == 0
		})
	}
}

func hasCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func joined(lines []any) string {
	s := ""
	for _, l := range lines {
		s += l.(string) + "\n"
	}
	return s
}

// ownedBy reports whether a ConfigMap of cms is owned by the Job named job.
func ownedBy(cms []corev1.ConfigMap, job string) bool {
	for _, cm := range cms {
		for _, ref := range cm.OwnerReferences {
			if ref.Kind == "Job" && ref.Name == job {
				return true
			}
		}
	}
	return false
}
