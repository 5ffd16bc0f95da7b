package runtimebuild

import (
	"context"
	"regexp"
	"sort"
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
	list, err := s.client.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.kind=Pod,involvedObject.name=" + pod.Name + ",type=" + corev1.EventTypeWarning,
	})
	if err != nil {
		return nil, kube.Error(err, "listing events of %s", pod.Name)
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
