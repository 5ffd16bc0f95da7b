package build

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Paths inside the build container.
const (
	workspace        = "/workspace"
	dockerConfigPath = "/kaniko/.docker/config.json"
	terminationLog   = "/dev/termination-log"
	dockerfileKey    = "Dockerfile"
	containerName    = "kaniko"
)

// Labels returns the labels of a plan's Job, its Pod and its ConfigMap.
func (p Plan) Labels() map[string]string {
	return map[string]string{
		LabelComponent: Component,
		LabelUser:      p.User,
		LabelBuildID:   labelID(p.ID),
		LabelKind:      p.Kind,
	}
}

// NewJob returns the Kaniko Job of a plan. It runs once (backoffLimit 0,
// restartPolicy Never) within the deadline, with no service account token,
// and sees its context and the registry credentials as regular files:
// ConfigMap and Secret volumes are folders of symlinks into "..data/", so
// each file is mounted on its own with subPath, which kubelet resolves to
// the file itself.
func NewJob(p Plan) *batchv1.Job {
	fileSum := ""
	if p.File != nil {
		sum := sha256.Sum256(p.File)
		fileSum = hex.EncodeToString(sum[:])
	}
	mounts := []corev1.VolumeMount{
		{Name: "context", MountPath: path.Join(workspace, dockerfileKey), SubPath: dockerfileKey, ReadOnly: true},
		{Name: "docker-config", MountPath: dockerConfigPath, SubPath: "config.json", ReadOnly: true},
	}
	items := []corev1.KeyToPath{{Key: dockerfileKey, Path: dockerfileKey}}
	if p.FileName != "" {
		mounts = append(mounts, corev1.VolumeMount{Name: "context", MountPath: path.Join(workspace, p.FileName), SubPath: p.FileName, ReadOnly: true})
		items = append(items, corev1.KeyToPath{Key: p.FileName, Path: p.FileName})
	}
	labels := p.Labels()
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:      p.JobName(),
			Namespace: p.Namespace,
			Labels:    labels,
			Annotations: map[string]string{
				AnnotationImage:      p.Image,
				AnnotationSource:     p.Pinned,
				AnnotationFileSHA256: fileSum,
				AnnotationBuildID:    p.ID,
			},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr(int32(0)),
			ActiveDeadlineSeconds:   ptr(int64(p.Deadline.Seconds())),
			TTLSecondsAfterFinished: ptr(int32(p.TTL.Seconds())),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy:                corev1.RestartPolicyNever,
					AutomountServiceAccountToken: ptr(false),
					EnableServiceLinks:           ptr(false),
					Containers: []corev1.Container{{
						Name:                     containerName,
						Image:                    p.KanikoImage,
						Args:                     KanikoArgs(p),
						VolumeMounts:             mounts,
						Resources:                resources(p),
						TerminationMessagePath:   terminationLog,
						TerminationMessagePolicy: corev1.TerminationMessageReadFile,
					}},
					Volumes: []corev1.Volume{
						{Name: "context", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: p.JobName()},
							Items:                items,
						}}},
						{Name: "docker-config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
							SecretName: p.pushSecret(),
							Items:      []corev1.KeyToPath{{Key: corev1.DockerConfigJsonKey, Path: "config.json"}},
						}}},
					},
				},
			},
		},
	}
}

// KanikoArgs returns the executor's arguments, an argv list that no shell
// ever reads. The digest of the pushed image goes to the termination log,
// where the Pod status carries it back.
func KanikoArgs(p Plan) []string {
	args := []string{
		"--dockerfile=" + path.Join(workspace, dockerfileKey),
		"--context=dir://" + workspace,
		"--destination=" + p.Destination,
		"--digest-file=" + terminationLog,
		"--push-retry=3",
		"--image-download-retry=3",
		"--snapshot-mode=redo",
		"--label=org.opencontainers.image.base.name=" + p.Source,
		"--label=org.opencontainers.image.base.digest=" + p.BaseDigest,
	}
	if p.Cache {
		args = append(args, "--cache=true", "--cache-repo="+cacheRepo(p.Destination))
	}
	for _, h := range p.InsecureRegistries {
		args = append(args, "--insecure-registry="+h)
	}
	return args
}

// cacheRepo is where a build keeps its cached layers: under the user's own
// repository, so no user's layers are offered to another's build.
func cacheRepo(destination string) string {
	repo := destination
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	return repo + "/cache"
}

// NewContext returns the build context ConfigMap of a plan, owned by its Job
// so the garbage collector removes it with the Job.
func NewContext(p Plan, job *batchv1.Job) *corev1.ConfigMap {
	data := map[string]string{dockerfileKey: Dockerfile(p.Pinned, p.FileName, p.BaseUser)}
	if p.FileName != "" {
		data[p.FileName] = string(p.File)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:            p.JobName(),
			Namespace:       p.Namespace,
			Labels:          p.Labels(),
			OwnerReferences: []metav1.OwnerReference{ownedBy(job)},
		},
		Data: data,
	}
}

// ownedBy is the owner reference that ties an object to its Job.
func ownedBy(job *batchv1.Job) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         batchv1.SchemeGroupVersion.String(),
		Kind:               "Job",
		Name:               job.Name,
		UID:                job.UID,
		Controller:         ptr(true),
		BlockOwnerDeletion: ptr(true),
	}
}

func resources(p Plan) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	set := func(l corev1.ResourceList, name corev1.ResourceName, q string) {
		if q != "" {
			l[name] = resource.MustParse(q)
		}
	}
	set(r.Requests, corev1.ResourceCPU, p.Resources.RequestCPU)
	set(r.Requests, corev1.ResourceMemory, p.Resources.RequestMemory)
	set(r.Limits, corev1.ResourceCPU, p.Resources.LimitCPU)
	set(r.Limits, corev1.ResourceMemory, p.Resources.LimitMemory)
	return r
}

func ptr[T any](v T) *T { return &v }
