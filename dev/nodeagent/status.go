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

// containerStates is what this node knows of the containers of a pod it
// runs: a status for each init container and each container, in the order
// of the spec. change writes them with the phase and conditions they imply.
type containerStates struct {
	spec *v1.PodSpec
	init []v1.ContainerStatus
	main []v1.ContainerStatus
}

// newContainerStates has every container waiting, with the reason the
// kubelet gives a container not created yet: PodInitializing in a pod with
// init containers, else ContainerCreating.
func newContainerStates(pod *v1.Pod) *containerStates {
	reason := "ContainerCreating"
	if len(pod.Spec.InitContainers) > 0 {
		reason = "PodInitializing"
	}
	cs := &containerStates{spec: &pod.Spec}
	for _, c := range pod.Spec.InitContainers {
		cs.init = append(cs.init, waitingStatus(c, reason, ""))
	}
	for _, c := range pod.Spec.Containers {
		cs.main = append(cs.main, waitingStatus(c, reason, ""))
	}
	return cs
}

func waitingStatus(c v1.Container, reason, message string) v1.ContainerStatus {
	started := false
	return v1.ContainerStatus{Name: c.Name, Image: c.Image, Started: &started,
		State: v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: reason, Message: message}}}
}

// get returns the status of the named container.
func (cs *containerStates) get(name string) *v1.ContainerStatus {
	for _, list := range [][]v1.ContainerStatus{cs.init, cs.main} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// isInit reports whether the named container is an init container.
func (cs *containerStates) isInit(name string) bool {
	for _, s := range cs.init {
		if s.Name == name {
			return true
		}
	}
	return false
}

// waiting has the named container wait, for reason.
func (cs *containerStates) waiting(name, reason, message string) {
	s := cs.get(name)
	s.State = v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: reason, Message: message}}
}

// running has the named container run since startedAt. With no probes, a
// container is started and ready once it runs; an init container is
// started but not ready.
func (cs *containerStates) running(name, containerID string, startedAt metav1.Time) {
	s := cs.get(name)
	started := true
	s.ContainerID, s.ImageID = containerID, s.Image
	s.Started, s.Ready = &started, !cs.isInit(name)
	s.State = v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: startedAt}}
}

// terminated has the named container ended as term; an init container that
// completed is ready, as the kubelet reports it.
func (cs *containerStates) terminated(name string, term v1.ContainerStateTerminated) {
	s := cs.get(name)
	started := false
	s.ContainerID = term.ContainerID
	if term.ContainerID != "" {
		s.ImageID = s.Image
	}
	s.Started = &started
	s.Ready = cs.isInit(name) && term.ExitCode == 0
	s.State = v1.ContainerState{Terminated: &term}
}

// change writes the container statuses, and the phase and conditions they
// imply; a pod already final is left as it is.
func (cs *containerStates) change(now metav1.Time) statusChange {
	init := copyStatuses(cs.init)
	main := copyStatuses(cs.main)
	return func(st *v1.PodStatus) bool {
		if terminal(st.Phase) {
			return false
		}
		st.InitContainerStatuses, st.ContainerStatuses = init, main
		derive(cs.spec, st, now)
		return true
	}
}

func copyStatuses(in []v1.ContainerStatus) []v1.ContainerStatus {
	out := make([]v1.ContainerStatus, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}

// derive sets the pod's phase and conditions from its container statuses,
// as the kubelet does for a pod that restarts nothing and has no probes.
func derive(spec *v1.PodSpec, st *v1.PodStatus, now metav1.Time) {
	base(st, now)
	st.Phase = phase(spec, st)
	sandboxReady := v1.ConditionTrue
	if terminal(st.Phase) { // the kubelet removes a finished pod's sandbox
		sandboxReady = v1.ConditionFalse
	}
	setCondition(st, v1.PodReadyToStartContainers, sandboxReady, "", "", now)
	status, reason, msg := initialized(spec, st)
	setCondition(st, v1.PodInitialized, status, reason, msg, now)
	status, reason, msg = containersReady(spec, st)
	setCondition(st, v1.ContainersReady, status, reason, msg, now)
	setCondition(st, v1.PodReady, status, reason, msg, now)
}

// phase is the pod phase its container statuses imply: Failed as soon as an
// init container failed, Pending while init containers have not all
// completed or a container waits, Running while one runs, then Succeeded
// when every container exited 0, else Failed.
func phase(spec *v1.PodSpec, st *v1.PodStatus) v1.PodPhase {
	pendingInit := false
	for _, c := range spec.InitContainers {
		s := findStatus(st.InitContainerStatuses, c.Name)
		switch {
		case s == nil || s.State.Terminated == nil:
			pendingInit = true
		case s.State.Terminated.ExitCode != 0:
			return v1.PodFailed
		}
	}
	if pendingInit {
		return v1.PodPending
	}
	waiting, running, failed := 0, 0, 0
	for _, c := range spec.Containers {
		s := findStatus(st.ContainerStatuses, c.Name)
		switch {
		case s == nil || s.State.Waiting != nil:
			waiting++
		case s.State.Running != nil:
			running++
		case s.State.Terminated != nil && s.State.Terminated.ExitCode != 0:
			failed++
		}
	}
	switch {
	case waiting > 0:
		return v1.PodPending
	case running > 0:
		return v1.PodRunning
	case failed > 0:
		return v1.PodFailed
	}
	return v1.PodSucceeded
}

// initialized is the Initialized condition, with the kubelet's reasons and
// messages.
func initialized(spec *v1.PodSpec, st *v1.PodStatus) (v1.ConditionStatus, string, string) {
	if len(spec.InitContainers) == 0 {
		return v1.ConditionTrue, "", ""
	}
	var unknown, incomplete []string
	for _, c := range spec.InitContainers {
		s := findStatus(st.InitContainerStatuses, c.Name)
		switch {
		case s == nil:
			unknown = append(unknown, c.Name)
		case s.State.Terminated == nil || s.State.Terminated.ExitCode != 0:
			incomplete = append(incomplete, c.Name)
		}
	}
	if st.Phase == v1.PodSucceeded && len(unknown) == 0 {
		return v1.ConditionTrue, "PodCompleted", ""
	}
	for _, c := range spec.Containers { // a container started: the pod was initialized
		if s := findStatus(st.ContainerStatuses, c.Name); s != nil && (s.State.Running != nil || s.State.Terminated != nil) {
			return v1.ConditionTrue, "", ""
		}
	}
	if msg := unreadyMessage(unknown, incomplete, "incomplete"); msg != "" {
		return v1.ConditionFalse, "ContainersNotInitialized", msg
	}
	return v1.ConditionTrue, "", ""
}

// containersReady is the ContainersReady (and, with no readiness gates,
// Ready) condition, with the kubelet's reasons and messages.
func containersReady(spec *v1.PodSpec, st *v1.PodStatus) (v1.ConditionStatus, string, string) {
	var unknown, unready []string
	for _, c := range spec.Containers {
		s := findStatus(st.ContainerStatuses, c.Name)
		switch {
		case s == nil:
			unknown = append(unknown, c.Name)
		case !s.Ready:
			unready = append(unready, c.Name)
		}
	}
	if st.Phase == v1.PodSucceeded && len(unknown) == 0 {
		return v1.ConditionFalse, "PodCompleted", ""
	}
	if msg := unreadyMessage(unknown, unready, "unready"); msg != "" {
		return v1.ConditionFalse, "ContainersNotReady", msg
	}
	return v1.ConditionTrue, "", ""
}

func unreadyMessage(unknown, other []string, what string) string {
	var msgs []string
	if len(unknown) > 0 {
		msgs = append(msgs, fmt.Sprintf("containers with unknown status: %s", unknown))
	}
	if len(other) > 0 {
		msgs = append(msgs, fmt.Sprintf("containers with %s status: %s", what, other))
	}
	return strings.Join(msgs, ", ")
}

func findStatus(list []v1.ContainerStatus, name string) *v1.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
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
