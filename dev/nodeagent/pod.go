package nodeagent

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
	if startedBefore(pod) {
		a.lose(ctx, pod, log) // it ran under an earlier agent: nothing runs it now
		return true
	}
	if err := runnable(pod); err != nil {
		// None of its containers can start: each ends with StartError.
		cs := newContainerStates(pod)
		for _, c := range steps(pod) {
			a.events.Event(containerRef(pod, c), v1.EventTypeWarning, "Failed", "Error: "+err.Error())
			now := metav1.Now()
			cs.terminated(c.Name, v1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: err.Error(), StartedAt: now, FinishedAt: now})
		}
		log.WithError(err).Warn("pod failed before its containers started")
		a.writeStatus(ctx, pod, cs, log)
		return true
	}
	// A pod whose first image is refused waits without taking a slot.
	if _, ok := a.o.Images[steps(pod)[0].Image]; !ok {
		a.runSteps(ctx, pod, w, func() {}, log)
		return true
	}
	select {
	case a.slots <- struct{}{}:
	case <-w.deleted:
		a.terminate(ctx, pod, log)
		return true
	case <-ctx.Done():
		return true
	}
	var once sync.Once
	release := func() { once.Do(func() { <-a.slots }) }
	defer release()
	a.runSteps(ctx, pod, w, release, log)
	return true
}

// startedBefore reports whether a container of the pod ran already, under
// an earlier agent.
func startedBefore(pod *v1.Pod) bool {
	if pod.Status.Phase == v1.PodRunning {
		return true
	}
	for _, list := range [][]v1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, s := range list {
			if s.State.Running != nil || s.State.Terminated != nil {
				return true
			}
		}
	}
	return false
}

// runnable checks that this node can run the pod: init containers run one
// after the other, then exactly one container. Sidecars (restartable init
// containers) and containers running side by side are not supported.
func runnable(pod *v1.Pod) error {
	if len(pod.Spec.Containers) != 1 {
		return errors.New("this node runs pods of exactly one container, after any init containers")
	}
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil {
			return fmt.Errorf("init container %q: restartable init containers are not supported on this node", c.Name)
		}
	}
	return nil
}

// steps are the pod's containers in the order they run: the init
// containers, then the container.
func steps(pod *v1.Pod) []*v1.Container {
	out := make([]*v1.Container, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for i := range pod.Spec.InitContainers {
		out = append(out, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

// fail ends a pod whose container c could not start, as a runtime reports
// it: terminated with exit code 128 and reason StartError.
func (a *Agent) fail(ctx context.Context, pod *v1.Pod, cs *containerStates, c *v1.Container, msg string, log logrus.FieldLogger) {
	log.WithFields(logrus.Fields{"container": c.Name, "reason": msg}).Warn("pod failed before its container started")
	now := metav1.Now()
	cs.terminated(c.Name, v1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: msg, StartedAt: now, FinishedAt: now})
	a.writeStatus(ctx, pod, cs, log)
}

// writeStatus writes the pod's container states and what they imply.
func (a *Agent) writeStatus(ctx context.Context, pod *v1.Pod, cs *containerStates, log logrus.FieldLogger) {
	if err := a.updateStatus(ctx, pod, cs.change(metav1.Now())); err != nil {
		log.WithError(err).Warn("writing pod status")
	}
}

// containerRef is what the kubelet's events about container c refer to.
func containerRef(pod *v1.Pod, c *v1.Container) *v1.ObjectReference {
	field := fmt.Sprintf("spec.containers{%s}", c.Name)
	for _, ic := range pod.Spec.InitContainers {
		if ic.Name == c.Name {
			field = fmt.Sprintf("spec.initContainers{%s}", c.Name)
		}
	}
	return &v1.ObjectReference{
		Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
		ResourceVersion: pod.ResourceVersion, FieldPath: field,
	}
}
