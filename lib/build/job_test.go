package build

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
		Secret:             "push-secret",
		InsecureRegistries: []string{"push.example.com:5000", "pull.example.com"},
		KanikoImage:        "kaniko.example.com/executor:v9",
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
		"app.kubernetes.io/component":        "runtime-builder",
		"openserverless.apache.org/user":     "alice",
		"openserverless.apache.org/build-id": p.ID[:32],
		"openserverless.apache.org/kind":     "python",
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
	assert.Empty(t, pod.InitContainers)
	assert.Empty(t, pod.ServiceAccountName, "the build runs with no chosen service account")
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, "kaniko.example.com/executor:v9", c.Image)
	assert.Empty(t, c.Command, "the image's own entrypoint runs, with no shell")
	assert.Equal(t, "/dev/termination-log", c.TerminationMessagePath)
	assert.Equal(t, corev1.TerminationMessageReadFile, c.TerminationMessagePolicy)
	assert.Equal(t, corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi")},
	}, c.Resources)
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
			assert.Equal(t, tt.want, NewJob(p).Spec.Template.Spec.Containers[0].Resources)
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

func TestKanikoArgs(t *testing.T) {
	tests := []struct {
		name     string
		insecure []string
		cache    bool
		want     []string
	}{
		{
			name:  "layer cache in the user's repository",
			cache: true,
			want: []string{
				"--dockerfile=/workspace/Dockerfile",
				"--context=dir:///workspace",
				"--destination=push.example.com:5000/alice:py1",
				"--digest-file=/dev/termination-log",
				"--push-retry=3",
				"--image-download-retry=3",
				"--snapshot-mode=redo",
				"--label=org.opencontainers.image.base.name=r.example.com/rt:v3.13",
				"--label=org.opencontainers.image.base.digest=" + testDigest,
				"--cache=true",
				"--cache-repo=push.example.com:5000/alice/cache",
			},
		},
		{
			name:     "two insecure registries",
			insecure: []string{"push.example.com:5000", "pull.example.com"},
			want: []string{
				"--dockerfile=/workspace/Dockerfile",
				"--context=dir:///workspace",
				"--destination=push.example.com:5000/alice:py1",
				"--digest-file=/dev/termination-log",
				"--push-retry=3",
				"--image-download-retry=3",
				"--snapshot-mode=redo",
				"--label=org.opencontainers.image.base.name=r.example.com/rt:v3.13",
				"--label=org.opencontainers.image.base.digest=" + testDigest,
				"--insecure-registry=push.example.com:5000",
				"--insecure-registry=pull.example.com",
			},
		},
		{
			name: "no insecure registry",
			want: []string{
				"--dockerfile=/workspace/Dockerfile",
				"--context=dir:///workspace",
				"--destination=push.example.com:5000/alice:py1",
				"--digest-file=/dev/termination-log",
				"--push-retry=3",
				"--image-download-retry=3",
				"--snapshot-mode=redo",
				"--label=org.opencontainers.image.base.name=r.example.com/rt:v3.13",
				"--label=org.opencontainers.image.base.digest=" + testDigest,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan()
			p.InsecureRegistries = tt.insecure
			p.Cache = tt.cache
			assert.Equal(t, tt.want, KanikoArgs(p))
			assert.Equal(t, tt.want, NewJob(p).Spec.Template.Spec.Containers[0].Args)
		})
	}
}

func TestNewJobMounts(t *testing.T) {
	tests := []struct {
		name       string
		fileName   string
		file       []byte
		wantMounts []corev1.VolumeMount
		wantItems  []corev1.KeyToPath
		wantSum    string
	}{
		{
			name:     "with a file",
			fileName: "requirements.txt",
			file:     []byte("requests\n"),
			wantMounts: []corev1.VolumeMount{
				{Name: "context", MountPath: "/workspace/Dockerfile", SubPath: "Dockerfile", ReadOnly: true},
				{Name: "docker-config", MountPath: "/kaniko/.docker/config.json", SubPath: "config.json", ReadOnly: true},
				{Name: "context", MountPath: "/workspace/requirements.txt", SubPath: "requirements.txt", ReadOnly: true},
			},
			wantItems: []corev1.KeyToPath{{Key: "Dockerfile", Path: "Dockerfile"}, {Key: "requirements.txt", Path: "requirements.txt"}},
			wantSum:   func() string { s := sha256.Sum256([]byte("requests\n")); return hex.EncodeToString(s[:]) }(),
		},
		{
			name: "without a file",
			wantMounts: []corev1.VolumeMount{
				{Name: "context", MountPath: "/workspace/Dockerfile", SubPath: "Dockerfile", ReadOnly: true},
				{Name: "docker-config", MountPath: "/kaniko/.docker/config.json", SubPath: "config.json", ReadOnly: true},
			},
			wantItems: []corev1.KeyToPath{{Key: "Dockerfile", Path: "Dockerfile"}},
			wantSum:   "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPlan()
			p.FileName, p.File = tt.fileName, tt.file
			job := NewJob(p)
			pod := job.Spec.Template.Spec
			assert.Equal(t, tt.wantMounts, pod.Containers[0].VolumeMounts)
			assert.Equal(t, tt.wantSum, job.Annotations[AnnotationFileSHA256])
			require.Len(t, pod.Volumes, 2)
			byName := map[string]corev1.Volume{}
			for _, v := range pod.Volumes {
				byName[v.Name] = v
			}
			// Every mount names a volume of the Pod.
			for _, m := range pod.Containers[0].VolumeMounts {
				assert.Contains(t, byName, m.Name)
			}
			ctxVol := byName["context"].ConfigMap
			require.NotNil(t, ctxVol)
			assert.Equal(t, job.Name, ctxVol.Name, "the context ConfigMap has the Job's name")
			assert.Equal(t, tt.wantItems, ctxVol.Items)
			secret := byName["docker-config"].Secret
			require.NotNil(t, secret)
			assert.Equal(t, "push-secret", secret.SecretName)
			assert.Equal(t, []corev1.KeyToPath{{Key: ".dockerconfigjson", Path: "config.json"}}, secret.Items)
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
			assert.Equal(t, job.Name, cm.Name)
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
