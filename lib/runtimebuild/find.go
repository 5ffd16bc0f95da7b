package runtimebuild

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

var idPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// notFound answers an unknown id, and another user's: the two must look
// the same, so another user's build is 404, not 403.
func notFound(id string) error {
	return fault.New(fault.NotFound, "BuildNotFound", "Build %s not found", id)
}

// find returns the user's Job of build id, selected by label.
func (s *Service) find(ctx context.Context, user, id string) (*batchv1.Job, error) {
	if !idPattern.MatchString(id) {
		return nil, notFound(id)
	}
	list, err := s.client.BatchV1().Jobs(s.cfg.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: ofUser(user) + "," + kube.LabelBuildID + "=" + buildjob.LabelID(id),
	})
	if err != nil {
		return nil, kube.Error(err, "looking up build %s", id)
	}
	for i := range list.Items {
		if j := &list.Items[i]; j.Annotations[kube.AnnotationBuildID] == id && j.DeletionTimestamp == nil {
			return j, nil
		}
	}
	return nil, notFound(id)
}

// pods returns the Pods of a Job, newest first.
func (s *Service) pods(ctx context.Context, job *batchv1.Job) ([]corev1.Pod, error) {
	list, err := s.client.CoreV1().Pods(job.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: kube.LabelComponent + "=" + kube.Component + "," + kube.LabelBuildID + "=" + job.Labels[kube.LabelBuildID],
	})
	if err != nil {
		return nil, kube.Error(err, "listing pods of %s", job.Name)
	}
	pods := list.Items[:0]
	for _, p := range list.Items {
		if metav1.IsControlledBy(&p, job) {
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(a, b int) bool { return pods[b].CreationTimestamp.Before(&pods[a].CreationTimestamp) })
	return pods, nil
}

// warnings returns the Warning events of a Pod, newest first.
func (s *Service) warnings(ctx context.Context, pod *corev1.Pod) ([]corev1.Event, error) {
	return s.podWarnings(ctx, pod.Namespace, pod.Name)
}

// podWarnings returns the Warning events of the Pod name, which may be
// gone, newest first.
func (s *Service) podWarnings(ctx context.Context, namespace, name string) ([]corev1.Event, error) {
	list, err := s.client.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Pod,involvedObject.name=" + name + ",type=" + corev1.EventTypeWarning,
	})
	if err != nil {
		return nil, kube.Error(err, "listing events of %s", name)
	}
	ev := list.Items
	sort.Slice(ev, func(a, b int) bool { return eventTime(ev[b]).Before(eventTime(ev[a])) })
	return ev, nil
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	default:
		return e.CreationTimestamp.Time
	}
}

// deletedPodWarnings returns the Warning events of the Pods the Job made,
// newest first, read from the Job controller's "Created pod: <name>"
// events: the controller deletes a Pod still waiting when the Job's
// deadline passes, and its events (an image it could not pull) outlive it.
func (s *Service) deletedPodWarnings(ctx context.Context, job *batchv1.Job) ([]corev1.Event, error) {
	list, err := s.client.CoreV1().Events(job.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Job,involvedObject.name=" + job.Name + ",reason=SuccessfulCreate",
	})
	if err != nil {
		return nil, kube.Error(err, "listing events of %s", job.Name)
	}
	var all []corev1.Event
	for _, e := range list.Items {
		name, ok := strings.CutPrefix(e.Message, "Created pod: ")
		if !ok || !strings.HasPrefix(name, job.Name+"-") {
			continue
		}
		ev, err := s.podWarnings(ctx, job.Namespace, name)
		if err != nil {
			return nil, err
		}
		all = append(all, ev...)
	}
	sort.SliceStable(all, func(a, b int) bool { return eventTime(all[b]).Before(eventTime(all[a])) })
	return all, nil
}
