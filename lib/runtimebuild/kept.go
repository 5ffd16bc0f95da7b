package runtimebuild

import (
	"context"
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// pruneKept deletes user's oldest finished build Jobs beyond
// max_kept_builds_per_user, with what they own, so that no user can grow
// the cluster's storage between cleanups, and writes in the quota record
// how many build Jobs the user has left (kept_count.go). A start calls it
// when its reservation says the user may be over the bound, after its own
// Job was created. Failing, it only logs: the new build stands, and the
// next one or the cleanup tries again.
func (s *Service) pruneKept(ctx context.Context, namespace, user string) {
	log := s.log.WithField("user", user)
	mine, err := s.userJobs(ctx, namespace, user)
	if err != nil {
		log.WithError(err).Warn("pruning the finished builds")
		return
	}
	// A build that pushed its image is finished for its user, though its
	// Job may not say so yet: read the Pods (a list the API server filters
	// out of every Pod the namespace keeps) when that decides whether any
	// is pruned.
	if mayReachBound(mine, s.cfg.MaxKeptBuildsPerUser) {
		if err := markPushed(ctx, s.client, namespace, jobRefs(mine)); err != nil {
			log.WithError(err).Warn("reading the pushed builds to prune")
		}
	}
	listed := make(map[string]types.UID, len(mine))
	left := map[string]bool{}
	for _, job := range mine {
		listed[job.Name] = job.UID
		if job.DeletionTimestamp == nil {
			left[job.Name] = true
		}
	}
	for _, job := range overKept(mine, s.cfg.MaxKeptBuildsPerUser) {
		if err := deleteJob(ctx, s.client, &job); err != nil {
			log.WithError(err).WithField("job", job.Name).Warn("pruning a finished build")
			continue
		}
		delete(left, job.Name)
	}
	if err := s.noteKept(ctx, namespace, user, left, listed); err != nil {
		log.WithError(err).Warn("counting the kept builds")
	}
}

// noteKept sets user's count in the quota record to the Jobs left after a
// pruning, and to those of the record's reservations that the list did not
// show: a Job of the user created after the list has its reservation
// there. A reservation confirmed for a listed Job (one pruned, or finished
// and not yet dropped from the record) is not counted again.
func (s *Service) noteKept(ctx context.Context, namespace, user string, left map[string]bool, listed map[string]types.UID) error {
	_, err := s.updateRecord(ctx, namespace, nil, func(st *quotaState) (bool, error) {
		n := len(left)
		for name, r := range st.entries {
			if r.User == user && !left[name] && (r.UID == "" || r.UID != listed[name]) {
				n++
			}
		}
		st.kept[user] = keptCount{N: n, At: s.now().Unix()}
		return true, nil
	})
	return err
}

// mayReachBound reports whether the unfinished Jobs of jobs decide if more
// than keep are finished: the finished ones alone are not over it, and
// with the unfinished ones they would be.
func mayReachBound(jobs []batchv1.Job, keep int) bool {
	ended, open := 0, 0
	for i := range jobs {
		switch {
		case jobs[i].DeletionTimestamp != nil:
		case unfinished(&jobs[i]):
			open++
		default:
			ended++
		}
	}
	return ended <= keep && ended+open > keep
}

// overKept returns, once more than keep Jobs are finished, the finished Jobs
// past the newest keep-keep/5, oldest last: pruning a fifth below the bound
// leaves room for the next builds, so a user who builds often pays for a
// delete once every few builds, not on each one.
func overKept(jobs []batchv1.Job, keep int) []batchv1.Job {
	type done struct {
		job batchv1.Job
		at  metav1.Time
	}
	var ended []done
	for _, j := range jobs {
		if at, ok := finished(&j); ok && j.DeletionTimestamp == nil {
			ended = append(ended, done{j, metav1.NewTime(at)})
		}
	}
	if len(ended) <= keep {
		return nil
	}
	keep -= keep / 5
	sort.SliceStable(ended, func(a, b int) bool {
		if !ended[a].at.Equal(&ended[b].at) {
			return ended[b].at.Before(&ended[a].at)
		}
		return ended[a].job.Name < ended[b].job.Name
	})
	out := make([]batchv1.Job, 0, len(ended)-keep)
	for _, d := range ended[keep:] {
		out = append(out, d.job)
	}
	return out
}
