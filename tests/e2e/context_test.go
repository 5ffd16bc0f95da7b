package e2e

import (
	"archive/tar"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

// The ConfigMap symlink trap: a ConfigMap volume is a folder of symlinks into
// "..data/". Mounted whole as the build context, the requirement file
// reaches the image as a dangling symlink and /bin/extend finds no file. The
// deployer mounts each file with subPath, which the kubelet resolves to the
// file itself. This test builds the same plan both ways.
func TestContextFilesReachTheBuildAsRegularFiles(t *testing.T) {
	ctx := context.Background()
	host := env.Registry.Host
	plan := func(id byte, tag string) buildjob.Plan {
		return buildjob.Plan{
			ID: testkube.ID(id), User: "carol", Kind: "python", Namespace: local.Namespace,
			Source: env.Source("python"), Pinned: env.Runtimes["python"].String(), BaseDigest: env.Runtimes["python"].DigestStr(), BaseUser: "1001",
			FileName: "requirements.txt", File: []byte("trap==1.0\n"),
			Destination: host + "/carol:" + tag, Image: host + "/carol:" + tag,
			PullSecret: config.DefaultRegistrySecret, PushSecret: config.DefaultRegistrySecret, InsecureRegistries: []string{host},
			WarmerImage: env.Steps.Warmer.String(), KanikoImage: env.Steps.Executor.String(), PusherImage: env.Steps.Crane.String(),
			Deadline: 5 * time.Minute, TTL: time.Hour,
		}
	}
	run := func(p buildjob.Plan, mutate func(*batchv1.Job)) *batchv1.Job {
		j := buildjob.NewJob(p)
		mutate(j)
		job, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Create(ctx, j, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = env.Kube.Client.CoreV1().ConfigMaps(local.Namespace).Create(ctx, buildjob.NewContext(p, job), metav1.CreateOptions{})
		require.NoError(t, err)
		eventually(t, "job "+job.Name+" ends", func() bool {
			got, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
			return err == nil && (hasCondition(got, batchv1.JobComplete) || hasCondition(got, batchv1.JobFailed))
		})
		got, err := env.Kube.Client.BatchV1().Jobs(local.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
		require.NoError(t, err)
		return got
	}

	proper := run(plan('7', "proper"), func(*batchv1.Job) {})
	require.True(t, hasCondition(proper, batchv1.JobComplete))
	fs := files(t, pull(t, host+"/carol:proper"), "/tmp/requirements.txt", "/opt/extended/requirements.lst")
	assert.Equal(t, byte(tar.TypeReg), fs["/tmp/requirements.txt"].Type)
	assert.Equal(t, "trap==1.0\n", fs["/tmp/requirements.txt"].Body)
	assert.Equal(t, "trap==1.0\n", fs["/opt/extended/requirements.lst"].Body)

	// The same context mounted whole, as a naive Job would.
	naive := run(plan('8', "naive"), func(j *batchv1.Job) {
		spec := &j.Spec.Template.Spec
		spec.Volumes[0].ConfigMap.Items = nil
		var mounts []corev1.VolumeMount
		build := &spec.InitContainers[1]
		for _, m := range build.VolumeMounts {
			if m.Name != "context" {
				mounts = append(mounts, m)
			}
		}
		build.VolumeMounts = append(mounts, corev1.VolumeMount{Name: "context", MountPath: "/workspace"})
	})
	// Either the build fails outright or the file arrives as a symlink that
	// /bin/extend cannot read: either way, the trap is real.
	if hasCondition(naive, batchv1.JobComplete) {
		fs := files(t, pull(t, host+"/carol:naive"), "/tmp/requirements.txt", "/opt/extended/requirements.lst")
		assert.NotEqual(t, byte(tar.TypeReg), fs["/tmp/requirements.txt"].Type, "mounted whole, the file is a symlink into ..data")
		assert.Empty(t, fs["/opt/extended/requirements.lst"].Body, "and /bin/extend does not see it")
	} else {
		st := call(t, "carol", http.MethodGet, "/"+testkube.ID('8'), nil)
		assert.Equal(t, "failed", st.Str("state"))
		t.Logf("mounted whole, the build fails: %s", st.Str("message"))
	}
	r := call(t, "carol", http.MethodPost, "/cleanup", map[string]any{"max_age_hours": 0})
	require.Equal(t, http.StatusOK, r.Code)
}
