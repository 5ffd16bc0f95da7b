package nodeagent

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// bind assigns the pod to this node through the binding subresource, as the
// scheduler does; false when the pod is gone or bound elsewhere.
func (a *Agent) bind(ctx context.Context, pod *v1.Pod) (bool, error) {
	pods := a.o.Client.CoreV1().Pods(pod.Namespace)
	binding := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     v1.ObjectReference{Kind: "Node", Name: a.o.NodeName},
	}
	// A conflict is no transient failure here: the pod is bound already.
	transient := func(err error) bool { return retriable(err) && !apierrors.IsConflict(err) }
	err := retry.OnError(retry.DefaultBackoff, transient, func() error {
		return pods.Bind(ctx, binding, metav1.CreateOptions{})
	})
	switch {
	case err == nil:
		a.scheduler.Eventf(pod, v1.EventTypeNormal, "Scheduled", "Successfully assigned %s/%s to %s",
			pod.Namespace, pod.Name, a.o.NodeName)
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	case apierrors.IsConflict(err):
		cur, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading pod after a binding conflict: %w", err)
		}
		return cur.UID == pod.UID && cur.Spec.NodeName == a.o.NodeName, nil
	default:
		return false, fmt.Errorf("binding pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
}
