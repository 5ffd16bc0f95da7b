package build

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/fault"
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

// kubeError classifies an API server error: unreachable or overloaded is
// Unavailable, anything else Internal (the deployer's own rights or objects
// are wrong); the cause is kept for the log.
func kubeError(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch {
	case fault.As(err) != nil:
		return err
	case apierrors.IsServiceUnavailable(err), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err),
		apierrors.IsTooManyRequests(err), apierrors.IsInternalError(err), isConnection(err):
		return fault.Wrap(err, fault.Unavailable, "KubernetesUnavailable", "Kubernetes API is unavailable while %s", msg)
	default:
		return fault.Wrap(err, fault.Internal, "KubernetesError", "Kubernetes refused %s", msg)
	}
}

// isConnection reports an error that never reached the API server.
func isConnection(err error) bool {
	var status apierrors.APIStatus
	return !errors.As(err, &status)
}

// isConflict reports a failed precondition: the object changed (another
// caller replaced it) since it was read.
func isConflict(err error) bool { return apierrors.IsConflict(err) }
