package nodeagent

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

const (
	testNS    = "builds"
	testImage = "gcr.io/kaniko-project/executor:v1.24.0"
)

var (
	fakeExecutorOnce sync.Once
	fakeExecutorPath string
	fakeExecutorErr  error
)

// fakeExecutor builds testdata/fakeexecutor, a static binary that reports
// from inside the sandbox what it sees, once per test binary.
func fakeExecutor(t *testing.T) string {
	t.Helper()
	fakeExecutorOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nodeagent-fakeexecutor-")
		if err != nil {
			fakeExecutorErr = err
			return
		}
		fakeExecutorPath = filepath.Join(dir, "executor")
		cmd := exec.Command("go", "build", "-o", fakeExecutorPath, "./testdata/fakeexecutor")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fakeExecutorErr = fmt.Errorf("building the fake executor: %w: %s", err, out)
		}
	})
	require.NoError(t, fakeExecutorErr)
	return fakeExecutorPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fakeExecutorPath != "" {
		os.RemoveAll(filepath.Dir(fakeExecutorPath))
	}
	os.Exit(code)
}

// needRoot skips a test that mounts and chroots when not run as root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the node agent bind-mounts volumes and runs containers with unshare(1) and chroot")
	}
}

// newFakeClient is a fake clientset whose pods/binding sets the pod's node,
// as the API server does.
func newFakeClient(objs ...runtime.Object) *fake.Clientset {
	client := fake.NewClientset(objs...)
	gvr := v1.SchemeGroupVersion.WithResource("pods")
	client.PrependReactor("create", "pods", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := action.(k8stesting.CreateAction).GetObject().(*v1.Binding)
		obj, err := client.Tracker().Get(gvr, b.Namespace, b.Name)
		if err != nil {
			return true, nil, err
		}
		pod := obj.(*v1.Pod).DeepCopy()
		if pod.Spec.NodeName != "" {
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), b.Name, fmt.Errorf("pod %s is already assigned", b.Name))
		}
		pod.Spec.NodeName = b.Target.Name
		return true, nil, client.Tracker().Update(gvr, pod, b.Namespace)
	})
	return client
}

// startAgent runs an agent until the test ends, then checks that it left
// nothing mounted and no sandbox behind.
func startAgent(t *testing.T, client *fake.Clientset, executor string, change func(*Options)) *Agent {
	t.Helper()
	work := t.TempDir()
	var logs strings.Builder
	var logsMu sync.Mutex
	log := logrus.New()
	log.SetOutput(writerFunc(func(p []byte) (int, error) {
		logsMu.Lock()
		defer logsMu.Unlock()
		return logs.Write(p)
	}))
	o := Options{Client: client, Namespace: testNS, Images: map[string]Image{testImage: KanikoExecutor(executor)}, WorkDir: work, Log: log}
	if change != nil {
		change(&o)
	}
	a, err := New(o)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("Run did not return after its context ended")
		}
		left, err := mountsUnder(work)
		assert.NoError(t, err)
		assert.Empty(t, left, "nothing stays mounted")
		entries, _ := os.ReadDir(filepath.Join(work, "pods"))
		assert.Empty(t, entries, "no sandbox stays")
		trash, _ := os.ReadDir(filepath.Join(work, "trash"))
		assert.Empty(t, trash, "Run returns once the removed roots are deleted")
		if t.Failed() {
			logsMu.Lock()
			t.Logf("node agent log:\n%s", logs.String())
			logsMu.Unlock()
		}
	})
	require.Eventually(t, func() bool {
		_, err := client.CoreV1().Nodes().Get(context.Background(), a.o.NodeName, metav1.GetOptions{})
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "the node is registered")
	return a
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func buildPod(name string, args ...string) *v1.Pod {
	return &v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: name, UID: types.UID("uid-" + name)},
		Spec: v1.PodSpec{
			RestartPolicy: v1.RestartPolicyNever,
			Containers:    []v1.Container{{Name: "kaniko", Image: testImage, Args: args}},
		},
		Status: v1.PodStatus{Phase: v1.PodPending},
	}
}

// waitPod waits until cond holds for the pod and returns it.
func waitPod(t *testing.T, client *fake.Clientset, name string, cond func(*v1.Pod) bool, msg string) *v1.Pod {
	t.Helper()
	var pod *v1.Pod
	require.Eventually(t, func() bool {
		p, err := client.CoreV1().Pods(testNS).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		pod = p
		return cond(p)
	}, 20*time.Second, 20*time.Millisecond, msg)
	return pod
}

func terminated(p *v1.Pod) bool { return terminal(p.Status.Phase) }

// events returns "Type Reason: message" of the events about a pod.
func events(t *testing.T, client *fake.Clientset, name string) []string {
	t.Helper()
	list, err := client.CoreV1().Events(testNS).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	var out []string
	for _, e := range list.Items {
		if e.InvolvedObject.Name == name {
			out = append(out, e.Type+" "+e.Reason+": "+e.Message)
		}
	}
	return out
}

// markDeleted does what the API server does on a graceful delete of a bound
// pod: it only sets the deletion timestamp, until the kubelet deletes it.
func markDeleted(t *testing.T, client *fake.Clientset, name string) {
	t.Helper()
	pod, err := client.CoreV1().Pods(testNS).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	now := metav1.Now()
	pod.DeletionTimestamp = &now
	pod.DeletionGracePeriodSeconds = ptr.To[int64](30)
	require.NoError(t, client.Tracker().Update(v1.SchemeGroupVersion.WithResource("pods"), pod, testNS))
}

func TestRefusesOtherImages(t *testing.T) {
	client := newFakeClient()
	startAgent(t, client, "/bin/true", nil)
	pod := buildPod("other")
	pod.Spec.Containers[0].Image = "docker.io/library/busybox:latest"
	_, err := client.CoreV1().Pods(testNS).Create(context.Background(), pod, metav1.CreateOptions{})
	require.NoError(t, err)

	got := waitPod(t, client, "other", func(p *v1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "ImagePullBackOff"
	}, "the container waits in ImagePullBackOff")
	assert.Equal(t, DefaultNodeName, got.Spec.NodeName, "the pod is bound")
	assert.Equal(t, v1.PodPending, got.Status.Phase)
	want := `Warning Failed: Failed to pull image "docker.io/library/busybox:latest": refused by the local node agent: only ` + testImage + ` run here`
	require.Eventually(t, func() bool {
		for _, e := range events(t, client, "other") {
			if e == want {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "the kubelet's pull failure event is recorded")
	assert.Contains(t, events(t, client, "other"), "Normal Scheduled: Successfully assigned builds/other to local-node")

	markDeleted(t, client, "other")
	require.Eventually(t, func() bool {
		_, err := client.CoreV1().Pods(testNS).Get(context.Background(), "other", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 10*time.Second, 20*time.Millisecond, "a deleted pending pod is finally deleted")
}

func TestFailsPodRunningBeforeStart(t *testing.T) {
	pod := buildPod("orphan")
	pod.Spec.NodeName = DefaultNodeName
	pod.Status.Phase = v1.PodRunning
	client := newFakeClient(pod)
	startAgent(t, client, "/bin/true", nil)
	got := waitPod(t, client, "orphan", terminated, "a pod that ran under an earlier agent ends")
	assert.Equal(t, v1.PodFailed, got.Status.Phase)
	term := got.Status.ContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, "ContainerStatusUnknown", term.Reason)
	assert.Equal(t, int32(137), term.ExitCode)
}

func TestRunsPodInSandbox(t *testing.T) {
	needRoot(t)
	cm := &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "ctx"},
		Data: map[string]string{"Dockerfile": "FROM scratch\n", "requirements.txt": "six==1.16.0\n"}}
	secret := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "registry"}, Type: v1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{v1.DockerConfigJsonKey: []byte(`{"auths":{}}`)}}
	client := newFakeClient(cm, secret)
	layout := map[string]string{}
	var layoutMu sync.Mutex
	a := startAgent(t, client, fakeExecutor(t), func(o *Options) {
		o.Prepared = func(_ *v1.Pod, _, root string) {
			layoutMu.Lock()
			defer layoutMu.Unlock()
			for _, p := range []string{"/config/Dockerfile", "/config/..data", "/workspace/Dockerfile",
				"/workspace/requirements.txt", "/kaniko/.docker/config.json", "/kaniko/executor"} {
				layout[p] = kindOf(filepath.Join(root, p))
			}
		}
	})

	pod := buildPod("build-ok", "--pid", "--env",
		"--lstat=/workspace/Dockerfile", "--lstat=/config/Dockerfile", "--lstat=/config/..data",
		"--cat=/kaniko/.docker/config.json", "--cat=/workspace/requirements.txt", "--lstat=/proc/self",
		"--echo=done", "--message=sha256:0123")
	pod.Spec.Volumes = []v1.Volume{
		{Name: "context", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{LocalObjectReference: v1.LocalObjectReference{Name: "ctx"}}}},
		{Name: "docker", VolumeSource: v1.VolumeSource{Secret: &v1.SecretVolumeSource{SecretName: "registry"}}},
		{Name: "cache", VolumeSource: v1.VolumeSource{EmptyDir: &v1.EmptyDirVolumeSource{}}},
	}
	pod.Spec.Containers[0].VolumeMounts = []v1.VolumeMount{
		{Name: "context", MountPath: "/config"},
		{Name: "context", MountPath: "/workspace/Dockerfile", SubPath: "Dockerfile"},
		{Name: "context", MountPath: "/workspace/requirements.txt", SubPath: "requirements.txt"},
		{Name: "docker", MountPath: "/kaniko/.docker/config.json", SubPath: v1.DockerConfigJsonKey},
		{Name: "cache", MountPath: "/cache"},
	}
	_, err := client.CoreV1().Pods(testNS).Create(context.Background(), pod, metav1.CreateOptions{})
	require.NoError(t, err)

	got := waitPod(t, client, "build-ok", terminated, "the pod ends")
	require.Equal(t, v1.PodSucceeded, got.Status.Phase, "status: %+v", got.Status)
	require.Len(t, got.Status.ContainerStatuses, 1)
	term := got.Status.ContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(0), term.ExitCode)
	assert.Equal(t, "Completed", term.Reason)
	assert.Equal(t, "sha256:0123", term.Message, "the termination message is what the container wrote")
	assert.False(t, term.StartedAt.IsZero())
	assert.False(t, term.FinishedAt.IsZero())

	layoutMu.Lock()
	assert.Equal(t, map[string]string{
		"/config/Dockerfile": "symlink", "/config/..data": "symlink",
		"/workspace/Dockerfile": "regular", "/workspace/requirements.txt": "regular",
		"/kaniko/.docker/config.json": "regular", "/kaniko/executor": "regular",
	}, layout, "a whole ConfigMap volume shows symlinks, a subPath mount a plain file")
	layoutMu.Unlock()

	logs := readLogFile(t, a, got)
	for _, want := range []string{
		"pid 1\n", "env HOME=/root\n", "env DOCKER_CONFIG=/kaniko/.docker/\n", "env HOSTNAME=build-ok\n",
		"lstat /workspace/Dockerfile regular\n", "lstat /config/Dockerfile symlink\n", "lstat /config/..data symlink\n",
		`cat /kaniko/.docker/config.json {"auths":{}}` + "\n", "cat /workspace/requirements.txt six==1.16.0\n",
		"lstat /proc/self symlink\n", "done\n",
	} {
		assert.Contains(t, logs, want)
	}
	assert.NotContains(t, logs, "env PWD", "no shell ran")

	port := nodePort(t, client, a)
	body, status := getLogs(t, port, "build-ok", "kaniko", "tailLines=1")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "done\n", body)
	body, status = getLogs(t, port, "nope", "kaniko", "")
	assert.Equal(t, http.StatusNotFound, status, body)
	body, status = getLogs(t, port, "build-ok", "other", "")
	assert.Equal(t, http.StatusNotFound, status, body)

	assert.Contains(t, events(t, client, "build-ok"), "Normal Started: Started container kaniko")
}

func TestReportsFailure(t *testing.T) {
	needRoot(t)
	tests := []struct {
		name     string
		args     []string
		policy   v1.TerminationMessagePolicy
		wantCode int32
		wantMsg  string
	}{
		{"exit code", []string{"--stderr=boom", "--exit=3"}, v1.TerminationMessageReadFile, 3, ""},
		{"message from the file", []string{"--message=bad base", "--stderr=boom", "--exit=1"}, v1.TerminationMessageFallbackToLogsOnError, 1, "bad base"},
		{"message from the log", []string{"--stderr=one", "--stderr=boom", "--exit=1"}, v1.TerminationMessageFallbackToLogsOnError, 1, "one\nboom\n"},
	}
	client := newFakeClient()
	startAgent(t, client, fakeExecutor(t), func(o *Options) { o.MaxPods = 3 })
	for i, tt := range tests {
		pod := buildPod(fmt.Sprintf("fail-%d", i), tt.args...)
		pod.Spec.Containers[0].TerminationMessagePolicy = tt.policy
		_, err := client.CoreV1().Pods(testNS).Create(context.Background(), pod, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := waitPod(t, client, fmt.Sprintf("fail-%d", i), terminated, "the pod ends")
			assert.Equal(t, v1.PodFailed, got.Status.Phase)
			term := got.Status.ContainerStatuses[0].State.Terminated
			require.NotNil(t, term)
			assert.Equal(t, tt.wantCode, term.ExitCode)
			assert.Equal(t, "Error", term.Reason)
			assert.Equal(t, tt.wantMsg, term.Message)
		})
	}
}

func TestStartErrors(t *testing.T) {
	needRoot(t)
	client := newFakeClient()
	startAgent(t, client, fakeExecutor(t), func(o *Options) { o.MountTimeout = time.Second })
	tests := []struct {
		name    string
		change  func(*v1.Pod)
		wantMsg string
	}{
		{"missing command", func(p *v1.Pod) { p.Spec.Containers[0].Command = []string{"/bin/sh", "-c", "true"} },
			`exec: "/bin/sh": stat /bin/sh: no such file or directory`},
		{"missing configmap", func(p *v1.Pod) {
			p.Spec.Volumes = []v1.Volume{{Name: "ctx", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{
				LocalObjectReference: v1.LocalObjectReference{Name: "never"}}}}}
		}, `MountVolume.SetUp failed for volume "ctx" : configmap "never" not found`},
		{"two containers", func(p *v1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, v1.Container{Name: "b", Image: testImage})
		},
			"exactly one container"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("start-%d", i)
			pod := buildPod(name)
			tt.change(pod)
			_, err := client.CoreV1().Pods(testNS).Create(context.Background(), pod, metav1.CreateOptions{})
			require.NoError(t, err)
			got := waitPod(t, client, name, terminated, "the pod fails")
			assert.Equal(t, v1.PodFailed, got.Status.Phase)
			term := got.Status.ContainerStatuses[0].State.Terminated
			require.NotNil(t, term)
			assert.Equal(t, int32(128), term.ExitCode)
			assert.Equal(t, "StartError", term.Reason)
			assert.Contains(t, term.Message, tt.wantMsg)
		})
	}
}

func TestWaitsForConfigMap(t *testing.T) {
	needRoot(t)
	client := newFakeClient()
	startAgent(t, client, fakeExecutor(t), nil)
	pod := buildPod("late", "--cat=/workspace/Dockerfile")
	pod.Spec.Volumes = []v1.Volume{{Name: "ctx", VolumeSource: v1.VolumeSource{ConfigMap: &v1.ConfigMapVolumeSource{
		LocalObjectReference: v1.LocalObjectReference{Name: "late-ctx"}}}}}
	pod.Spec.Containers[0].VolumeMounts = []v1.VolumeMount{{Name: "ctx", MountPath: "/workspace/Dockerfile", SubPath: "Dockerfile"}}
	_, err := client.CoreV1().Pods(testNS).Create(context.Background(), pod, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, e := range events(t, client, "late") {
			if strings.HasPrefix(e, `Warning FailedMount: MountVolume.SetUp failed for volume "ctx" : configmap "late-ctx" not found`) {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "the missing ConfigMap is reported")
	_, err = client.CoreV1().ConfigMaps(testNS).Create(context.Background(), &v1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "late-ctx"}, Data: map[string]string{"Dockerfile": "FROM late"}},
		metav1.CreateOptions{})
	require.NoError(t, err)
	got := waitPod(t, client, "late", terminated, "the pod runs once its ConfigMap exists")
	assert.Equal(t, v1.PodSucceeded, got.Status.Phase)
}

func TestKillsDeletedPod(t *testing.T) {
	needRoot(t)
	client := newFakeClient()
	a := startAgent(t, client, fakeExecutor(t), nil)
	_, err := client.CoreV1().Pods(testNS).Create(context.Background(), buildPod("long", "--echo=started", "--sleep=5m"), metav1.CreateOptions{})
	require.NoError(t, err)
	got := waitPod(t, client, "long", func(p *v1.Pod) bool { return p.Status.Phase == v1.PodRunning }, "the pod runs")
	require.Eventually(t, func() bool { return strings.Contains(readLogFile(t, a, got), "started") }, 10*time.Second, 20*time.Millisecond)

	start := time.Now()
	markDeleted(t, client, "long")
	require.Eventually(t, func() bool {
		_, err := client.CoreV1().Pods(testNS).Get(context.Background(), "long", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}, 10*time.Second, 20*time.Millisecond, "the container is killed and the pod finally deleted")
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, events(t, client, "long"), "Normal Killing: Stopping container kaniko")
	assert.Eventually(t, func() bool {
		_, err := os.Stat(podLogDir(a.o.WorkDir, testNS, "long", got.UID))
		return os.IsNotExist(err)
	}, 10*time.Second, 20*time.Millisecond, "the logs of a deleted pod go")
}

// readLogFile returns the text of the container's log records.
func readLogFile(t *testing.T, a *Agent, pod *v1.Pod) string {
	t.Helper()
	var b strings.Builder
	err := readLogs(context.Background(), logPath(a.o.WorkDir, pod.Namespace, pod.Name, pod.UID, "kaniko"),
		logOptions{tail: -1, limit: -1, stdout: true, stderr: true}, &b, closedChan())
	if err != nil {
		return ""
	}
	return b.String()
}

func nodePort(t *testing.T, client *fake.Clientset, a *Agent) int32 {
	t.Helper()
	node, err := client.CoreV1().Nodes().Get(context.Background(), a.o.NodeName, metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: "127.0.0.1"}}, node.Status.Addresses)
	return node.Status.DaemonEndpoints.KubeletEndpoint.Port
}

// getLogs asks the node's kubelet endpoint for a container log, as the API
// server does for pods/log.
func getLogs(t *testing.T, port int32, pod, container, query string) (string, int) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Get(fmt.Sprintf("https://127.0.0.1:%d/containerLogs/%s/%s/%s?%s", port, testNS, pod, container, query))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b), resp.StatusCode
}

func kindOf(p string) string {
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return "missing"
	case fi.Mode()&os.ModeSymlink != 0:
		return "symlink"
	case fi.Mode().IsRegular():
		return "regular"
	case fi.IsDir():
		return "dir"
	}
	return "other"
}
