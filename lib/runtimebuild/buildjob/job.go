package buildjob

import (
	"crypto/sha256"
	"encoding/hex"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/kube"
)

// Labels returns the labels of a plan's Job, its Pod and the objects it owns.
func (p Plan) Labels() map[string]string {
	return map[string]string{
		kube.LabelComponent:         kube.Component,
		kube.LabelUpstreamComponent: kube.Component,
		kube.LabelUser:              p.User,
		kube.LabelBuildID:           LabelID(p.ID),
		kube.LabelKind:              p.Kind,
	}
}

// NewJob returns the build Job of a plan. It runs once (backoffLimit 0,
// restartPolicy Never) within the deadline, with no service account token,
// in three steps (steps.go): fetch the base with the platform's
// credentials, build it with the user's code and no credential at all, push
// the result with the push credentials. Init containers run one after the
// other, each with only its own mounts, so the Secret volumes are never
// mounted where the Dockerfile's RUN executes. The node pulls the steps'
// images with the platform's pull Secret (imagePullSecrets: the kubelet
// reads it, no container sees it). With UserNamespace the Pod has a user
// namespace of its own: root in a step, Kaniko's RUN included, is an
// unprivileged user on the node; no step asks for privilege or an added
// capability. The layer engine's steps (layer.go) keep every one of
// these rules.
func NewJob(p Plan) *batchv1.Job {
	fileSum := ""
	if p.File != nil {
		sum := sha256.Sum256(p.File)
		fileSum = hex.EncodeToString(sum[:])
	}
	labels := p.Labels()
	init, main := []corev1.Container{fetchStep(p), buildStep(p)}, []corev1.Container{pushStep(p)}
	if p.layerEngine() {
		init, main = layerSteps(p)
	}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:      p.JobName(),
			Namespace: p.Namespace,
			Labels:    labels,
			Annotations: map[string]string{
				kube.AnnotationImage:      p.Image,
				kube.AnnotationSource:     p.Pinned,
				kube.AnnotationFileSHA256: fileSum,
				kube.AnnotationBuildID:    p.ID,
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
					HostUsers:                    ptr(!p.UserNamespace),
					ImagePullSecrets:             []corev1.LocalObjectReference{{Name: p.PullSecret}},
					InitContainers:               init,
					Containers:                   main,
					Volumes:                      volumes(p),
				},
			},
		},
	}
}

// NewContext returns the build context ConfigMap of a plan, owned by its Job
// so the garbage collector removes it with the Job.
func NewContext(p Plan, job *batchv1.Job) *corev1.ConfigMap {
	data := map[string]string{dockerfileKey: Dockerfile(p.Pinned, p.FileName, p.BaseUser)}
	if p.FileName != "" {
		data[p.FileName] = string(p.File)
	}
	if len(p.ResolvConf) > 0 {
		data[hostsKey], data[resolvConfKey] = hostsFile, string(p.ResolvConf)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:            p.objectName(),
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

// resources are every step's requests and limits. An ephemeral storage
// limit without a request asks for none: the API server would otherwise
// make the request the whole limit, and a node would have to set that much
// disk aside for each build it runs.
func resources(p Plan) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	set := func(l corev1.ResourceList, name corev1.ResourceName, q string) {
		if q != "" {
			l[name] = resource.MustParse(q)
		}
	}
	res := p.Resources
	if res.LimitEphemeralStorage != "" && res.RequestEphemeralStorage == "" {
		res.RequestEphemeralStorage = "0"
	}
	set(r.Requests, corev1.ResourceCPU, res.RequestCPU)
	set(r.Requests, corev1.ResourceMemory, res.RequestMemory)
	set(r.Requests, corev1.ResourceEphemeralStorage, res.RequestEphemeralStorage)
	set(r.Limits, corev1.ResourceCPU, res.LimitCPU)
	set(r.Limits, corev1.ResourceMemory, res.LimitMemory)
	set(r.Limits, corev1.ResourceEphemeralStorage, res.LimitEphemeralStorage)
	return r
}

func ptr[T any](v T) *T { return &v }
