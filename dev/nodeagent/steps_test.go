package nodeagent

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	testWarmer = "gcr.io/kaniko-project/warmer:v1.24.0"
	testCrane  = "gcr.io/go-containerregistry/crane:v0.22.1"
	secretJSON = `{"auths":{"r.example":{"auth":"c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3M="}}}`
)

// stepImages stands the fake executor in for the three images of a build Pod.
func stepImages(executor string) func(*Options) {
	return func(o *Options) {
		o.Images = map[string]Image{
			testImage: KanikoExecutor(executor), testWarmer: KanikoWarmer(executor), testCrane: Crane(executor),
		}
	}
}

// stepsPod is a build Pod of three steps shaped as the deployer makes it:
// fetch and push see the registry Secret, build does not; the cache and
// output emptyDirs carry what one step leaves to the next.
func stepsPod(name string, fetch, build, push []string) *v1.Pod {
	pod := buildPod(name)
	pod.Spec.Volumes = []v1.Volume{
		{Name: "context", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "ctx"}}}},
		{Name: "cache", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
		{Name: "output", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
		{Name: "docker-config", VolumeSource: v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "registry",
			Items: []v1.KeyToPath{{Key: v1.DockerConfigJsonKey, Path: "config.json"}}}}},
	}
	pod.Spec.InitContainers = []v1.Container{
		{Name: "fetch", Image: testWarmer, Args: fetch, VolumeMounts: []v1.VolumeMount{
			{Name: "cache", MountPath: "/cache"},
			{Name: "docker-config", MountPath: "/kaniko/.docker/config.json", SubPath: "config.json", ReadOnly: true},
		}},
		{Name: "build", Image: testImage, Args: build, VolumeMounts: []v1.VolumeMount{
			{Name: "context", MountPath: "/workspace/Dockerfile", SubPath: "Dockerfile"},
			{Name: "cache", MountPath: "/cache", ReadOnly: true},
			{Name: "output", MountPath: "/output"},
		}},
	}
	pod.Spec.Containers = []v1.Container{{
		Name: "push", Image: testCrane, Args: push, Env: []v1.EnvVar{{Name: "DOCKER_CONFIG", Value: "/docker"}},
		VolumeMounts: []v1.VolumeMount{
			{Name: "output", MountPath: "/output", ReadOnly: true},
			{Name: "docker-config", MountPath: "/docker/config.json", SubPath: "config.json", ReadOnly: true},
		},
	}}
	return pod
}

func stepsObjects() (*v1.ConfigMap, *v1.Secret) {
	return &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "ctx"}, Data: map[string]string{"Dockerfile": "FROM x\n"}},
		&v1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "registry"}, Type: v1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{v1.DockerConfigJsonKey: []byte(secretJSON)}}
}

// rootsSeen records, per container, the files of its root holding the
// Secret's bytes, and whether its program is in place, before it starts.
type rootsSeen struct {
	mu      sync.Mutex
	secrets map[string][]string
	program map[string]string
}

func (r *rootsSeen) prepared(_ *v1.Pod, container, root string) {
	found := filesHolding(root, []byte("c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3M="))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[container] = found
	for _, p := range []string{"/kaniko/warmer", "/kaniko/executor", "/ko-app/crane"} {
		if kindOf(filepath.Join(root, p)) == "regular" {
			r.program[container] = p
		}
	}
}

func (r *rootsSeen) get() (map[string][]string, map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.secrets, r.program
}

// filesHolding walks root and returns the container paths of the regular
// files holding b (devices and other special files are not read).
func filesHolding(root string, b []byte) []string {
	found := []string{}
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		// Lstat, not the folder entry's type: a device bind-mounted on a
		// file (/dev/zero) is listed as the regular file under it.
		if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(data), string(b)) {
			found = append(found, strings.TrimPrefix(p, root))
		}
		return nil
	})
	return found
}

func TestRunsStepsInOrder(t *testing.T) {
	needRoot(t)
	client := newFakeClient(stepsObjects())
	seen := &rootsSeen{secrets: map[string][]string{}, program: map[string]string{}}
	a := startAgent(t, client, fakeExecutor(t), func(o *Options) {
		stepImages(fakeExecutor(t))(o)
		o.Prepared = seen.prepared
	})
	pod := stepsPod("steps",
		[]string{"--echo=fetching", "--write=/cache/base=warmed", "--cat=/kaniko/.docker/config.json", "--sleep=300ms"},
		[]string{"--echo=building", "--cat=/cache/base", "--lstat=/kaniko/.docker/config.json", "--write=/output/image.tar=image",
			"--message=built", "--env"},
		[]string{"--echo=pushing", "--cat=/output/image.tar", "--cat=/docker/config.json", "--message=r.example/a@sha256:1\n", "--env"})
	_, err := client.CoreV1().Pods(testNS).Create(context.Background(), pod, metav1.CreateOptions{})
	require.NoError(t, err)

	during := waitPod(t, client, "steps", func(p *v1.Pod) bool {
		return len(p.Status.InitContainerStatuses) == 2 && p.Status.InitContainerStatuses[0].State.Running != nil
	}, "fetch runs")
	assert.Equal(t, v1.PodPending, during.Status.Phase, "init containers run in a Pending pod")
	assert.Equal(t, "PodInitializing", during.Status.InitContainerStatuses[1].State.Waiting.Reason)
	assert.Equal(t, "PodInitializing", during.Status.ContainerStatuses[0].State.Waiting.Reason)
	assert.Equal(t, "containers with incomplete status: [fetch build]", condition(during, v1.PodInitialized).Message)
	assert.Equal(t, v1.ConditionFalse, condition(during, v1.PodInitialized).Status)

	got := waitPod(t, client, "steps", terminated, "the pod ends")
	require.Equal(t, v1.PodSucceeded, got.Status.Phase, "status: %+v", got.Status)
	require.Len(t, got.Status.InitContainerStatuses, 2)
	for i, name := range []string{"fetch", "build"} {
		s := got.Status.InitContainerStatuses[i]
		assert.Equal(t, name, s.Name)
		require.NotNil(t, s.State.Terminated, name)
		assert.Equal(t, "Completed", s.State.Terminated.Reason)
		assert.True(t, s.Ready, "a completed init container is ready")
		assert.NotEmpty(t, s.ContainerID)
	}
	assert.Equal(t, "built", got.Status.InitContainerStatuses[1].State.Terminated.Message, "each step has its termination message")
	assert.False(t, got.Status.InitContainerStatuses[1].State.Terminated.StartedAt.Before(
		&got.Status.InitContainerStatuses[0].State.Terminated.FinishedAt), "build starts after fetch ended")
	push := got.Status.ContainerStatuses[0].State.Terminated
	require.NotNil(t, push)
	assert.Equal(t, "r.example/a@sha256:1\n", push.Message)
	assert.Equal(t, v1.ConditionTrue, condition(got, v1.PodInitialized).Status)
	assert.Equal(t, "PodCompleted", condition(got, v1.PodReady).Reason)

	logs := func(container string) string {
		body, status := getLogs(t, nodePort(t, client, a), "steps", container, "")
		require.Equal(t, http.StatusOK, status, body)
		return body
	}
	fetch, build, pushLog := logs("fetch"), logs("build"), logs("push")
	assert.Contains(t, fetch, "fetching\n")
	assert.Contains(t, fetch, "cat /kaniko/.docker/config.json "+secretJSON)
	assert.Contains(t, build, "cat /cache/base warmed\n", "what fetch wrote to the emptyDir, build reads")
	assert.Contains(t, build, "lstat /kaniko/.docker/config.json missing\n")
	assert.Contains(t, build, "env DOCKER_CONFIG=/kaniko/.docker/\n", "the executor image's env")
	assert.NotContains(t, build, "pushing")
	assert.Contains(t, pushLog, "cat /output/image.tar image\n")
	assert.Contains(t, pushLog, "cat /docker/config.json "+secretJSON)
	assert.Contains(t, pushLog, "env HOME=/home/nonroot\n", "crane's image env")
	assert.Contains(t, pushLog, "env DOCKER_CONFIG=/docker\n", "the container's env over the image's")

	secrets, program := seen.get()
	assert.Equal(t, map[string][]string{
		"fetch": {"/kaniko/.docker/config.json"}, "build": {}, "push": {"/docker/config.json"},
	}, secrets, "the Secret is only in the roots of the steps that mount it")
	assert.Equal(t, map[string]string{"fetch": "/kaniko/warmer", "build": "/kaniko/executor", "push": "/ko-app/crane"}, program)

	var refs []string
	list, err := client.CoreV1().Events(testNS).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	for _, e := range list.Items {
		if e.Reason == "Started" {
			refs = append(refs, e.InvolvedObject.FieldPath)
		}
	}
	assert.ElementsMatch(t, []string{"spec.initContainers{fetch}", "spec.initContainers{build}", "spec.containers{push}"}, refs)
}

func TestFailingStepEndsPod(t *testing.T) {
	needRoot(t)
	client := newFakeClient(stepsObjects())
	seen := &rootsSeen{secrets: map[string][]string{}, program: map[string]string{}}
	startAgent(t, client, fakeExecutor(t), func(o *Options) {
		stepImages(fakeExecutor(t))(o)
		o.Prepared = seen.prepared
		o.MaxPods = 2
	})
	fetchFails := stepsPod("fetch-fails", []string{"--stderr=MANIFEST_UNKNOWN", "--exit=1"}, nil, nil)
	fetchFails.Spec.InitContainers[0].TerminationMessagePolicy = v1.TerminationMessageFallbackToLogsOnError
	buildFails := stepsPod("build-fails", nil, []string{"--exit=7"}, nil)
	for _, p := range []*v1.Pod{fetchFails, buildFails} {
		_, err := client.CoreV1().Pods(testNS).Create(context.Background(), p, metav1.CreateOptions{})
		require.NoError(t, err)
	}

	got := waitPod(t, client, "fetch-fails", terminated, "the pod ends")
	assert.Equal(t, v1.PodFailed, got.Status.Phase)
	term := got.Status.InitContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(1), term.ExitCode)
	assert.Equal(t, "Error", term.Reason)
	assert.Equal(t, "MANIFEST_UNKNOWN\n", term.Message, "FallbackToLogsOnError")
	assert.Equal(t, "PodInitializing", got.Status.InitContainerStatuses[1].State.Waiting.Reason, "build never ran")
	assert.Equal(t, "PodInitializing", got.Status.ContainerStatuses[0].State.Waiting.Reason)
	assert.Equal(t, "ContainersNotInitialized", condition(got, v1.PodInitialized).Reason)
	assert.Equal(t, "containers with incomplete status: [fetch build]", condition(got, v1.PodInitialized).Message)

	got = waitPod(t, client, "build-fails", terminated, "the pod ends")
	assert.Equal(t, v1.PodFailed, got.Status.Phase)
	assert.Equal(t, "Completed", got.Status.InitContainerStatuses[0].State.Terminated.Reason)
	term = got.Status.InitContainerStatuses[1].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(7), term.ExitCode)
	assert.Equal(t, "PodInitializing", got.Status.ContainerStatuses[0].State.Waiting.Reason, "push never ran")

	secrets, _ := seen.get()
	assert.Contains(t, secrets, "build")
	assert.NotContains(t, secrets, "push", "no root was laid out for push")
}

func TestRefusedStepLeavesPodPending(t *testing.T) {
	needRoot(t)
	client := newFakeClient(stepsObjects())
	startAgent(t, client, fakeExecutor(t), stepImages(fakeExecutor(t)))
	pod := stepsPod("refused", []string{"--echo=fetched"}, nil, nil)
	pod.Spec.InitContainers[1].Image = "docker.io/library/busybox:latest"
	_, err := client.CoreV1().Pods(testNS).Create(context.Background(), pod, metav1.CreateOptions{})
	require.NoError(t, err)

	got := waitPod(t, client, "refused", func(p *v1.Pod) bool {
		return len(p.Status.InitContainerStatuses) == 2 && p.Status.InitContainerStatuses[1].State.Waiting != nil &&
			p.Status.InitContainerStatuses[1].State.Waiting.Reason == "ImagePullBackOff"
	}, "build waits in ImagePullBackOff")
	assert.Equal(t, v1.PodPending, got.Status.Phase)
	assert.Equal(t, "Completed", got.Status.InitContainerStatuses[0].State.Terminated.Reason, "fetch ran before")
	want := `Failed to pull image "docker.io/library/busybox:latest": refused by the local node agent: only ` +
		testCrane + ", " + testImage + ", " + testWarmer + " run here"
	require.Eventually(t, func() bool {
		list, err := client.CoreV1().Events(testNS).List(context.Background(), metav1.ListOptions{})
		require.NoError(t, err)
		for _, e := range list.Items {
			if e.Message == want && e.InvolvedObject.FieldPath == "spec.initContainers{build}" {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "the refusal names the image, on the build step")

	markDeleted(t, client, "refused")
	require.Eventually(t, func() bool {
		_, err := client.CoreV1().Pods(testNS).Get(context.Background(), "refused", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 10*time.Second, 20*time.Millisecond, "a deleted pending pod is finally deleted")
}

func TestDeleteKillsRunningStep(t *testing.T) {
	needRoot(t)
	client := newFakeClient(stepsObjects())
	seen := &rootsSeen{secrets: map[string][]string{}, program: map[string]string{}}
	a := startAgent(t, client, fakeExecutor(t), func(o *Options) {
		stepImages(fakeExecutor(t))(o)
		o.Prepared = seen.prepared
	})
	_, err := client.CoreV1().Pods(testNS).Create(context.Background(),
		stepsPod("killed", nil, []string{"--echo=started", "--sleep=5m"}, nil), metav1.CreateOptions{})
	require.NoError(t, err)
	got := waitPod(t, client, "killed", func(p *v1.Pod) bool {
		return len(p.Status.InitContainerStatuses) == 2 && p.Status.InitContainerStatuses[1].State.Running != nil
	}, "build runs")
	require.Eventually(t, func() bool {
		body, status := getLogs(t, nodePort(t, client, a), "killed", "build", "")
		return status == http.StatusOK && strings.Contains(body, "started")
	}, 10*time.Second, 20*time.Millisecond)

	start := time.Now()
	markDeleted(t, client, "killed")
	require.Eventually(t, func() bool {
		_, err := client.CoreV1().Pods(testNS).Get(context.Background(), "killed", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 10*time.Second, 20*time.Millisecond, "the step is killed and the pod finally deleted")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, events(t, client, "killed"), "Normal Killing: Stopping container build")
	secrets, _ := seen.get()
	assert.NotContains(t, secrets, "push", "push never ran")
	assert.Eventually(t, func() bool {
		_, err := os.Stat(podLogDir(a.o.WorkDir, testNS, "killed", got.UID))
		return os.IsNotExist(err)
	}, 10*time.Second, 20*time.Millisecond, "the logs of a deleted pod go")
}

func condition(p *v1.Pod, t v1.PodConditionType) v1.PodCondition {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return v1.PodCondition{}
}
