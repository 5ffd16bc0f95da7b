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

	"github.com/apache/openserverless-deployer/lib/fault"
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
// one past a limit is refused before any Job exists. Freed capacity comes
// back without a controller: a decision that needs the place prunes the
// entries whose Job is finished, being deleted or gone.
//
// The count is the reservations alone, and a decision reads only the Jobs
// they name, each by name, and only when the count would refuse it
// (reserveQuota, quota_jobs.go): its cost grows with the active builds,
// not with the finished ones the namespace keeps (thousands, for days: the
// TTL is the safety net, the cleanup the policy). Unfinished Jobs no
// reservation names (made by an older deployer, or by hand) are adopted
// instead of counted on every decision: a record that is not yet complete
// (new, or recreated after someone deleted it) is decided on from one
// paged list of the build Jobs that have not succeeded, and the decision
// writes a reservation for each unfinished Job it did not name and marks
// the record complete. A Job made outside the deployer after that is not
// counted; counting such Jobs on every decision means listing the kept
// history on every decision, which is the cost this design removes.

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
// it exists already and has not succeeded, the record as the reservation
// wrote it, from which the confirmation starts, and whether the new Job's
// user may be over max_kept_builds_per_user (pruneKept lists the user's
// Jobs then).
type place struct {
	existing *batchv1.Job
	record   *corev1.ConfigMap
	prune    bool
}

// quotaReads are what a start decides on, read while it resolves its
// source, which they do not depend on: the quota record and, when it is not
// complete, the unfinished build Jobs it is completed from.
type quotaReads struct {
	recorded sync.WaitGroup
	record   *corev1.ConfigMap
	listed   *seenJobs // nil for a complete record
	err      error     // of the record or of the list
}

// readQuota begins the reads of the quota record.
func (s *Service) readQuota(ctx context.Context, namespace string) *quotaReads {
	q := &quotaReads{}
	q.recorded.Go(func() {
		if q.record, q.err = s.cachedRecord(ctx, namespace); q.err == nil {
			q.listed, q.err = s.adoptable(ctx, namespace, decodeRecord(q.record))
		}
	})
	return q
}

// adoptable is the list a record that is not complete is decided on (see
// reservedJobs), nil for a complete one.
func (s *Service) adoptable(ctx context.Context, namespace string, st quotaState) (*seenJobs, error) {
	if st.complete {
		return nil, nil
	}
	seen, err := s.reservedJobs(ctx, namespace, st)
	return &seen, err
}

// reserveQuota holds a place for the plan's Job under the per-user and the
// global limit, or refuses it with 429. Identical requests share one
// reservation: they make one Job.
//
// The reservations are counted as they stand first, with no Job read: a
// reservation whose Job has ended only counts one place too many, so a
// start under both limits that way is under them in fact. Only a start
// that this count would refuse reads the Jobs the reservations name
// (reservedJobs), prunes those that hold no place any more (finished,
// being deleted, gone: a build deleted out of band) and counts again. Most
// starts so read no Job at all, and the record never holds much more than
// the limits, as a start at a limit prunes it.
//
// A plan whose Job the decision read, not being deleted, needs no place:
// that Job is the answer; so a plan whose name holds a confirmed
// reservation makes the decision read. A Job it did not read is found by
// the create (which gives the place back), or, for a start over the
// limits, by a read of its name. It decides first on ahead, the reads begun for it; a
// retried change reads the record again.
func (s *Service) reserveQuota(ctx context.Context, p buildjob.Plan, ahead *quotaReads) (place, error) {
	name := p.JobName()
	ahead.recorded.Wait()
	if ahead.err != nil {
		return place{}, ahead.err
	}
	var refusal error
	var got place
	first := true
	written, err := s.updateRecord(ctx, p.Namespace, ahead.record, func(st *quotaState) (bool, error) {
		refusal, got = nil, place{}
		marked := false
		seen := ahead.listed
		if !first {
			var err error
			if seen, err = s.adoptable(ctx, p.Namespace, *st); err != nil {
				return false, err
			}
		}
		first = false
		changed := false
		if seen != nil {
			changed = reconcile(st, *seen, s.now())
		}
		entries := st.entries
		for {
			if seen != nil {
				if j := seen.jobs[name]; j != nil && j.DeletionTimestamp == nil {
					var err error
					got.existing, err = ownJob(j, p)
					return changed, err
				}
			}
			if r, ok := entries[name]; ok && r.UID == "" {
				r.Holders++
				entries[name] = r
				return true, nil
			} else if ok && seen != nil {
				// Its Job exists, being deleted: the create will say so.
				return changed, nil
			} else if !ok {
				mine, all := count(entries, p.User)
				over := s.overQuota(mine+1 > s.cfg.MaxActiveBuildsPerUser, all+1 > s.cfg.MaxActiveBuilds)
				if over == nil {
					entries[name] = reservation{User: p.User, Expires: reservationExpiry(ctx, s.now()), Holders: 1}
					got.prune = st.kept.add(p.User, s.cfg.MaxKeptBuildsPerUser, s.now())
					return true, nil
				}
				if seen != nil && marked {
					refusal = over
					return changed, nil
				}
				if seen != nil {
					// Still over: a build whose Pod pushed its image is
					// finished for its user, though its Job may not say
					// so yet. Reading the Pods is left to this point, as
					// the API server filters every Pod the namespace
					// keeps for it.
					marked = true
					if err := markPushed(ctx, s.client, p.Namespace, seen.refs()); err != nil {
						return false, err
					}
					changed = reconcile(st, *seen, s.now()) || changed
					continue
				}
			}
			// Over a limit, or the plan's Job reserved already (running,
			// or ended since): what the reservations hold is read.
			read, err := s.reservedJobs(ctx, p.Namespace, *st)
			if err != nil {
				return false, err
			}
			seen = &read
			changed = reconcile(st, read, s.now()) || changed
		}
	})
	if err != nil {
		return place{}, err
	}
	if refusal != nil {
		// A build that has a Job is answered with it, over the limits or not.
		job, err := s.existing(ctx, p)
		if err != nil {
			return place{}, err
		}
		if job != nil && job.DeletionTimestamp == nil {
			return place{existing: job}, nil
		}
		return place{}, refusal
	}
	got.record = written
	return got, nil
}

// errReservationLost means a Job was created after its reservation
// expired: it was never counted, so it must not run.
var errReservationLost = errors.New("the quota reservation expired before the job was created")

// confirmQuota ties the reservation of job's name to job itself, so that it
// holds exactly as long as this Job is unfinished. It starts from known,
// the record as the reservation wrote it (nil: it reads the record).
func (s *Service) confirmQuota(ctx context.Context, job *batchv1.Job, known *corev1.ConfigMap) error {
	_, err := s.updateRecord(ctx, job.Namespace, known, func(st *quotaState) (bool, error) {
		entries := st.entries
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
	_, err := s.updateRecord(ctx, p.Namespace, nil, func(st *quotaState) (bool, error) {
		entries := st.entries
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

// count returns how many places user and everyone hold: the reservations
// alone. Every unfinished build Job has one — reserved before its create,
// or adopted from the one list a record that is not complete is decided on
// — so no Job list is needed here, and the count costs what the active
// builds cost (see the note at the top of this file).
func count(entries reservations, user string) (mine, all int) {
	for _, r := range entries {
		all++
		if r.User == user {
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
