package nodeagent

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const tmpfsMagic = 0x01021994

// TestRunsPodsInMemory runs a pod with InMemory, after a killed agent left
// a mount in the work folder: the leftover is detached, the container's
// root and volumes are on the tmpfs, and once Run returns nothing stays
// mounted (startAgent checks it).
func TestRunsPodsInMemory(t *testing.T) {
	needRoot(t)
	client := newFakeClient()
	var work string
	var rootFS, cacheFS int64
	var mu sync.Mutex
	startAgent(t, client, fakeExecutor(t), func(o *Options) {
		work = o.WorkDir
		left := filepath.Join(work, "pods", "uid-killed", "root")
		require.NoError(t, os.MkdirAll(left, 0o755))
		require.NoError(t, syscall.Mount("tmpfs", left, "tmpfs", 0, ""))
		o.InMemory = true
		o.Prepared = func(_ *v1.Pod, _, root string) {
			mu.Lock()
			defer mu.Unlock()
			rootFS, cacheFS = fsType(t, root), fsType(t, filepath.Join(root, "cache"))
		}
	})
	assert.Equal(t, int64(tmpfsMagic), fsType(t, work), "the work folder is a tmpfs")
	mounts, err := mountsUnder(work)
	require.NoError(t, err)
	assert.Equal(t, []string{work}, mounts, "the leftover mount is gone; only the tmpfs is mounted")

	pod := buildPod("in-memory", "--echo=done")
	pod.Spec.Volumes = []v1.Volume{{Name: "cache", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}}}
	pod.Spec.Containers[0].VolumeMounts = []v1.VolumeMount{{Name: "cache", MountPath: "/cache"}}
	_, err = client.CoreV1().Pods(testNS).Create(context.Background(), pod, metav1.CreateOptions{})
	require.NoError(t, err)
	got := waitPod(t, client, "in-memory", terminated, "the pod ends")
	require.Equal(t, v1.PodSucceeded, got.Status.Phase, "status: %+v", got.Status)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, int64(tmpfsMagic), rootFS, "the container's root is in memory")
	assert.Equal(t, int64(tmpfsMagic), cacheFS, "so is its emptyDir")
}

func fsType(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(path, &st))
	return int64(st.Type)
}
