package runtimebuild

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// deleteJob deletes a Job and, through background propagation, its Pods and
// every object it owns (context ConfigMap, temporary Secret). A plain delete
// would orphan the Pods. NotFound is success.
func deleteJob(ctx context.Context, client kubernetes.Interface, job *batchv1.Job) error {
	bg := metav1.DeletePropagationBackground
	err := client.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: &bg,
		Preconditions:     &metav1.Preconditions{UID: &job.UID},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting build job %s: %w", job.Name, err)
	}
	return nil
}

// isConflict reports a failed precondition: the object changed (another
// caller replaced it) since it was read.
func isConflict(err error) bool { return apierrors.IsConflict(err) }
