package runtimebuild

import (
	"errors"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NewSecret returns the temporary registry Secret of a plan that carries its
// own credentials (REGISTRY_SECRET "user:password"), nil for a plan that
// mounts an existing Secret. It is named after the Job and this attempt, and
// owned by the Job, so the garbage collector removes it with the Job, as it
// does the context.
func NewSecret(p Plan, job *batchv1.Job) *corev1.Secret {
	if p.credentials == nil {
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
		Data: map[string][]byte{corev1.DockerConfigJsonKey: p.credentials.JSON()},
	}
}

// withheld is err without the API server's message, which for a Secret
// could quote what was sent; its status, reason and code, which classify
// it, are kept.
func withheld(err error) error {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return err // a transport error: nothing of the request is in it
	}
	st := status.Status()
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  st.Status,
		Code:    st.Code,
		Reason:  st.Reason,
		Message: "the API server's message is withheld: it may quote registry credentials",
	}}
}
