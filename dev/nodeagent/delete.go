package nodeagent

import (
	"context"

	"github.com/sirupsen/logrus"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// terminate ends a pod being deleted whose container is not running, as the
// kubelet does: Failed, then the final delete.
func (a *Agent) terminate(ctx context.Context, pod *v1.Pod, log logrus.FieldLogger) {
	a.lose(ctx, pod, log)
	a.forceDelete(ctx, pod, log)
}

// lose fails a pod whose container this node does not run (it never started,
// or ran under an earlier agent), in the state the kubelet gives a container
// it cannot find.
func (a *Agent) lose(ctx context.Context, pod *v1.Pod, log logrus.FieldLogger) {
	c := firstContainer(pod)
	if c == nil {
		return
	}
	now := metav1.Now()
	term := v1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown",
		Message: "The container could not be located when the pod was terminated", StartedAt: now, FinishedAt: now}
	if err := a.updateStatus(ctx, pod, terminatedStatus(pod, c, term, now)); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
}

// forceDelete makes the final delete of a pod being deleted, with no grace
// period and for this pod only (its UID), as the kubelet does once its
// containers are stopped: until then a bound pod never goes away.
func (a *Agent) forceDelete(ctx context.Context, pod *v1.Pod, log logrus.FieldLogger) {
	zero := int64(0)
	uid := pod.UID
	err := a.o.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		log.WithError(err).Warn("deleting pod")
		return
	}
	log.Info("pod deleted")
}

func firstContainer(pod *v1.Pod) *v1.Container {
	if len(pod.Spec.Containers) == 0 {
		return nil
	}
	return &pod.Spec.Containers[0]
}
