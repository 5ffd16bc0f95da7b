package nodeagent

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// runPod takes one pod from Pending to its end, as the scheduler and the
// kubelet would; settled is false when it should be tried again later.
func (a *Agent) runPod(ctx context.Context, pod *v1.Pod, w *podWorker) (settled bool) {
	log := a.o.Log.WithField("pod", pod.Namespace+"/"+pod.Name)
	if pod.DeletionTimestamp != nil {
		a.terminate(ctx, pod, log)
		return true
	}
	if pod.Spec.NodeName == "" {
		bound, err := a.bind(ctx, pod)
		if err != nil {
			log.WithError(err).Warn("binding pod")
			return false
		}
		if !bound {
			return true
		}
		pod.Spec.NodeName = a.o.NodeName
		log.Info("pod bound")
	}
	if pod.Status.Phase == v1.PodRunning {
		a.lose(ctx, pod, log) // it ran under an earlier agent: nothing runs it now
		return true
	}
	if c, image := a.refusedImage(pod); c != nil {
		a.refuse(ctx, pod, c, image, log)
		select {
		case <-w.deleted:
			a.terminate(ctx, pod, log)
		case <-ctx.Done():
		}
		return true
	}
	c, err := runnable(pod)
	if err != nil {
		a.events.Event(containerRef(pod, &pod.Spec.Containers[0]), v1.EventTypeWarning, "Failed", "Error: "+err.Error())
		a.fail(ctx, pod, &pod.Spec.Containers[0], err.Error(), log)
		return true
	}
	select {
	case a.slots <- struct{}{}:
		defer func() { <-a.slots }()
	case <-w.deleted:
		a.terminate(ctx, pod, log)
		return true
	case <-ctx.Done():
		return true
	}
	a.run(ctx, pod, c, w, log)
	return true
}

// runnable returns the container of a pod this node can run: one container,
// no init containers.
func runnable(pod *v1.Pod) (*v1.Container, error) {
	if len(pod.Spec.Containers) != 1 || len(pod.Spec.InitContainers) > 0 {
		return nil, errors.New("this node runs pods of exactly one container and no init containers")
	}
	return &pod.Spec.Containers[0], nil
}

// fail ends a pod whose container could not start, as a runtime reports it:
// terminated with exit code 128 and reason StartError.
func (a *Agent) fail(ctx context.Context, pod *v1.Pod, c *v1.Container, msg string, log logrus.FieldLogger) {
	log.WithField("reason", msg).Warn("pod failed before its container started")
	now := metav1.Now()
	term := v1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: msg, StartedAt: now, FinishedAt: now}
	if err := a.updateStatus(ctx, pod, terminatedStatus(pod, c, term, now)); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
}

// containerRef is what the kubelet's container events refer to.
func containerRef(pod *v1.Pod, c *v1.Container) *v1.ObjectReference {
	return &v1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
		ResourceVersion: pod.ResourceVersion, FieldPath: fmt.Sprintf("spec.containers{%s}", c.Name),
	}
}
