package nodeagent_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/apache/openserverless-deployer/dev/fixtures"
	"github.com/apache/openserverless-deployer/dev/nodeagent"
	"github.com/apache/openserverless-deployer/dev/stack"
)

// The images of a build Pod's steps, and the list the node's refusals name.
const (
	kanikoImage = "gcr.io/kaniko-project/executor:v1.24.0"
	warmerImage = "gcr.io/kaniko-project/warmer:v1.24.0"
	craneImage  = "gcr.io/go-containerregistry/crane:v0.22.1"
	imageList   = craneImage + ", " + kanikoImage + ", " + warmerImage
)

// kubeEnv is the real control plane, a registry and a node agent running
// the real Kaniko executor, shared by the subtests of TestOnRealControlPlane.
type kubeEnv struct {
	client   kubernetes.Interface
	ns       string
	registry *stack.Registry
	base     string // the runtime image builds extend, by digest
	work     string
	images   map[string]nodeagent.Image

	mu      sync.Mutex
	layout  map[string]map[string]string // pod/container → container path → kind, seen before the run
	secrets map[string][]string          // pod/container → files of its root holding registry credentials
}

// TestOnRealControlPlane runs build Jobs through the real API server and Job
// controller, with the agent as the node and the real Kaniko executor.
func TestOnRealControlPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane and a registry, and runs Kaniko")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the node agent bind-mounts volumes and runs Kaniko with unshare(1) and chroot")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute) // a first run builds the binaries
	defer cancel()
	root, err := stack.RepoRoot()
	require.NoError(t, err)
	out, err := exec.CommandContext(ctx, filepath.Join(root, "tools", "build.sh"), "kaniko", "warmer", "crane").Output()
	require.NoError(t, err, "building the Kaniko executor and warmer and crane")
	bins := strings.Fields(string(out))
	require.Len(t, bins, 3)
	images := map[string]nodeagent.Image{
		kanikoImage: nodeagent.KanikoExecutor(bins[0]),
		warmerImage: nodeagent.KanikoWarmer(bins[1]),
		craneImage:  nodeagent.Crane(bins[2]),
	}

	kube, err := stack.StartKube(ctx, stack.KubeOptions{RepoRoot: root})
	require.NoError(t, err)
	defer func() { assert.NoError(t, kube.Stop()) }()
	registry, err := stack.StartRegistry(ctx, stack.RegistryOptions{})
	require.NoError(t, err)
	defer func() { assert.NoError(t, registry.Stop()) }()

	env := &kubeEnv{client: kube.Client, ns: "builds", registry: registry, work: t.TempDir(), images: images,
		layout: map[string]map[string]string{}, secrets: map[string][]string{}}
	_, err = kube.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: env.ns}}, metav1.CreateOptions{})
	require.NoError(t, err)
	base, err := fixtures.Push(ctx, registry.Host, registry.Auth(),
		fixtures.Runtime{Repo: "runtime-python", Tag: "3.13", User: "1001", Extend: true})
	require.NoError(t, err)
	env.base = base.String()
	env.createRegistrySecret(t)

	var agentLog lockedBuffer
	log := logrus.New()
	log.SetOutput(&agentLog)
	agent, err := nodeagent.New(nodeagent.Options{
		Client: kube.Client, Namespace: env.ns, Images: env.images,
		WorkDir: env.work, Log: log, MountTimeout: time.Minute, Prepared: env.record,
	})
	require.NoError(t, err)
	agentCtx, stopAgent := context.WithCancel(ctx)
	agentDone := make(chan error, 1)
	go func() { agentDone <- agent.Run(agentCtx) }()
	defer func() {
		stopAgent()
		assert.NoError(t, <-agentDone)
		left, err := nodeagent.MountsUnder(env.work)
		assert.NoError(t, err)
		assert.Empty(t, left, "nothing stays mounted")
		if t.Failed() {
			t.Logf("node agent log:\n%s", agentLog.String())
		}
	}()

	t.Run("build completes the job", env.testBuild)
	t.Run("other image stays pending", env.testRefusedImage)
	t.Run("volume layout", env.testLayout)
	t.Run("deadline kills the build", env.testDeadline)
	t.Run("whole-volume context misbuilds", env.testWholeVolumeContext)
	t.Run("three steps build and push", env.testSteps)
	t.Run("failing fetch fails the pod", env.testStepsFetchFails)
	t.Run("failing build fails the pod", env.testStepsBuildFails)
	t.Run("refused step stays pending", env.testStepsRefused)
	t.Run("delete kills the build step", env.testStepsDelete)
}

func (e *kubeEnv) testBuild(t *testing.T) {
	ctx := t.Context()
	dest := e.registry.Host + "/alice:t1"
	e.createContext(t, "ctx-alice", e.base)
	job := buildJob("build-alice", "ctx-alice",
		"--dockerfile=/workspace/Dockerfile", "--context=dir:///workspace", "--destination="+dest,
		"--digest-file=/dev/termination-log", "--insecure-registry="+e.registry.Host)

	began := time.Now()
	_, err := e.client.BatchV1().Jobs(e.ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	pod := e.waitJobPod(t, job.Name)
	podSeen := time.Now()
	cond := e.waitJobFinished(t, job.Name, 5*time.Minute)
	finished := time.Now()
	require.Equal(t, batchv1.JobComplete, cond.Type, "job %s: %s", cond.Reason, cond.Message)
	t.Logf("timing: job created → pod created %s, pod created → job Complete %s, total %s",
		podSeen.Sub(began).Round(time.Millisecond), finished.Sub(podSeen).Round(time.Millisecond),
		finished.Sub(began).Round(time.Millisecond))

	pod, err = e.client.CoreV1().Pods(e.ns).Get(ctx, pod.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.PodSucceeded, pod.Status.Phase)
	assert.Equal(t, nodeagent.DefaultNodeName, pod.Spec.NodeName)
	require.Len(t, pod.Status.ContainerStatuses, 1)
	term := pod.Status.ContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(0), term.ExitCode)
	assert.Equal(t, "Completed", term.Reason)

	ref, err := name.ParseReference(dest, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithAuth(e.registry.Auth()))
	require.NoError(t, err)
	digest, err := img.Digest()
	require.NoError(t, err)
	assert.Equal(t, digest.String(), term.Message, "the termination message is the pushed digest")
	lst, err := fileInImage(img, "opt/extended/requirements.lst")
	require.NoError(t, err)
	assert.Equal(t, "six==1.16.0\nrequests==2.32.3\n", lst)
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "1001", cfg.Config.User)

	logs, err := e.client.CoreV1().Pods(e.ns).GetLogs(pod.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
	require.NoError(t, err, "pods/log goes through the API server to the node")
	assert.Contains(t, string(logs), "extend: installed requirements.txt (2 requirements)")
	assert.Contains(t, string(logs), "Pushed "+e.registry.Host+"/alice@"+digest.String())
	tail, err := e.client.CoreV1().Pods(e.ns).GetLogs(pod.Name, &corev1.PodLogOptions{TailLines: ptr.To[int64](2)}).DoRaw(ctx)
	require.NoError(t, err)
	allLines := strings.Split(strings.TrimSuffix(string(logs), "\n"), "\n")
	assert.Equal(t, strings.Join(allLines[len(allLines)-2:], "\n")+"\n", string(tail), "tailLines")
	stamped, err := e.client.CoreV1().Pods(e.ns).GetLogs(pod.Name, &corev1.PodLogOptions{TailLines: ptr.To[int64](1), Timestamps: true}).DoRaw(ctx)
	require.NoError(t, err)
	stamp, line, _ := strings.Cut(strings.TrimSuffix(string(stamped), "\n"), " ")
	at, err := time.Parse(time.RFC3339Nano, stamp)
	require.NoError(t, err, "timestamps=true prefixes each line with its time")
	assert.WithinDuration(t, finished, at, time.Minute)
	assert.Equal(t, allLines[len(allLines)-1], line)
	future := metav1.NewTime(time.Now().Add(time.Hour))
	none, err := e.client.CoreV1().Pods(e.ns).GetLogs(pod.Name, &corev1.PodLogOptions{SinceTime: &future}).DoRaw(ctx)
	require.NoError(t, err)
	assert.Empty(t, string(none), "sinceTime")

	e.mu.Lock()
	layout := e.layout[pod.Name+"/kaniko"]
	e.mu.Unlock()
	assert.Equal(t, map[string]string{
		"/workspace/Dockerfile": "regular", "/workspace/requirements.txt": "regular",
		"/kaniko/.docker/config.json": "regular",
	}, pick(layout, "/workspace/Dockerfile", "/workspace/requirements.txt", "/kaniko/.docker/config.json"))
}

func (e *kubeEnv) testRefusedImage(t *testing.T) {
	ctx := t.Context()
	job := buildJob("build-other", "ctx-none", "--version")
	job.Spec.Template.Spec.Containers[0].Image = "docker.io/library/python:3.13"
	job.Spec.Template.Spec.Volumes = nil
	job.Spec.Template.Spec.Containers[0].VolumeMounts = nil
	_, err := e.client.BatchV1().Jobs(e.ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	pod := e.waitJobPod(t, job.Name)

	want := `Failed to pull image "docker.io/library/python:3.13": refused by the local node agent: only ` + imageList + ` run here`
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		events, err := e.client.CoreV1().Events(e.ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod.Name})
		if err != nil {
			return false, err
		}
		for _, ev := range events.Items {
			if ev.Type == corev1.EventTypeWarning && ev.Reason == "Failed" && ev.Message == want &&
				ev.InvolvedObject.Kind == "Pod" && ev.InvolvedObject.UID == pod.UID && ev.Source.Component == "kubelet" {
				return true, nil
			}
		}
		return false, nil
	})
	require.NoError(t, err, "the pull failure event")
	pod, err = e.client.CoreV1().Pods(e.ns).Get(ctx, pod.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.PodPending, pod.Status.Phase)
	assert.Equal(t, nodeagent.DefaultNodeName, pod.Spec.NodeName)
	require.Len(t, pod.Status.ContainerStatuses, 1)
	require.NotNil(t, pod.Status.ContainerStatuses[0].State.Waiting)
	assert.Contains(t, []string{"ErrImagePull", "ImagePullBackOff"}, pod.Status.ContainerStatuses[0].State.Waiting.Reason)
	// As kubectl does: Stream (and Do) decode the API server's Status; DoRaw
	// would drop the message ("the server rejected our request for an
	// unknown reason").
	_, err = e.client.CoreV1().Pods(e.ns).GetLogs(pod.Name, &corev1.PodLogOptions{}).Stream(ctx)
	require.Error(t, err)
	assert.True(t, apierrors.IsBadRequest(err), "%v", err)
	assert.Equal(t, fmt.Sprintf("container %q in pod %q is waiting to start: trying and failing to pull image", "kaniko", pod.Name), err.Error())

	time.Sleep(2 * time.Second)
	j, err := e.client.BatchV1().Jobs(e.ns).Get(ctx, job.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, j.Status.Conditions, "the job neither completes nor fails")

	// Cancel as the deployer does; the kubelet's final delete lets the pod go.
	require.NoError(t, e.client.BatchV1().Jobs(e.ns).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}))
	e.waitPodGone(t, pod.Name)
}

func (e *kubeEnv) testLayout(t *testing.T) {
	ctx := t.Context()
	e.createContext(t, "ctx-layout", e.base)
	job := buildJob("build-layout", "ctx-layout",
		"--dockerfile=/workspace/Dockerfile", "--context=dir:///workspace", "--no-push")
	spec := &job.Spec.Template.Spec
	spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts,
		corev1.VolumeMount{Name: "context", MountPath: "/whole"})
	_, err := e.client.BatchV1().Jobs(e.ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	pod := e.waitJobPod(t, job.Name)
	cond := e.waitJobFinished(t, job.Name, 3*time.Minute)
	assert.Equal(t, batchv1.JobComplete, cond.Type, "job %s: %s", cond.Reason, cond.Message)

	e.mu.Lock()
	layout := e.layout[pod.Name+"/kaniko"]
	e.mu.Unlock()
	assert.Equal(t, map[string]string{
		"/whole/Dockerfile": "symlink", "/whole/requirements.txt": "symlink", "/whole/..data": "symlink",
		"/workspace/Dockerfile": "regular", "/workspace/requirements.txt": "regular",
	}, pick(layout, "/whole/Dockerfile", "/whole/requirements.txt", "/whole/..data",
		"/workspace/Dockerfile", "/workspace/requirements.txt"),
		"a whole ConfigMap volume is symlinks into ..data; a subPath mount is a plain file")
}

// testWholeVolumeContext shows why the context must be mounted with
// subPath: from a whole ConfigMap volume Kaniko copies requirements.txt as
// the symlink it is there, /bin/extend finds no regular file in /tmp, and
// the build "succeeds" without the extension.
func (e *kubeEnv) testWholeVolumeContext(t *testing.T) {
	ctx := t.Context()
	dest := e.registry.Host + "/alice:whole"
	e.createContext(t, "ctx-whole", e.base)
	job := buildJob("build-whole", "ctx-whole",
		"--dockerfile=/whole/Dockerfile", "--context=dir:///whole", "--destination="+dest,
		"--digest-file=/dev/termination-log", "--insecure-registry="+e.registry.Host)
	spec := &job.Spec.Template.Spec
	spec.Containers[0].VolumeMounts = append(spec.Containers[0].VolumeMounts,
		corev1.VolumeMount{Name: "context", MountPath: "/whole"})
	_, err := e.client.BatchV1().Jobs(e.ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	cond := e.waitJobFinished(t, job.Name, 3*time.Minute)
	require.Equal(t, batchv1.JobComplete, cond.Type, "job %s: %s", cond.Reason, cond.Message)

	ref, err := name.ParseReference(dest, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithAuth(e.registry.Auth()))
	require.NoError(t, err)
	h, err := entryInImage(img, "tmp/requirements.txt")
	require.NoError(t, err)
	assert.Equal(t, byte(tar.TypeSymlink), h.Typeflag, "the file was copied as a symlink")
	assert.Equal(t, "..data/requirements.txt", h.Linkname)
	_, err = entryInImage(img, "opt/extended/requirements.lst")
	assert.Error(t, err, "/bin/extend had nothing to install")
}

func (e *kubeEnv) testDeadline(t *testing.T) {
	ctx := t.Context()
	// A registry that accepts connections and never answers: Kaniko waits
	// for the base image until the Job controller's deadline.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	var conns []net.Conn
	var connsMu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			connsMu.Lock()
			conns = append(conns, c)
			connsMu.Unlock()
		}
	}()
	defer func() {
		connsMu.Lock()
		defer connsMu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	host := ln.Addr().String()
	e.createContext(t, "ctx-deadline", host+"/stuck@sha256:"+strings.Repeat("0", 64))
	job := buildJob("build-deadline", "ctx-deadline",
		"--dockerfile=/workspace/Dockerfile", "--context=dir:///workspace", "--no-push", "--insecure-registry="+host)
	job.Spec.ActiveDeadlineSeconds = ptr.To[int64](5)
	began := time.Now()
	_, err = e.client.BatchV1().Jobs(e.ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	pod := e.waitJobPod(t, job.Name)
	cond := e.waitJobFinished(t, job.Name, 2*time.Minute)
	assert.Equal(t, batchv1.JobFailed, cond.Type)
	assert.Equal(t, batchv1.JobReasonDeadlineExceeded, cond.Reason)
	e.waitPodGone(t, pod.Name)
	t.Logf("timing: deadline job created → pod gone %s", time.Since(began).Round(time.Millisecond))
	entries, err := os.ReadDir(filepath.Join(e.work, "pods"))
	require.NoError(t, err)
	assert.Empty(t, entries, "the killed pod's sandbox is removed")
}

// record is the agent's Prepared hook: it notes what a few paths are in the
// laid-out root before the container starts.
func (e *kubeEnv) record(pod *corev1.Pod, container, root string) {
	seen := map[string]string{}
	for _, p := range []string{"/workspace/Dockerfile", "/workspace/requirements.txt", "/kaniko/.docker/config.json",
		"/whole/Dockerfile", "/whole/requirements.txt", "/whole/..data"} {
		seen[p] = nodeagent.KindOf(filepath.Join(root, p))
	}
	secrets := nodeagent.FilesHolding(root, []byte(e.registry.Password))
	e.mu.Lock()
	defer e.mu.Unlock()
	e.layout[pod.Name+"/"+container] = seen
	e.secrets[pod.Name+"/"+container] = secrets
}

func (e *kubeEnv) createRegistrySecret(t *testing.T) {
	_, err := e.client.CoreV1().Secrets(e.ns).Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "registry-push"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: e.registry.DockerConfigJSON()},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// createContext creates the build context ConfigMap of a Dockerfile that
// extends base with a requirements.txt.
func (e *kubeEnv) createContext(t *testing.T, name, base string) {
	e.createContextWith(t, name, base, "six==1.16.0\n# a comment\n\nrequests==2.32.3\n")
}

// createContextWith is createContext with the requirements.txt given.
func (e *kubeEnv) createContextWith(t *testing.T, name, base, requirements string) {
	_, err := e.client.CoreV1().ConfigMaps(e.ns).Create(t.Context(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Data: map[string]string{
			"Dockerfile": "FROM " + base + "\nCOPY requirements.txt /tmp/requirements.txt\n" +
				"USER root\nRUN /bin/extend\nUSER 1001\n",
			"requirements.txt": requirements,
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
}

// buildJob is a build Job as the deployer makes one: the context files and
// the registry credentials mounted with subPath, so Kaniko sees plain files.
func buildJob(name, contextMap string, args ...string) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr.To[int32](0),
			ActiveDeadlineSeconds: ptr.To[int64](300),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy:                corev1.RestartPolicyNever,
				AutomountServiceAccountToken: ptr.To(false),
				Containers: []corev1.Container{{
					Name: "kaniko", Image: kanikoImage, Args: args,
					VolumeMounts: []corev1.VolumeMount{
						{Name: "context", MountPath: "/workspace/Dockerfile", SubPath: "Dockerfile"},
						{Name: "context", MountPath: "/workspace/requirements.txt", SubPath: "requirements.txt"},
						{Name: "docker-config", MountPath: "/kaniko/.docker/config.json", SubPath: corev1.DockerConfigJsonKey},
					},
				}},
				Volumes: []corev1.Volume{
					{Name: "context", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: contextMap}}}},
					{Name: "docker-config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
						SecretName: "registry-push"}}},
				},
			}},
		},
	}
}

// waitJobPod waits for the Job controller to create the Job's pod.
func (e *kubeEnv) waitJobPod(t *testing.T, job string) *corev1.Pod {
	var pod *corev1.Pod
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := e.client.CoreV1().Pods(e.ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job})
		if err != nil || len(pods.Items) == 0 {
			return false, err
		}
		pod = &pods.Items[0]
		return true, nil
	})
	require.NoError(t, err, "no pod for job %s", job)
	return pod
}

// waitJobFinished waits for the Job's Complete or Failed condition.
func (e *kubeEnv) waitJobFinished(t *testing.T, job string, timeout time.Duration) batchv1.JobCondition {
	var found batchv1.JobCondition
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		j, err := e.client.BatchV1().Jobs(e.ns).Get(ctx, job, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range j.Status.Conditions {
			if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
				found = c
				return true, nil
			}
		}
		return false, nil
	})
	require.NoError(t, err, "job %s did not finish", job)
	return found
}

func (e *kubeEnv) waitPodGone(t *testing.T, pod string) {
	err := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := e.client.CoreV1().Pods(e.ns).Get(ctx, pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	require.NoError(t, err, "pod %s is not deleted", pod)
}

// fileInImage returns the content of a regular file in the image's
// flattened filesystem.
func fileInImage(img v1.Image, path string) (string, error) {
	var content string
	_, err := findInImage(img, path, func(h *tar.Header, r io.Reader) error {
		if h.Typeflag != tar.TypeReg {
			return fmt.Errorf("%s is not a regular file", path)
		}
		b, err := io.ReadAll(r)
		content = string(b)
		return err
	})
	return content, err
}

// entryInImage returns the tar header of a path in the image's flattened
// filesystem.
func entryInImage(img v1.Image, path string) (*tar.Header, error) {
	return findInImage(img, path, func(*tar.Header, io.Reader) error { return nil })
}

func findInImage(img v1.Image, path string, read func(*tar.Header, io.Reader) error) (*tar.Header, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s is not in the image", path)
		}
		if err != nil {
			return nil, fmt.Errorf("reading the image: %w", err)
		}
		if strings.TrimPrefix(h.Name, "/") == path {
			return h, read(h, tr)
		}
	}
}

// pick returns the entries of m with the given keys.
func pick(m map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// lockedBuffer collects the agent's log across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
