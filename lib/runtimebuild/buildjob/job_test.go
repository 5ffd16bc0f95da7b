package buildjob

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/kube"
)

const testDigest = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"

// testPlan is a complete plan with a dependency file.
func testPlan() Plan {
	file := []byte("requests==2.31.0\n")
	id := ID(Inputs{Kind: "python", Source: "r.example.com/rt@" + testDigest, File: file, Target: "push.example.com:5000/alice:py1"})
	return Plan{
		ID:                 id,
		User:               "alice",
		Kind:               "python",
		Namespace:          "builds",
		Source:             "r.example.com/rt:v3.13",
		Pinned:             "r.example.com/rt@" + testDigest,
		BaseDigest:         testDigest,
		BaseUser:           "1001",
		FileName:           "requirements.txt",
		File:               file,
		Destination:        "push.example.com:5000/alice:py1",
		Image:              "pull.example.com/alice:py1",
		PullSecret:         "platform-secret",
		PushSecret:         "push-secret",
		Attempt:            "a1b2c3",
		InsecureRegistries: []string{"push.example.com:5000", "pull.example.com"},
		WarmerImage:        "kaniko.example.com/warmer:v9",
		KanikoImage:        "kaniko.example.com/executor:v9",
		PusherImage:        "crane.example.com/crane:v9",
		Deadline:           15 * time.Minute,
		TTL:                48 * time.Hour,
		Resources:          config.Resources{RequestCPU: "250m", RequestMemory: "512Mi", LimitCPU: "2", LimitMemory: "2Gi"},
	}
}

func TestNewJobMetadata(t *testing.T) {
	p := testPlan()
	job := NewJob(p)
	sum := sha256.Sum256(p.File)

	assert.Equal(t, JobName("alice", p.ID), job.Name)
	assert.Equal(t, "builds", job.Namespace)
	wantLabels := map[string]string{
		"app.kubernetes.io/component":         "runtime-builder",
		"openserverless.apache.org/component": "runtime-builder",
		"openserverless.apache.org/user":      "alice",
		"openserverless.apache.org/build-id":  p.ID[:32],
		"openserverless.apache.org/kind":      "python",
	}
	assert.Equal(t, wantLabels, job.Labels)
	assert.Equal(t, wantLabels, job.Spec.Template.Labels, "the Pod carries the same labels")
	for k, v := range job.Labels {
		assert.Empty(t, validation.IsQualifiedName(k), "label key %q", k)
		assert.Empty(t, validation.IsValidLabelValue(v), "label %q value %q", k, v)
	}
	assert.Equal(t, map[string]string{
		"openserverless.apache.org/image":       "pull.example.com/alice:py1",
		"openserverless.apache.org/source":      "r.example.com/rt@" + testDigest,
		"openserverless.apache.org/file-sha256": hex.EncodeToString(sum[:]),
		"openserverless.apache.org/build-id":    p.ID,
	}, job.Annotations)
}

func TestNewJobSpec(t *testing.T) {
	job := NewJob(testPlan())
	spec := job.Spec
	require.NotNil(t, spec.BackoffLimit)
	assert.Equal(t, int32(0), *spec.BackoffLimit)
	require.NotNil(t, spec.ActiveDeadlineSeconds)
	assert.Equal(t, int64(900), *spec.ActiveDeadlineSeconds)
	require.NotNil(t, spec.TTLSecondsAfterFinished)
	assert.Equal(t, int32(48*3600), *spec.TTLSecondsAfterFinished)

	pod := spec.Template.Spec
	assert.Equal(t, corev1.RestartPolicyNever, pod.RestartPolicy)
	require.NotNil(t, pod.AutomountServiceAccountToken)
	assert.False(t, *pod.AutomountServiceAccountToken)
	require.NotNil(t, pod.EnableServiceLinks)
	assert.False(t, *pod.EnableServiceLinks)
	assert.Empty(t, pod.ServiceAccountName, "the build runs with no chosen service account")
	require.Len(t, pod.InitContainers, 2)
	require.Len(t, pod.Containers, 1)
	steps := []corev1.Container{pod.InitContainers[0], pod.InitContainers[1], pod.Containers[0]}
	for i, want := range []struct{ name, image string }{
		{"fetch", "kaniko.example.com/warmer:v9"},
		{"build", "kaniko.example.com/executor:v9"},
		{"push", "crane.example.com/crane:v9"},
	} {
		c := steps[i]
		assert.Equal(t, want.name, c.Name)
		assert.Equal(t, want.image, c.Image)
		assert.Empty(t, c.Command, "the image's own entrypoint runs, with no shell")
		assert.Equal(t, corev1.TerminationMessageFallbackToLogsOnError, c.TerminationMessagePolicy)
		assert.Equal(t, corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi")},
		}, c.Resources, want.name)
	}
	assert.Equal(t, "/dev/termination-log", pod.Containers[0].TerminationMessagePath, "the push step reports the digest")
}

func TestNewJobResources(t *testing.T) {
	tests := []struct {
		name string
		res  config.Resources
		want corev1.ResourceRequirements
	}{
		{
			name: "none set",
			want: corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}},
		},
		{
			name: "only a memory limit",
			res:  config.Resources{LimitMemory: "1Gi"},
			want: corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
		},
		{
			name: "an ephemeral storage limit asks for no storage",
			res:  config.Resources{LimitEphemeralStorage: "10Gi"},
			want: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("0")},
				Limits:   corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("10Gi")},
			},
		},
		{
			name: "ephemeral storage request and limit",
			res:  config.Resources{RequestEphemeralStorage: "1Gi", LimitEphemeralStorage: "4Gi"},
			want: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("1Gi")},
				Limits:   corev1.ResourceList{corev1.ResourceEphemeralStorage: resource.MustParse("4Gi")},
			},
		},
		{
			name: "only requests",
			res:  config.Resources{RequestCPU: "100m", RequestMemory: "128Mi"},
			want: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan()
			p.Resources = tt.res
			pod := NewJob(p).Spec.Template.Spec
			for _, c := range append(pod.InitContainers, pod.Containers...) {
				assert.Equal(t, tt.want, c.Resources, c.Name)
			}
		})
	}
}

func TestNewJobDeadlineAndTTL(t *testing.T) {
	tests := []struct {
		name         string
		deadline     time.Duration
		ttl          time.Duration
		wantDeadline int64
		wantTTL      int32
	}{
		{name: "defaults", deadline: config.DefaultBuildTimeout, ttl: config.DefaultJobTTL, wantDeadline: 900, wantTTL: 604800},
		{name: "short", deadline: 30 * time.Second, ttl: 0, wantDeadline: 30, wantTTL: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan()
			p.Deadline, p.TTL = tt.deadline, tt.ttl
			job := NewJob(p)
			assert.Equal(t, tt.wantDeadline, *job.Spec.ActiveDeadlineSeconds)
			assert.Equal(t, tt.wantTTL, *job.Spec.TTLSecondsAfterFinished)
		})
	}
}

// stepsOf returns the fetch, build and push containers of a Job.
func stepsOf(t *testing.T, p Plan) (fetch, build, push corev1.Container, vols map[string]corev1.Volume) {
	t.Helper()
	pod := NewJob(p).Spec.Template.Spec
	require.Len(t, pod.InitContainers, 2)
	require.Len(t, pod.Containers, 1)
	vols = map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		vols[v.Name] = v
	}
	for _, c := range append(pod.InitContainers, pod.Containers...) {
		for _, m := range c.VolumeMounts {
			assert.Contains(t, vols, m.Name, "%s mounts a volume of the Pod", c.Name)
		}
	}
	return pod.InitContainers[0], pod.InitContainers[1], pod.Containers[0], vols
}

func TestFetchStep(t *testing.T) {
	fetch, _, _, vols := stepsOf(t, testPlan())
	assert.Equal(t, []string{
		"--cache-dir=/cache",
		"--image=r.example.com/rt@" + testDigest,
		"--insecure-registry=push.example.com:5000",
		"--insecure-registry=pull.example.com",
	}, fetch.Args)
	assert.Equal(t, []corev1.VolumeMount{
		{Name: "base", MountPath: "/cache"},
		{Name: "pull-config", MountPath: "/kaniko/.docker", ReadOnly: true},
	}, fetch.VolumeMounts)
	require.NotNil(t, vols["pull-config"].Secret)
	assert.Equal(t, "platform-secret", vols["pull-config"].Secret.SecretName, "the source is read with the platform's credentials")
	assert.Equal(t, []corev1.KeyToPath{{Key: ".dockerconfigjson", Path: "config.json"}}, vols["pull-config"].Secret.Items)
	require.NotNil(t, vols["base"].EmptyDir)
}

func TestKanikoArgs(t *testing.T) {
	want := []string{
		"--dockerfile=/workspace/Dockerfile",
		"--context=dir:///workspace",
		"--destination=push.example.com:5000/alice:py1",
		"--no-push",
		"--tar-path=/output/image.tar",
		"--cache=true",
		"--cache-dir=/cache",
		"--cache-repo=push.example.com:5000/alice/cache",
		"--cache-run-layers=false",
		"--cache-copy-layers=false",
		"--no-push-cache",
		"--snapshot-mode=redo",
		"--label=org.opencontainers.image.base.name=r.example.com/rt:v3.13",
		"--label=org.opencontainers.image.base.digest=" + testDigest,
	}
	p := testPlan()
	assert.Equal(t, want, KanikoArgs(p))
	_, build, _, _ := stepsOf(t, p)
	assert.Equal(t, want, build.Args)
}

// TestBuildStepHasNoCredential checks the step that runs the user's code
// for every way a credential could reach it: a Secret volume, a projected
// token, an environment variable, a variable from a Secret.
func TestBuildStepHasNoCredential(t *testing.T) {
	for _, mod := range []func(*Plan){
		func(*Plan) {},
		func(p *Plan) { p.PushCredentials = credentials(t, []byte(`{"auths":{}}`)) },
		func(p *Plan) { p.PushSecret = "" },
	} {
		p := testPlan()
		mod(&p)
		_, build, _, vols := stepsOf(t, p)
		assert.Empty(t, build.Env)
		assert.Empty(t, build.EnvFrom)
		for _, m := range build.VolumeMounts {
			v := vols[m.Name]
			assert.Nil(t, v.Secret, "build mounts Secret volume %s", m.Name)
			assert.Nil(t, v.Projected, "build mounts projected volume %s", m.Name)
			assert.NotContains(t, m.MountPath, ".docker")
		}
		assert.Equal(t, []corev1.VolumeMount{
			{Name: "context", MountPath: "/workspace/Dockerfile", SubPath: "Dockerfile", ReadOnly: true},
			{Name: "base", MountPath: "/cache", ReadOnly: true},
			{Name: "output", MountPath: "/output"},
			{Name: "context", MountPath: "/workspace/requirements.txt", SubPath: "requirements.txt", ReadOnly: true},
		}, build.VolumeMounts)
	}
}

// Every step of a Kaniko build asks for no privilege and gives up NET_RAW.
func TestStepsAreUnprivileged(t *testing.T) {
	pod := NewJob(testPlan()).Spec.Template.Spec
	steps := append(pod.InitContainers, pod.Containers...)
	require.Len(t, steps, 3)
	for _, c := range steps {
		assertUnprivileged(t, c)
	}
}

// assertUnprivileged checks that a step adds no capability, drops NET_RAW
// (raw packets on the Pod network: ARP spoofing on the node's bridge), and
// asks for no privilege.
func assertUnprivileged(t *testing.T, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	require.NotNil(t, sc, c.Name)
	assert.Nil(t, sc.Privileged, c.Name)
	assert.Nil(t, sc.AllowPrivilegeEscalation, c.Name)
	require.NotNil(t, sc.Capabilities, c.Name)
	assert.Empty(t, sc.Capabilities.Add, c.Name)
	assert.Contains(t, sc.Capabilities.Drop, corev1.Capability("NET_RAW"), c.Name)
}

func TestPushStep(t *testing.T) {
	tests := []struct {
		name       string
		mod        func(*Plan)
		wantSecret string
		wantArgs   []string
	}{
		{
			name:       "platform registry, plain HTTP",
			mod:        func(*Plan) {},
			wantSecret: "push-secret",
			wantArgs:   []string{"push", "/output/image.tar", "push.example.com:5000/alice:py1", "--image-refs=/dev/termination-log", "--insecure"},
		},
		{
			name: "the user's registry with a temporary Secret",
			mod: func(p *Plan) {
				p.Destination = "user.example.com/alice:py1"
				p.PushCredentials = credentials(t, []byte(`{}`))
			},
			wantSecret: JobName("alice", testPlan().ID) + "-a1b2c3",
			wantArgs:   []string{"push", "/output/image.tar", "user.example.com/alice:py1", "--image-refs=/dev/termination-log"},
		},
		{
			name: "the user's registry without a Secret of theirs: anonymous",
			mod: func(p *Plan) {
				p.Destination = "user.example.com/alice:py1"
				p.PushSecret = ""
			},
			wantArgs: []string{"push", "/output/image.tar", "user.example.com/alice:py1", "--image-refs=/dev/termination-log"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan()
			tt.mod(&p)
			_, _, push, vols := stepsOf(t, p)
			assert.Equal(t, tt.wantArgs, push.Args)
			assert.Equal(t, []corev1.EnvVar{{Name: "DOCKER_CONFIG", Value: "/docker"}}, push.Env)
			mounts := []corev1.VolumeMount{{Name: "output", MountPath: "/output", ReadOnly: true}}
			if tt.wantSecret == "" {
				assert.NotContains(t, vols, "push-config")
			} else {
				mounts = append(mounts, corev1.VolumeMount{Name: "push-config", MountPath: "/docker", ReadOnly: true})
				require.NotNil(t, vols["push-config"].Secret)
				assert.Equal(t, tt.wantSecret, vols["push-config"].Secret.SecretName)
			}
			assert.Equal(t, mounts, push.VolumeMounts)
		})
	}
}

func TestNewJobContextVolume(t *testing.T) {
	tests := []struct {
		name      string
		fileName  string
		file      []byte
		wantItems []corev1.KeyToPath
		wantSum   string
	}{
		{
			name:      "with a file",
			fileName:  "requirements.txt",
			file:      []byte("requests\n"),
			wantItems: []corev1.KeyToPath{{Key: "Dockerfile", Path: "Dockerfile"}, {Key: "requirements.txt", Path: "requirements.txt"}},
			wantSum:   func() string { s := sha256.Sum256([]byte("requests\n")); return hex.EncodeToString(s[:]) }(),
		},
		{
			name:      "without a file",
			wantItems: []corev1.KeyToPath{{Key: "Dockerfile", Path: "Dockerfile"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan()
			p.FileName, p.File = tt.fileName, tt.file
			job := NewJob(p)
			assert.Equal(t, tt.wantSum, job.Annotations[kube.AnnotationFileSHA256])
			_, build, _, vols := stepsOf(t, p)
			ctxVol := vols["context"].ConfigMap
			require.NotNil(t, ctxVol)
			assert.Equal(t, job.Name+"-a1b2c3", ctxVol.Name, "the context is named after the Job and this attempt")
			assert.Equal(t, tt.wantItems, ctxVol.Items)
			n := 0
			for _, m := range build.VolumeMounts {
				if m.Name == "context" {
					n++
					assert.Equal(t, "/workspace/"+m.SubPath, m.MountPath, "each context file is mounted on its own")
				}
			}
			assert.Equal(t, len(tt.wantItems), n)
		})
	}
}

func TestNewContext(t *testing.T) {
	tests := []struct {
		name     string
		fileName string
		file     []byte
		want     map[string]string
	}{
		{
			name:     "with a file",
			fileName: "requirements.txt",
			file:     []byte("requests==2.31.0\n"),
			want: map[string]string{
				"Dockerfile":       "FROM r.example.com/rt@" + testDigest + "\nCOPY requirements.txt /tmp/requirements.txt\nUSER root\nRUN /bin/extend\nUSER 1001\n",
				"requirements.txt": "requests==2.31.0\n",
			},
		},
		{
			name: "without a file",
			want: map[string]string{"Dockerfile": "FROM r.example.com/rt@" + testDigest + "\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan()
			p.FileName, p.File = tt.fileName, tt.file
			job := NewJob(p)
			job.UID = types.UID("0b9ad5a1-6f53-4b0c-9ad8-2c0f1d7e2a11")
			cm := NewContext(p, job)
			assert.Equal(t, job.Name+"-a1b2c3", cm.Name, "named apart from an earlier Job's leftovers")
			assert.Equal(t, job.Namespace, cm.Namespace)
			assert.Equal(t, p.Labels(), cm.Labels)
			assert.Equal(t, tt.want, cm.Data)
			assert.Empty(t, cm.BinaryData)
			require.Len(t, cm.OwnerReferences, 1)
			ref := cm.OwnerReferences[0]
			assert.Equal(t, "batch/v1", ref.APIVersion)
			assert.Equal(t, "Job", ref.Kind)
			assert.Equal(t, job.Name, ref.Name)
			assert.Equal(t, job.UID, ref.UID)
			require.NotNil(t, ref.Controller)
			assert.True(t, *ref.Controller)
			require.NotNil(t, ref.BlockOwnerDeletion)
			assert.True(t, *ref.BlockOwnerDeletion)
			assert.True(t, metav1.IsControlledBy(cm, job))
		})
	}
}

func TestNewJobDoesNotShareLabelsWithOtherObjects(t *testing.T) {
	p := testPlan()
	job := NewJob(p)
	cm := NewContext(p, job)
	cm.Labels["extra"] = "x"
	assert.NotContains(t, job.Labels, "extra")
	assert.NotContains(t, NewJob(p).Labels, "extra")
}

func credentials(t *testing.T, config []byte) *imagestore.Credentials {
	t.Helper()
	c, err := imagestore.ParseDockerConfig(config)
	require.NoError(t, err)
	return c
}

// The steps that hold a credential read /etc/hosts and /etc/resolv.conf
// from the context, read-only, and not the Pod's shared files that the
// build step, root, can rewrite; the build step keeps the Pod's own.
func TestCredentialStepsResolveNamesWithTheContextsFiles(t *testing.T) {
	kaniko := testPlan()
	layer := layerPlan()
	for _, p := range []Plan{kaniko, layer} {
		p.ResolvConf = []byte("nameserver 127.0.0.53\n")
		job := NewJob(p)
		pod := job.Spec.Template.Spec
		wantItems := []corev1.KeyToPath{{Key: "hosts", Path: "hosts"}, {Key: "resolv.conf", Path: "resolv.conf"}}
		for _, v := range pod.Volumes {
			if v.Name == "context" {
				assert.Subset(t, v.ConfigMap.Items, wantItems, p.Engine)
			}
		}
		data := NewContext(p, job).Data
		assert.Equal(t, "nameserver 127.0.0.53\n", data["resolv.conf"])
		assert.Contains(t, data["hosts"], "127.0.0.1\tlocalhost\n")
		for _, c := range append(pod.InitContainers, pod.Containers...) {
			mounted := map[string]corev1.VolumeMount{}
			for _, m := range c.VolumeMounts {
				mounted[m.MountPath] = m
			}
			if c.Name == StepBuild || c.Name == StepTools {
				assert.NotContains(t, mounted, "/etc/hosts", "%s %s", p.Engine, c.Name)
				assert.NotContains(t, mounted, "/etc/resolv.conf", "%s %s", p.Engine, c.Name)
				continue
			}
			assert.Equal(t, corev1.VolumeMount{Name: "context", MountPath: "/etc/hosts", SubPath: "hosts", ReadOnly: true}, mounted["/etc/hosts"], "%s %s", p.Engine, c.Name)
			assert.Equal(t, corev1.VolumeMount{Name: "context", MountPath: "/etc/resolv.conf", SubPath: "resolv.conf", ReadOnly: true}, mounted["/etc/resolv.conf"], "%s %s", p.Engine, c.Name)
		}
	}
}
