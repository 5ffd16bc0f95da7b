package build

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// objectClient is what createOwned needs of a typed client (ConfigMaps,
// Secrets of a namespace).
type objectClient[T metav1.Object] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// createOwned creates obj, owned by job. A retried build deletes its old Job
// and creates a new one of the same name at once, while the garbage
// collector removes the old Job's objects some time later: an object of the
// same name owned by another Job of that name is such a leftover, so it is
// deleted (only that one, by UID) and obj created again. Any other object
// of the name is a conflict the caller reports.
func createOwned[T metav1.Object](ctx context.Context, c objectClient[T], obj T, job *batchv1.Job) error {
	_, err := c.Create(ctx, obj, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	old, getErr := c.Get(ctx, obj.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(getErr):
		// Removed in between.
	case getErr != nil:
		return getErr
	case !leftOverBy(old, job):
		return err
	default:
		uid := old.GetUID()
		bg := metav1.DeletePropagationBackground
		delErr := c.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &uid}})
		if delErr != nil && !apierrors.IsNotFound(delErr) {
			return delErr
		}
	}
	_, err = c.Create(ctx, obj, metav1.CreateOptions{})
	return err
}

// leftOverBy reports whether obj belongs to an earlier Job of job's name.
func leftOverBy(obj metav1.Object, job *batchv1.Job) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	return ref != nil && ref.Kind == "Job" && ref.Name == job.Name && ref.UID != job.UID
}
