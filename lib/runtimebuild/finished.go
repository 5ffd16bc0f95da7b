package runtimebuild

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
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
