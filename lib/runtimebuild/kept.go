package runtimebuild

import (
	"context"
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// pruneKept deletes the user's oldest finished build Jobs beyond
// max_kept_builds_per_user, with what they own, so that no user can grow
// the cluster's storage between cleanups. It runs after a new build was
// created, over the user's build Jobs as the start listed them before (a
// Job that finished since is pruned by the next build), or listErr;
// failing, it only logs: the new build stands, and the next one or the
// cleanup tries again.
func (s *Service) pruneKept(ctx context.Context, namespace, user string, mine []batchv1.Job, listErr error) {
	if listErr != nil {
		s.log.WithError(listErr).WithField("user", user).Warn("pruning the finished builds")
		return
	}
	// A build that pushed its image is finished for its user, though its
	// Job may not say so yet: read its Pod when it may be pruned.
	if len(mine) > s.cfg.MaxKeptBuildsPerUser {
		if err := markPushed(ctx, s.client, namespace, jobRefs(mine)); err != nil {
			s.log.WithError(err).WithField("user", user).Warn("reading the pushed builds to prune")
		}
	}
	for _, job := range overKept(mine, s.cfg.MaxKeptBuildsPerUser) {
		if err := deleteJob(ctx, s.client, &job); err != nil {
			s.log.WithError(err).WithField("job", job.Name).Warn("pruning a finished build")
		}
	}
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
