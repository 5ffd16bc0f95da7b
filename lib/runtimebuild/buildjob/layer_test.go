package buildjob

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/imagestore"
)

func layerPlan() Plan {
	p := testPlan()
	p.Engine = config.EngineLayer
	p.LayerImage = "layer.example.com/layer:v9"
	p.MaxLayerBytes = 1 << 30
	p.BaseRun = imagestore.RunConfig{Env: []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}, WorkingDir: "/action", Shell: []string{"/bin/bash", "-c"}}
	return p
}

func layerStepsOf(t *testing.T, p Plan) (pod corev1.PodSpec, vols map[string]corev1.Volume) {
	t.Helper()
	pod = NewJob(p).Spec.Template.Spec
	vols = map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		for _, m := range c.VolumeMounts {
			assert.Contains(t, vols, m.Name, "%s mounts a volume of the Pod", c.Name)
		}
	}
	return pod, vols
}

func TestLayerJobSteps(t *testing.T) {
	pod, vols := layerStepsOf(t, layerPlan())
	require.Len(t, pod.InitContainers, 2)
	require.Len(t, pod.Containers, 1)
	tools, build, push := pod.InitContainers[0], pod.InitContainers[1], pod.Containers[0]

	assert.Equal(t, "tools", tools.Name)
	assert.Equal(t, "layer.example.com/layer:v9", tools.Image)
	assert.Equal(t, []string{"/layer/layerhelper", "-copy-to", "/.deployer/bin"}, tools.Command)

	assert.Equal(t, "build", build.Name)
	assert.Equal(t, "r.example.com/rt@"+testDigest, build.Image, "the build step runs the pinned base itself")
	assert.Equal(t, []string{"/.deployer/bin/layerhelper"}, build.Command)
	assert.Equal(t, []string{
		"-file", "/.deployer/in/requirements.txt", "-name", "requirements.txt", "-out", "/.deployer/out",
		"-workdir", "/action", "-env", "PATH=/usr/bin:/bin", "-env", "LANG=C.UTF-8", "-shell", "/bin/bash", "-shell", "-c",
	}, build.Args)
	require.NotNil(t, build.SecurityContext)
	assert.Equal(t, int64(0), *build.SecurityContext.RunAsUser, "RUN runs as root, as after the Dockerfile's USER root")
	assert.Equal(t, int64(0), *build.SecurityContext.RunAsGroup)

	assert.Equal(t, "push", push.Name)
	assert.Equal(t, []string{"/layer/layerpush"}, push.Command)
	assert.Equal(t, []string{
		"-base", "r.example.com/rt@" + testDigest, "-base-name", "r.example.com/rt:v3.13",
		"-destination", "push.example.com:5000/alice:py1", "-base-config", "/pull/config.json",
		"-termination-log", "/dev/termination-log", "-user", "1001",
		"-layer", "/output/layer.tar", "-max-bytes", "1073741824",
		"-insecure-registry", "push.example.com:5000",
	}, push.Args)
	assert.Equal(t, []corev1.VolumeMount{
		{Name: "pull-config", MountPath: "/pull", ReadOnly: true},
		{Name: "output", MountPath: "/output", ReadOnly: true},
		{Name: "push-config", MountPath: "/docker", ReadOnly: true},
	}, push.VolumeMounts)
	assert.Equal(t, "platform-secret", vols["pull-config"].Secret.SecretName)
	assert.Equal(t, "push-secret", vols["push-config"].Secret.SecretName)
	assert.NotContains(t, vols, "base", "the node holds the base: nothing fetches it")
	require.NotNil(t, vols["tools"].EmptyDir)
	assert.Equal(t, []corev1.LocalObjectReference{{Name: "platform-secret"}}, pod.ImagePullSecrets, "the node pulls the base with the platform's pull Secret")
}

// TestLayerBuildStepHasNoCredential checks the step that runs the user's
// code, in the user's own base image, for every way a credential could
// reach it, and that no step asks for privilege.
func TestLayerBuildStepHasNoCredential(t *testing.T) {
	for _, mod := range []func(*Plan){
		func(*Plan) {},
		func(p *Plan) { p.PushCredentials = credentials(t, []byte(`{"auths":{}}`)) },
		func(p *Plan) { p.UserNamespace = true },
		func(p *Plan) { p.LayerImageVolume = true },
	} {
		p := layerPlan()
		mod(&p)
		pod, vols := layerStepsOf(t, p)
		assert.False(t, *pod.AutomountServiceAccountToken)
		for _, c := range pod.InitContainers {
			assert.Empty(t, c.Env, c.Name)
			assert.Empty(t, c.EnvFrom, c.Name)
			for _, m := range c.VolumeMounts {
				v := vols[m.Name]
				assert.Nil(t, v.Secret, "%s mounts Secret volume %s", c.Name, m.Name)
				assert.Nil(t, v.Projected, "%s mounts projected volume %s", c.Name, m.Name)
			}
		}
		for _, c := range append(pod.InitContainers, pod.Containers...) {
			assertUnprivileged(t, c)
		}
		build := pod.InitContainers[len(pod.InitContainers)-1]
		require.Equal(t, "build", build.Name)
		assert.Equal(t, []corev1.VolumeMount{
			{Name: "tools", MountPath: "/.deployer/bin", ReadOnly: true},
			{Name: "input", MountPath: "/.deployer/in", ReadOnly: true},
			{Name: "output", MountPath: "/.deployer/out"},
		}, build.VolumeMounts)
		assert.Equal(t, []corev1.KeyToPath{{Key: "requirements.txt", Path: "requirements.txt"}}, vols["input"].ConfigMap.Items,
			"the dependency file alone: not the push step's name files")
	}
}

// TestLayerJobWithImageVolume: with layer_image_volume the node mounts the
// layer image (read-only) where the tools step would have copied the
// helper, and there is no tools step.
func TestLayerJobWithImageVolume(t *testing.T) {
	p := layerPlan()
	p.LayerImageVolume = true
	pod, vols := layerStepsOf(t, p)
	require.Len(t, pod.InitContainers, 1)
	build := pod.InitContainers[0]
	assert.Equal(t, "build", build.Name)
	assert.Equal(t, []string{"/.deployer/bin/layer/layerhelper"}, build.Command)
	require.NotNil(t, vols["tools"].Image)
	assert.Nil(t, vols["tools"].EmptyDir)
	assert.Equal(t, corev1.ImageVolumeSource{Reference: "layer.example.com/layer:v9", PullPolicy: corev1.PullIfNotPresent}, *vols["tools"].Image)
	assert.Equal(t, "push", pod.Containers[0].Name)
	assert.Equal(t, "layer.example.com/layer:v9", pod.Containers[0].Image)
}

// TestLayerJobWithoutFile: with no file the Dockerfile is FROM alone, so
// there is nothing to run: the push step writes the base with the labels,
// keeping the base's USER.
func TestLayerJobWithoutFile(t *testing.T) {
	p := layerPlan()
	p.FileName, p.File, p.BaseUser = "", nil, ""
	pod, _ := layerStepsOf(t, p)
	assert.Empty(t, pod.InitContainers)
	require.Len(t, pod.Containers, 1)
	assert.Equal(t, []string{
		"-base", "r.example.com/rt@" + testDigest, "-base-name", "r.example.com/rt:v3.13",
		"-destination", "push.example.com:5000/alice:py1", "-base-config", "/pull/config.json",
		"-termination-log", "/dev/termination-log", "-insecure-registry", "push.example.com:5000",
	}, pod.Containers[0].Args)
}

func TestLayerPushUserDefault(t *testing.T) {
	p := layerPlan()
	p.BaseUser = ""
	pod, _ := layerStepsOf(t, p)
	assert.Contains(t, pod.Containers[0].Args, "nobody", "a base without USER runs as nobody after the build, as with Kaniko")
}
