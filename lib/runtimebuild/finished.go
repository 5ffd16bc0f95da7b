package runtimebuild

import (
	"context"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/kube"
)

// finished reports whether a Job has ended, Complete or Failed, and when.
func finished(job *batchv1.Job) (at time.Time, ok bool) {
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			if job.Status.CompletionTime != nil {
				return job.Status.CompletionTime.Time, true
			}
			return c.LastTransitionTime.Time, true
		case batchv1.JobFailed:
			return c.LastTransitionTime.Time, true
		}
	}
	return time.Time{}, false
}

// jobRefs points at each of jobs, for markPushed to mark in place.
func jobRefs(jobs []batchv1.Job) []*batchv1.Job {
	out := make([]*batchv1.Job, len(jobs))
	for i := range jobs {
		out[i] = &jobs[i]
	}
	return out
}

// reasonPushed marks a Job condition this package added, not the Job
// controller: the Job's Pod pushed the image.
const reasonPushed = "Pushed"

// markPushed marks Complete, as of the push, each unfinished Job of jobs
// (nil ones skipped)
// whose Pod has pushed the image. The status reports such a build
// succeeded (StatusOf) about a second before the Job controller records
// it, and a caller who saw that may start the next build, or clean up, at
// once: the quota, the kept builds and the cleanup must see it finished
// too. It costs one list of the Pods of those Jobs only, and nothing when
// every Job is finished. The Pods are not filtered by phase: the kubelet
// reports the push step ended a moment before it reports the Pod
// Succeeded. The Jobs are the caller's copies; nothing is written back.
func markPushed(ctx context.Context, client kubernetes.Interface, namespace string, jobs []*batchv1.Job) error {
	open := map[string]*batchv1.Job{}
	for _, j := range jobs {
		if j != nil && unfinished(j) {
			open[j.Name] = j
		}
	}
	if len(open) == 0 {
		return nil
	}
	names := make([]string, 0, len(open))
	for name := range open {
		names = append(names, name)
	}
	sort.Strings(names)
	list, err := client.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{
		LabelSelector: batchv1.JobNameLabel + " in (" + strings.Join(names, ",") + ")",
	})
	if err != nil {
		return kube.Error(err, "listing the pods of active builds")
	}
	for i := range list.Items {
		pod := &list.Items[i]
		j := open[pod.Labels[batchv1.JobNameLabel]]
		if at, _, ok := pushed(pod); ok && j != nil && metav1.IsControlledBy(pod, j) {
			j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{
				Type: batchv1.JobComplete, Status: corev1.ConditionTrue, Reason: reasonPushed,
				LastTransitionTime: metav1.NewTime(at),
			})
		}
	}
	return nil
}
