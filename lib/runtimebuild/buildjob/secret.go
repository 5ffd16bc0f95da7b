package buildjob

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NewSecret returns the temporary registry Secret of a plan that carries its
// own credentials (REGISTRY_SECRET "user:password"), nil for a plan that
// mounts an existing Secret. It is named after the Job and this attempt, and
// owned by the Job, so the garbage collector removes it with the Job, as it
// does the context.
func NewSecret(p Plan, job *batchv1.Job) *corev1.Secret {
	if p.PushCredentials == nil {
		return nil
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:            p.objectName(),
			Namespace:       p.Namespace,
			Labels:          p.Labels(),
			OwnerReferences: []metav1.OwnerReference{ownedBy(job)},
		},
		Type: corev1.SecretTypeDockerConfigJson,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: p.PushCredentials.JSON()},
	}
}
