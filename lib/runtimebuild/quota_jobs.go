package runtimebuild

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/kube"
)

// seenJobs are the build Jobs a quota decision read, by name. From a
// complete record: each Job a reservation names, absent when it is gone.
// From one that is not (listed): every unfinished build Job.
type seenJobs struct {
	jobs   map[string]*batchv1.Job
	listed bool
}

// jobReads bounds the reads of reserved Jobs in flight. The reservations
// are about as many as the active builds (max_active_builds, 10 by
// default), so a decision usually reads them all at once.
const jobReads = 16

// reservedJobs reads the Jobs a decision on st needs. For a complete
// record, each Job its reservations name, by name: a decision costs what
// the active builds cost, whatever the namespace keeps. For one that is
// not, the unfinished build Jobs, listed once, which the decision adopts
// (reconcile). The reads are made after
// st was read, so what they show is never older than the reservations
// decided on: a Job a confirmed reservation names was created before the
// confirmation, and is seen.
func (s *Service) reservedJobs(ctx context.Context, namespace string, st quotaState) (seenJobs, error) {
	if !st.complete {
		jobs, err := s.quotaJobs(ctx, namespace)
		if err != nil {
			return seenJobs{}, err
		}
		seen := seenJobs{jobs: make(map[string]*batchv1.Job, len(jobs)), listed: true}
		for i := range jobs {
			seen.jobs[jobs[i].Name] = &jobs[i]
		}
		return seen, nil
	}
	names := make([]string, 0, len(st.entries))
	for name := range st.entries {
		names = append(names, name)
	}
	found := make([]*batchv1.Job, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobReads)
	for i, name := range names {
		g.Go(func() error {
			job, err := s.client.BatchV1().Jobs(namespace).Get(gctx, name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				return nil
			case err != nil:
				return kube.Error(err, "reading build job %s", name)
			}
			found[i] = job
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return seenJobs{}, err
	}
	seen := seenJobs{jobs: make(map[string]*batchv1.Job, len(names))}
	for i, job := range found {
		if job != nil {
			seen.jobs[names[i]] = job
		}
	}
	return seen, nil
}

// refs points at each Job seen, for markPushed to mark in place.
func (s seenJobs) refs() []*batchv1.Job {
	out := make([]*batchv1.Job, 0, len(s.jobs))
	for _, j := range s.jobs {
		out = append(out, j)
	}
	return out
}

// notSucceeded selects the Jobs that have not succeeded. A build Job runs one
// Pod to completion, so one success ends it; the succeeded builds, nearly
// all of those kept, are left out of the list by the API server. What
// remains is the running builds and the failed ones.
const notSucceeded = "status.successful=0"

// quotaJobs returns the unfinished build Jobs of the namespace: what a
// record that is not complete is decided on, once. It lists those that
// have not succeeded a page at a time, each page within the call timeout
// however many failed builds the namespace keeps, and keeps only the
// unfinished ones. Nothing depends on the filter for its correctness (a
// succeeded Job in the list is finished), only on the list holding every
// unfinished Job.
func (s *Service) quotaJobs(ctx context.Context, namespace string) ([]batchv1.Job, error) {
	var out []batchv1.Job
	opts := metav1.ListOptions{LabelSelector: builds(), FieldSelector: notSucceeded, Limit: listPage}
	for {
		list, err := s.client.BatchV1().Jobs(namespace).List(ctx, opts)
		if err != nil {
			return nil, kube.Error(err, "listing build jobs")
		}
		for i := range list.Items {
			if unfinished(&list.Items[i]) {
				out = append(out, list.Items[i])
			}
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			return out, nil
		}
	}
}

// userJobs lists user's build Jobs: a few more than
// max_kept_builds_per_user, finished or not. The API server's cache
// answers (resourceVersion 0), with no read of etcd: pruning from a list
// a moment old deletes what was finished a moment ago, no more.
func (s *Service) userJobs(ctx context.Context, namespace, user string) ([]batchv1.Job, error) {
	list, err := s.client.BatchV1().Jobs(namespace).List(ctx, metav1.ListOptions{LabelSelector: ofUser(user), ResourceVersion: "0"})
	if err != nil {
		return nil, kube.Error(err, "listing build jobs")
	}
	return list.Items, nil
}

// unfinished reports a Job that still counts against the quotas: not
// finished and not being deleted.
func unfinished(j *batchv1.Job) bool {
	_, done := finished(j)
	return !done && j.DeletionTimestamp == nil
}

// reconcile brings st in line with the Jobs seen: it prunes the
// reservations that no longer hold a place and, when seen is the list of
// a record that is not complete, adopts the unfinished Jobs no reservation
// names and marks the record complete. It reports whether st changed.
func reconcile(st *quotaState, seen seenJobs, now time.Time) bool {
	changed := prune(st.entries, seen.jobs, now)
	if seen.listed && !st.complete {
		adopt(st.entries, seen.jobs)
		st.complete = true
		changed = true
	}
	return changed
}

// prune drops the reservations that no longer hold a place: a confirmed one
// whose Job is finished, being deleted or gone (the name now another Job's
// or no Job's); an unconfirmed one past its expiry unless a Job of its name
// is unfinished. It reports whether it dropped any.
func prune(entries reservations, jobs map[string]*batchv1.Job, now time.Time) bool {
	dropped := false
	for name, r := range entries {
		j := jobs[name]
		live := j != nil && unfinished(j)
		keep := live && j.UID == r.UID
		if r.UID == "" {
			keep = live || now.Before(r.Expires)
		}
		if !keep {
			delete(entries, name)
			dropped = true
		}
	}
	return dropped
}

// adopt gives each unfinished Job of jobs that no reservation names a
// confirmed reservation of its own, for its user (its label).
func adopt(entries reservations, jobs map[string]*batchv1.Job) {
	for name, j := range jobs {
		if _, held := entries[name]; held || !unfinished(j) {
			continue
		}
		entries[name] = reservation{User: j.Labels[kube.LabelUser], UID: j.UID}
	}
}
