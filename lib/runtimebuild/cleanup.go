package runtimebuild

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// CleanupFailure is one Job a cleanup selected and could not delete, with
// why in words fit for the caller.
type CleanupFailure struct {
	Job    string `json:"job"`
	Reason string `json:"reason"`
}

// CleanupFailures is the error of a cleanup that went on past the Jobs it
// could not delete: the count Cleanup returns with it is what it did
// delete.
type CleanupFailures struct {
	Failed []CleanupFailure
}

func (e *CleanupFailures) Error() string { return "could not delete " + named(e.Failed) }

// named lists the failed Jobs with why: "build-a (why), build-b (why)".
func named(failed []CleanupFailure) string {
	parts := make([]string, len(failed))
	for i, f := range failed {
		parts[i] = f.Job + " (" + f.Reason + ")"
	}
	return strings.Join(parts, ", ")
}

// CleanupMessage is the message of a cleanup's reply: the upstream one when
// every selected Job went, else the count and the names of those that did
// not.
func CleanupMessage(deleted int, failed []CleanupFailure) string {
	if len(failed) == 0 {
		return fmt.Sprintf("Cleaned up %d jobs successfully.", deleted)
	}
	return fmt.Sprintf("Cleaned up %d jobs; could not delete %d: %s.", deleted, len(failed), named(failed))
}

// listPage is how many Jobs one list call brings: a cleanup, or the first
// quota decision on a new record, holds one page of full Job objects
// (about 7 KB each) at a time, not every build, and each page comes within
// the call timeout.
const listPage = 500

// Cleanup deletes the finished build Jobs, Complete or Failed, that ended
// more than maxAge ago: the user's own, or everyone's with system scope.
// Jobs still running are left alone; one whose Pod pushed its image is
// finished as of the push (markPushed), as its status says. Deletion
// propagates in the background, so the Pods, context ConfigMaps and
// temporary Secrets go with their Jobs.
//
// A Job that cannot be deleted — replaced by a new build since the list, or
// refused — does not stop the others: Cleanup returns the count deleted and
// a *CleanupFailures naming it. An API server that stops answering does
// stop it, as every further delete would wait out the same timeout: the
// error is Unavailable and its details say what was done until then.
//
// The Jobs are listed a page at a time and each page's old ones deleted a
// few at once (deleteJobs), so thousands of them neither sit in memory
// together nor wait on one another's round trips.
func (s *Service) Cleanup(ctx context.Context, user string, system bool, maxAge time.Duration) (int, error) {
	selector := ofUser(user)
	if system {
		selector = builds()
	}
	cutoff := s.now().Add(-maxAge)
	var r cleanupResult
	opts := metav1.ListOptions{LabelSelector: selector, Limit: listPage}
	for {
		list, err := s.client.BatchV1().Jobs(s.cfg.Namespace).List(ctx, opts)
		if err != nil {
			return r.stop(kube.Error(err, "listing build jobs"))
		}
		page := jobRefs(list.Items)
		if err := markPushed(ctx, s.client, s.cfg.Namespace, page); err != nil {
			return r.stop(err)
		}
		var old []*batchv1.Job
		for _, j := range page {
			if at, done := finished(j); done && !at.After(cutoff) {
				old = append(old, j)
			}
		}
		if err := s.recordDeletes(&r, old, deleteJobs(ctx, s.client, old)); err != nil {
			return r.stop(err)
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			break
		}
	}
	if len(r.failed) > 0 {
		return r.deleted, &CleanupFailures{Failed: r.failed}
	}
	return r.deleted, nil
}

// cleanupResult is what a cleanup did so far.
type cleanupResult struct {
	deleted int
	failed  []CleanupFailure
}

// recordDeletes logs and counts the outcomes of deleting jobs, in the order
// of jobs, and returns the error that stops the cleanup: the first
// Unavailable one.
func (s *Service) recordDeletes(r *cleanupResult, jobs []*batchv1.Job, errs []error) error {
	var stop error
	for i, err := range errs {
		job := jobs[i]
		if errors.Is(err, errNotTried) {
			continue
		}
		if err == nil {
			s.log.WithField("job", job.Name).Info("build job cleaned up")
			r.deleted++
			continue
		}
		s.log.WithField("job", job.Name).WithError(err).Warn("build job not cleaned up")
		if isConflict(err) {
			// The UID precondition failed: the name now belongs to a newer
			// build, which is not this cleanup's to delete.
			r.failed = append(r.failed, CleanupFailure{Job: job.Name, Reason: "replaced by a new build since it was listed"})
			continue
		}
		fe := fault.As(kube.Error(err, "deleting build job %s", job.Name))
		r.failed = append(r.failed, CleanupFailure{Job: job.Name, Reason: fe.Message})
		if fe.Kind == fault.Unavailable && stop == nil {
			stop = fe
		}
	}
	return stop
}

// stop ends a cleanup on err; when the API server is unavailable after some
// work, the error's details say what was done until then.
func (r *cleanupResult) stop(err error) (int, error) {
	if fe := fault.As(err); fe != nil && fe.Kind == fault.Unavailable && (r.deleted > 0 || len(r.failed) > 0) {
		fe.Details = map[string]any{"deleted": r.deleted, "failed": r.failed}
	}
	return r.deleted, err
}
