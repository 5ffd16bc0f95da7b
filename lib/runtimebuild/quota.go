package runtimebuild

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

// quotaRetryAfter is the wait, in seconds, suggested to a caller over quota.
const quotaRetryAfter = 30

// The quotas are decided on the quota record (QuotaRecord), never on the Job
// list alone: Jobs created at once all see the same list, and no order of
// them that every creator can compute (creation time has whole seconds)
// agrees with the decisions already taken. Instead each creator first
// reserves a place in the record with an update at the resourceVersion it
// read; the API server accepts one update per version, so the reservations
// are made one after the other, each seeing all those before it, and the
// one past a limit is refused before any Job exists. The count is the
// reservations plus the unfinished build Jobs no reservation names (made
// by an older version or by hand), so no Job is ever left out. Freed
// capacity comes back without a controller: every reservation prunes the
// entries whose Job is finished, being deleted or gone.

// Bounds of an unconfirmed reservation. Its creator sends the Job create
// before its context's deadline (the activation's, at most maxActivation
// from now); the API server ends a request it has not answered within
// apiServerTimeout (its --request-timeout); clockSkew covers the clocks
// of the processes that write and read the expiry. Past the sum, the Job
// can no longer appear.
const (
	maxActivation    = 5 * time.Minute
	apiServerTimeout = time.Minute
	clockSkew        = 30 * time.Second
)

// reservationExpiry is when an unconfirmed reservation made now under ctx
// stops holding its place.
func reservationExpiry(ctx context.Context, now time.Time) time.Time {
	until := now.Add(maxActivation)
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	return until.Add(apiServerTimeout + clockSkew)
}

// place is what a reservation tells the plan's creator: the plan's Job when
// it exists already and has not succeeded, and the record as the
// reservation wrote it, from which the confirmation starts.
type place struct {
	existing *batchv1.Job
	record   *corev1.ConfigMap
}

// quotaReads are what a start decides on and prunes from, read at once:
// the quota record and the build Jobs that have not succeeded, which the
// reservation counts, and the user's own build Jobs, from which the
// oldest finished ones are pruned. A start begins them while it resolves
// its source, which they do not depend on.
type quotaReads struct {
	done      sync.WaitGroup
	record    *corev1.ConfigMap
	recordErr error
	jobs      []batchv1.Job
	jobsErr   error
	mine      []batchv1.Job
	mineErr   error
}

// readQuota begins the reads of the quota record, of the build Jobs that
// have not succeeded and of user's build Jobs.
func (s *Service) readQuota(ctx context.Context, namespace, user string) *quotaReads {
	q := &quotaReads{}
	q.done.Go(func() { q.record, q.recordErr = s.cachedRecord(ctx, namespace) })
	q.done.Go(func() { q.jobs, q.jobsErr = s.quotaJobs(ctx, namespace) })
	q.done.Go(func() { q.mine, q.mineErr = s.userJobs(ctx, namespace, user) })
	return q
}

// reserveQuota holds a place for the plan's Job under the per-user and the
// global limit, or refuses it with 429. Identical requests share one
// reservation: they make one Job. The Job list it counts also tells
// whether the plan's Job exists already and has not succeeded, which then
// needs no place (a succeeded one is found by the create, which gives the
// place back). It decides first on ahead, the reads begun for it; a
// retried change reads the record and the Jobs again.
func (s *Service) reserveQuota(ctx context.Context, p buildjob.Plan, ahead *quotaReads) (place, error) {
	name := p.JobName()
	ahead.done.Wait()
	if ahead.recordErr != nil {
		return place{}, ahead.recordErr
	}
	var refusal error
	var got place
	first := true
	written, err := s.updateRecord(ctx, p.Namespace, ahead.record, func(entries reservations) (bool, error) {
		refusal = nil
		var jobs []batchv1.Job
		var err error
		if first {
			jobs, err, first = ahead.jobs, ahead.jobsErr, false
		} else {
			jobs, err = s.quotaJobs(ctx, p.Namespace)
		}
		if err != nil {
			return false, err
		}
		got = place{}
		now := s.now()
		pruned := prune(entries, jobs, now)
		for i := range jobs {
			if jobs[i].Name == name && jobs[i].DeletionTimestamp == nil {
				got.existing, err = ownJob(&jobs[i], p)
				return pruned, err
			}
		}
		if r, ok := entries[name]; ok {
			if r.UID != "" {
				// Its Job exists, being deleted: the create will say so.
				return pruned, nil
			}
			r.Holders++
			entries[name] = r
			return true, nil
		}
		entries[name] = reservation{User: p.User, Expires: reservationExpiry(ctx, now), Holders: 1}
		mine, all := count(entries, jobs, p.User)
		if refusal = s.overQuota(mine > s.cfg.MaxActiveBuildsPerUser, all > s.cfg.MaxActiveBuilds); refusal != nil {
			delete(entries, name)
			return pruned, nil
		}
		return true, nil
	})
	if err != nil {
		return place{}, err
	}
	got.record = written
	return got, refusal
}

// errReservationLost means a Job was created after its reservation
// expired: it was never counted, so it must not run.
var errReservationLost = errors.New("the quota reservation expired before the job was created")

// confirmQuota ties the reservation of job's name to job itself, so that it
// holds exactly as long as this Job is unfinished. It starts from known,
// the record as the reservation wrote it (nil: it reads the record).
func (s *Service) confirmQuota(ctx context.Context, job *batchv1.Job, known *corev1.ConfigMap) error {
	_, err := s.updateRecord(ctx, job.Namespace, known, func(entries reservations) (bool, error) {
		r, ok := entries[job.Name]
		if !ok {
			return false, errReservationLost
		}
		if r.UID == job.UID {
			return false, nil
		}
		r.UID = job.UID
		entries[job.Name] = r
		return true, nil
	})
	if errors.Is(err, errReservationLost) {
		return fault.Wrap(err, fault.Unavailable, "QuotaReservationLost", "Creating the build took too long; retry")
	}
	return err
}

// releaseQuota gives back the place reserved for the plan's Job when the API
// server refused to create it (createErr), or found it existing. An error
// without the server's refusal (a timeout, a lost connection) may hide a
// Job that was created: its reservation then stays until it expires or its
// Job ends. A failure to release is only logged: the caller reports the
// failed create.
func (s *Service) releaseQuota(ctx context.Context, p buildjob.Plan, createErr error) {
	if !refused(createErr) {
		return
	}
	name := p.JobName()
	_, err := s.updateRecord(ctx, p.Namespace, nil, func(entries reservations) (bool, error) {
		r, ok := entries[name]
		if !ok || r.UID != "" {
			return false, nil
		}
		if r.Holders--; r.Holders <= 0 {
			delete(entries, name)
		} else {
			entries[name] = r
		}
		return true, nil
	})
	if err != nil {
		s.log.WithError(err).WithField("job", name).Warn("releasing the quota reservation of a job that was not created")
	}
}

// refused reports an answer of the API server saying that it did not
// create the object: a 4xx other than a timeout or a conflict, or the
// object's existing already.
func refused(err error) bool {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return false
	}
	if apierrors.IsAlreadyExists(err) {
		return true
	}
	code := int(status.Status().Code)
	return code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusConflict
}

// notSucceeded selects the Jobs that have not succeeded. A build Job runs one
// Pod to completion, so one success ends it; the succeeded builds, nearly
// all of those kept, never weigh in a quota decision, and the API server
// leaves them out of the list. What remains is the running builds and the
// failed ones, which max_kept_builds_per_user bounds.
const notSucceeded = "status.successful=0"

// quotaJobs lists the build Jobs of the namespace a quota decision reads:
// those that have not succeeded. Nothing depends on the filter for its
// correctness (a succeeded Job in the list counts as finished), only on
// the list holding every unfinished Job.
func (s *Service) quotaJobs(ctx context.Context, namespace string) ([]batchv1.Job, error) {
	list, err := s.client.BatchV1().Jobs(namespace).List(ctx, metav1.ListOptions{LabelSelector: builds(), FieldSelector: notSucceeded})
	if err != nil {
		return nil, kube.Error(err, "listing build jobs")
	}
	return list.Items, nil
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

// prune drops the reservations that no longer hold a place: a confirmed one
// whose Job is finished, being deleted or gone (the name now another Job's
// or no Job's); an unconfirmed one past its expiry unless a Job of its name
// is unfinished. It reports whether it dropped any.
func prune(entries reservations, jobs []batchv1.Job, now time.Time) bool {
	byName := make(map[string]*batchv1.Job, len(jobs))
	for i := range jobs {
		byName[jobs[i].Name] = &jobs[i]
	}
	dropped := false
	for name, r := range entries {
		j := byName[name]
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

// count returns how many places user and everyone hold: the reservations,
// and the unfinished build Jobs no reservation names.
func count(entries reservations, jobs []batchv1.Job, user string) (mine, all int) {
	for _, r := range entries {
		all++
		if r.User == user {
			mine++
		}
	}
	for i := range jobs {
		j := &jobs[i]
		if _, held := entries[j.Name]; held || !unfinished(j) {
			continue
		}
		all++
		if j.Labels[kube.LabelUser] == user {
			mine++
		}
	}
	return mine, all
}

func (s *Service) overQuota(user, global bool) error {
	switch {
	case user:
		e := fault.New(fault.TooMany, "QuotaExceeded", "Too many active builds for this user (at most %d); retry when one finishes", s.cfg.MaxActiveBuildsPerUser)
		e.RetryAfter = quotaRetryAfter
		return e
	case global:
		e := fault.New(fault.TooMany, "QuotaExceeded", "Too many active builds on the platform (at most %d); retry later", s.cfg.MaxActiveBuilds)
		e.RetryAfter = quotaRetryAfter
		return e
	}
	return nil
}
