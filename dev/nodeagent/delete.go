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

// lose fails a pod whose containers this node does not run (they never
// started, or ran under an earlier agent): every container that has not
// ended gets the state the kubelet gives a container it cannot find.
func (a *Agent) lose(ctx context.Context, pod *v1.Pod, log logrus.FieldLogger) {
	now := metav1.Now()
	lost := v1.ContainerStateTerminated{ExitCode: 137, Reason: "ContainerStatusUnknown",
		Message: "The container could not be located when the pod was terminated", StartedAt: now, FinishedAt: now}
	change := func(st *v1.PodStatus) bool {
		if terminal(st.Phase) {
			return false
		}
		st.InitContainerStatuses = lostStatuses(pod.Spec.InitContainers, st.InitContainerStatuses, lost)
		st.ContainerStatuses = lostStatuses(pod.Spec.Containers, st.ContainerStatuses, lost)
		derive(&pod.Spec, st, now)
		return true
	}
	if err := a.updateStatus(ctx, pod, change); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
}

// lostStatuses keeps the statuses of containers that ended and gives every
// other container the terminated state lost.
func lostStatuses(containers []v1.Container, cur []v1.ContainerStatus, lost v1.ContainerStateTerminated) []v1.ContainerStatus {
	out := make([]v1.ContainerStatus, 0, len(containers))
	for _, c := range containers {
		if s := findStatus(cur, c.Name); s != nil && s.State.Terminated != nil {
			out = append(out, *s.DeepCopy())
			continue
		}
		started := false
		term := lost
		out = append(out, v1.ContainerStatus{Name: c.Name, Image: c.Image, Started: &started,
			State: v1.ContainerState{Terminated: &term}})
	}
	return out
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
