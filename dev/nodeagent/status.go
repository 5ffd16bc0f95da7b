package nodeagent

import (
	"context"
	"fmt"
	"strings"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// hostIP is the node's address; pods share the host network, so it is
// their address too.
const hostIP = "127.0.0.1"

// statusChange edits a pod status in place; false leaves the pod as it is.
type statusChange func(st *v1.PodStatus) bool

// updateStatus applies change to the pod's current status and writes it
// through the status subresource, reading again on conflict. A pod that is
// gone, or was replaced by another of the same name, is left alone.
func (a *Agent) updateStatus(ctx context.Context, pod *v1.Pod, change statusChange) error {
	pods := a.o.Client.CoreV1().Pods(pod.Namespace)
	err := retry.OnError(retry.DefaultBackoff, retriable, func() error {
		cur, err := pods.Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.UID != pod.UID {
			return apierrors.NewNotFound(v1.Resource("pods"), pod.Name)
		}
		if !change(&cur.Status) {
			return nil
		}
		_, err = pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("updating status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// retriable reports errors worth another try.
func retriable(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsTooManyRequests(err) || apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err)
}

// terminal reports whether a pod phase is final.
func terminal(phase v1.PodPhase) bool {
	return phase == v1.PodSucceeded || phase == v1.PodFailed
}

// pendingStatus is the status of a pod whose containers wait, each with the
// reason and message waiting gives it (ContainerCreating when absent).
func pendingStatus(pod *v1.Pod, waiting map[string]v1.ContainerStateWaiting, now metav1.Time) statusChange {
	return func(st *v1.PodStatus) bool {
		if terminal(st.Phase) {
			return false
		}
		base(st, now)
		st.Phase = v1.PodPending
		notReady := "containers with unready status: [" + containerNames(pod) + "]"
		setCondition(st, v1.PodReadyToStartContainers, v1.ConditionTrue, "", "", now)
		setCondition(st, v1.PodInitialized, v1.ConditionTrue, "", "", now)
		setCondition(st, v1.PodReady, v1.ConditionFalse, "ContainersNotReady", notReady, now)
		setCondition(st, v1.ContainersReady, v1.ConditionFalse, "ContainersNotReady", notReady, now)
		st.ContainerStatuses = nil
		for _, c := range pod.Spec.Containers {
			w, ok := waiting[c.Name]
			if !ok {
				w = v1.ContainerStateWaiting{Reason: "ContainerCreating"}
			}
			st.ContainerStatuses = append(st.ContainerStatuses, v1.ContainerStatus{
				Name: c.Name, Image: c.Image, State: v1.ContainerState{Waiting: &w},
			})
		}
		return true
	}
}

// runningStatus is the status of a pod whose container c started at startedAt.
func runningStatus(pod *v1.Pod, c *v1.Container, containerID string, startedAt, now metav1.Time) statusChange {
	return func(st *v1.PodStatus) bool {
		if terminal(st.Phase) {
			return false
		}
		base(st, now)
		st.Phase = v1.PodRunning
		setCondition(st, v1.PodReadyToStartContainers, v1.ConditionTrue, "", "", now)
		setCondition(st, v1.PodInitialized, v1.ConditionTrue, "", "", now)
		setCondition(st, v1.PodReady, v1.ConditionTrue, "", "", now)
		setCondition(st, v1.ContainersReady, v1.ConditionTrue, "", "", now)
		started := true
		st.ContainerStatuses = []v1.ContainerStatus{{
			Name: c.Name, Image: c.Image, ImageID: c.Image, ContainerID: containerID,
			Ready: true, Started: &started,
			State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: startedAt}},
		}}
		return true
	}
}

// terminatedStatus is the final status of a pod whose container c ended as
// term: Succeeded on exit code 0, else Failed.
func terminatedStatus(pod *v1.Pod, c *v1.Container, term v1.ContainerStateTerminated, now metav1.Time) statusChange {
	return func(st *v1.PodStatus) bool {
		if terminal(st.Phase) {
			return false
		}
		base(st, now)
		st.Phase = v1.PodFailed
		if term.ExitCode == 0 {
			st.Phase = v1.PodSucceeded
		}
		setCondition(st, v1.PodReadyToStartContainers, v1.ConditionFalse, "", "", now)
		setCondition(st, v1.PodInitialized, v1.ConditionTrue, "PodCompleted", "", now)
		setCondition(st, v1.PodReady, v1.ConditionFalse, "PodCompleted", "", now)
		setCondition(st, v1.ContainersReady, v1.ConditionFalse, "PodCompleted", "", now)
		started := false
		imageID := ""
		if term.ContainerID != "" {
			imageID = c.Image
		}
		st.ContainerStatuses = []v1.ContainerStatus{{
			Name: c.Name, Image: c.Image, ImageID: imageID, ContainerID: term.ContainerID,
			Started: &started, State: v1.ContainerState{Terminated: &term},
		}}
		return true
	}
}

// base sets what every status of a pod on this node has.
func base(st *v1.PodStatus, now metav1.Time) {
	st.HostIP = hostIP
	st.HostIPs = []v1.HostIP{{IP: hostIP}}
	st.PodIP = hostIP
	st.PodIPs = []v1.PodIP{{IP: hostIP}}
	if st.StartTime == nil {
		st.StartTime = &now
	}
}

// setCondition sets a pod condition, moving its transition time only when
// its status changes.
func setCondition(st *v1.PodStatus, t v1.PodConditionType, status v1.ConditionStatus, reason, message string, now metav1.Time) {
	for i := range st.Conditions {
		c := &st.Conditions[i]
		if c.Type != t {
			continue
		}
		if c.Status != status {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message = status, reason, message
		return
	}
	st.Conditions = append(st.Conditions, v1.PodCondition{
		Type: t, Status: status, Reason: reason, Message: message, LastTransitionTime: now,
	})
}

func containerNames(pod *v1.Pod) string {
	names := make([]string, 0, len(pod.Spec.Containers))
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	return strings.Join(names, " ")
}
