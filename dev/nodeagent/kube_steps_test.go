package nodeagent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
)

// stepsJob is a build Job of three steps, as the deployer makes it: fetch
// warms the pinned base into the cache with the registry Secret; build runs
// the Dockerfile (the user's code) from the cache with no credential at all
// and writes the image to a tarball; push sends the tarball with the Secret
// and reports the pushed reference as its termination message.
func (e *kubeEnv) stepsJob(name, contextMap, base, dest string) *batchv1.Job {
	host := e.registry.Host
	repo := dest[:strings.LastIndex(dest, ":")]
	secretMount := func(path string) corev1.VolumeMount {
		return corev1.VolumeMount{Name: "docker-config", MountPath: path, SubPath: "config.json", ReadOnly: true}
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr.To[int32](0),
			ActiveDeadlineSeconds: ptr.To[int64](300),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				RestartPolicy:                corev1.RestartPolicyNever,
				AutomountServiceAccountToken: ptr.To(false),
				InitContainers: []corev1.Container{{
					Name: "fetch", Image: warmerImage,
					Args: []string{"--cache-dir=/cache", "--image=" + base, "--insecure-registry=" + host},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "cache", MountPath: "/cache"}, secretMount("/kaniko/.docker/config.json"),
					},
					TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				}, {
					Name: "build", Image: kanikoImage,
					Args: []string{"--dockerfile=/workspace/Dockerfile", "--context=dir:///workspace",
						"--destination=" + dest, "--no-push", "--tar-path=/output/image.tar",
						"--cache=true", "--cache-dir=/cache", "--cache-repo=" + repo + "/cache",
						"--cache-run-layers=false", "--cache-copy-layers=false",
						// Without it Kaniko checks that it may push to the cache
						// repository, which fails with no credential.
						"--no-push-cache", "--insecure-registry=" + host},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "context", MountPath: "/workspace/Dockerfile", SubPath: "Dockerfile"},
						{Name: "context", MountPath: "/workspace/requirements.txt", SubPath: "requirements.txt"},
						{Name: "cache", MountPath: "/cache", ReadOnly: true},
						{Name: "output", MountPath: "/output"},
					},
					TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				}},
				Containers: []corev1.Container{{
					Name: "push", Image: craneImage,
					Args: []string{"push", "/output/image.tar", dest, "--image-refs=/dev/termination-log", "--insecure"},
					Env:  []corev1.EnvVar{{Name: "DOCKER_CONFIG", Value: "/docker"}},
					VolumeMounts: []corev1.VolumeMount{
						{Name: "output", MountPath: "/output", ReadOnly: true}, secretMount("/docker/config.json"),
					},
					TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
				}},
				Volumes: []corev1.Volume{
					{Name: "context", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
						LocalObjectReference: corev1.LocalObjectReference{Name: contextMap}}}},
					{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "output", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "docker-config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
						SecretName: "registry-push",
						Items:      []corev1.KeyToPath{{Key: corev1.DockerConfigJsonKey, Path: "config.json"}}}}},
				},
			}},
		},
	}
}

func (e *kubeEnv) testSteps(t *testing.T) {
	ctx := t.Context()
	dest := e.registry.Host + "/alice:steps"
	e.createContext(t, "ctx-steps", e.base)
	job := e.stepsJob("build-steps", "ctx-steps", e.base, dest)

	began := time.Now()
	_, err := e.client.BatchV1().Jobs(e.ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	pod := e.waitJobPod(t, job.Name)
	cond := e.waitJobFinished(t, job.Name, 5*time.Minute)
	t.Logf("timing: three-step job created → Complete %s", time.Since(began).Round(time.Millisecond))
	require.Equal(t, batchv1.JobComplete, cond.Type, "job %s: %s", cond.Reason, cond.Message)

	pod, err = e.client.CoreV1().Pods(e.ns).Get(ctx, pod.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.PodSucceeded, pod.Status.Phase)
	require.Len(t, pod.Status.InitContainerStatuses, 2)
	for _, s := range pod.Status.InitContainerStatuses {
		require.NotNil(t, s.State.Terminated, s.Name)
		assert.Equal(t, "Completed", s.State.Terminated.Reason, s.Name)
	}
	require.Len(t, pod.Status.ContainerStatuses, 1)
	term := pod.Status.ContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(0), term.ExitCode)

	ref, err := name.ParseReference(dest, name.Insecure)
	require.NoError(t, err)
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithAuth(e.registry.Auth()))
	require.NoError(t, err, "crane pushed the image")
	digest, err := img.Digest()
	require.NoError(t, err)
	assert.Equal(t, e.registry.Host+"/alice@"+digest.String(), strings.TrimSpace(term.Message),
		"crane's --image-refs output is the push step's termination message")
	t.Logf("push termination message: %q", term.Message)
	lst, err := fileInImage(img, "opt/extended/requirements.lst")
	require.NoError(t, err)
	assert.Equal(t, "six==1.16.0\nrequests==2.32.3\n", lst)
	cfg, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "1001", cfg.Config.User)

	e.mu.Lock()
	secrets := map[string][]string{}
	for _, c := range []string{"fetch", "build", "push"} {
		secrets[c] = e.secrets[pod.Name+"/"+c]
	}
	e.mu.Unlock()
	assert.Equal(t, map[string][]string{
		"fetch": {"/kaniko/.docker/config.json"}, "build": {}, "push": {"/docker/config.json"},
	}, secrets, "the registry password is in no file of the build step's root, and where fetch and push mount it")

	logs := map[string]string{}
	for _, c := range []string{"fetch", "build", "push", ""} {
		b, err := e.client.CoreV1().Pods(e.ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: c}).DoRaw(ctx)
		require.NoError(t, err, "pods/log of %q", c)
		logs[c] = string(b)
	}
	assert.Contains(t, logs["build"], "extend: installed requirements.txt (2 requirements)")
	assert.Contains(t, logs["build"], "in local cache", "Kaniko takes the base from the cache")
	assert.NotContains(t, logs["fetch"], "extend:")
	assert.Equal(t, logs["push"], logs[""], "without a container the API server asks for the pod's only container")
	for c, l := range logs {
		assert.NotContains(t, l, e.registry.Password, "log of %q", c)
	}
	if t.Failed() {
		t.Logf("logs: %q", logs)
	}
}

func (e *kubeEnv) testStepsFetchFails(t *testing.T) {
	missing := e.registry.Host + "/nobody@sha256:" + strings.Repeat("1", 64)
	e.createContext(t, "ctx-nofetch", missing)
	pod := e.failedStepsPod(t, e.stepsJob("build-nofetch", "ctx-nofetch", missing, e.registry.Host+"/alice:nofetch"))
	fetch := pod.Status.InitContainerStatuses[0].State.Terminated
	require.NotNil(t, fetch)
	assert.NotEqual(t, int32(0), fetch.ExitCode)
	assert.Equal(t, "Error", fetch.Reason)
	assert.NotEmpty(t, fetch.Message, "the tail of fetch's log (FallbackToLogsOnError)")
	t.Logf("fetch ended %d: %s", fetch.ExitCode, fetch.Message)
	require.NotNil(t, pod.Status.InitContainerStatuses[1].State.Waiting)
	assert.Equal(t, "PodInitializing", pod.Status.InitContainerStatuses[1].State.Waiting.Reason)
	assert.Equal(t, corev1.ConditionFalse, podCondition(pod, corev1.PodInitialized).Status)
	e.mu.Lock()
	_, built := e.layout[pod.Name+"/build"]
	e.mu.Unlock()
	assert.False(t, built, "the build step never ran")
}

func (e *kubeEnv) testStepsBuildFails(t *testing.T) {
	e.createContextWith(t, "ctx-badbuild", e.base, "fail-the-build\n")
	pod := e.failedStepsPod(t, e.stepsJob("build-badbuild", "ctx-badbuild", e.base, e.registry.Host+"/alice:badbuild"))
	assert.Equal(t, "Completed", pod.Status.InitContainerStatuses[0].State.Terminated.Reason)
	build := pod.Status.InitContainerStatuses[1].State.Terminated
	require.NotNil(t, build)
	assert.Equal(t, int32(1), build.ExitCode, "Kaniko's exit code for a failed RUN")
	assert.Equal(t, "Error", build.Reason)
	assert.Contains(t, build.Message, "asks the build to fail")
	require.NotNil(t, pod.Status.ContainerStatuses[0].State.Waiting)
	assert.Equal(t, "PodInitializing", pod.Status.ContainerStatuses[0].State.Waiting.Reason)
	e.mu.Lock()
	_, pushed := e.layout[pod.Name+"/push"]
	e.mu.Unlock()
	assert.False(t, pushed, "the push step never ran")
}

func (e *kubeEnv) testStepsRefused(t *testing.T) {
	ctx := t.Context()
	e.createContext(t, "ctx-refused", e.base)
	job := e.stepsJob("build-refused", "ctx-refused", e.base, e.registry.Host+"/alice:refused")
	job.Spec.Template.Spec.InitContainers[1].Image = "docker.io/library/python:3.13"
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
				ev.InvolvedObject.FieldPath == "spec.initContainers{build}" {
				return true, nil
			}
		}
		return false, nil
	})
	require.NoError(t, err, "the pull failure event of the build step")
	pod, err = e.client.CoreV1().Pods(e.ns).Get(ctx, pod.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.PodPending, pod.Status.Phase)
	require.Len(t, pod.Status.InitContainerStatuses, 2)
	require.NotNil(t, pod.Status.InitContainerStatuses[0].State.Terminated, "fetch ran")
	require.NotNil(t, pod.Status.InitContainerStatuses[1].State.Waiting)
	assert.Contains(t, []string{"ErrImagePull", "ImagePullBackOff"}, pod.Status.InitContainerStatuses[1].State.Waiting.Reason)

	require.NoError(t, e.client.BatchV1().Jobs(e.ns).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}))
	e.waitPodGone(t, pod.Name)
}

func (e *kubeEnv) testStepsDelete(t *testing.T) {
	ctx := t.Context()
	e.createContextWith(t, "ctx-slow", e.base, "# extend-sleep 300\nsix\n")
	job := e.stepsJob("build-slow", "ctx-slow", e.base, e.registry.Host+"/alice:slow")
	_, err := e.client.BatchV1().Jobs(e.ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	pod := e.waitJobPod(t, job.Name)
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		b, err := e.client.CoreV1().Pods(e.ns).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "build"}).DoRaw(ctx)
		return err == nil && strings.Contains(string(b), "extend: sleeping 300s"), nil
	})
	require.NoError(t, err, "the build step runs the user's code")

	began := time.Now()
	require.NoError(t, e.client.BatchV1().Jobs(e.ns).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}))
	e.waitPodGone(t, pod.Name)
	t.Logf("timing: job deleted during the build step → pod gone %s", time.Since(began).Round(time.Millisecond))
	assert.Less(t, time.Since(began), 30*time.Second)
	events, err := e.client.CoreV1().Events(e.ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=" + pod.Name})
	require.NoError(t, err)
	killed := false
	for _, ev := range events.Items {
		if ev.Reason == "Killing" && ev.InvolvedObject.FieldPath == "spec.initContainers{build}" {
			killed = true
		}
	}
	assert.True(t, killed, "the build step was killed")
	e.mu.Lock()
	_, pushed := e.layout[pod.Name+"/push"]
	e.mu.Unlock()
	assert.False(t, pushed, "the push step never ran")
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) corev1.PodCondition {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.PodCondition{}
}

// failedStepsPod creates job, waits for it to fail, and returns its Pod as
// it ended: Failed, with the statuses of both init steps.
func (e *kubeEnv) failedStepsPod(t *testing.T, job *batchv1.Job) *corev1.Pod {
	t.Helper()
	ctx := t.Context()
	_, err := e.client.BatchV1().Jobs(e.ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	pod := e.waitJobPod(t, job.Name)
	cond := e.waitJobFinished(t, job.Name, 3*time.Minute)
	assert.Equal(t, batchv1.JobFailed, cond.Type)

	pod, err = e.client.CoreV1().Pods(e.ns).Get(ctx, pod.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.PodFailed, pod.Status.Phase)
	require.Len(t, pod.Status.InitContainerStatuses, 2)
	return pod
}
