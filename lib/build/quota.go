package build

import (
	"context"
	"sort"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// quotaRetryAfter is the wait, in seconds, suggested to a caller over quota.
const quotaRetryAfter = 30

// active lists the unfinished build Jobs, oldest first (name breaks ties), so
// that every caller ranks them the same way.
func (s *Service) active(ctx context.Context) ([]batchv1.Job, error) {
	list, err := s.client.BatchV1().Jobs(s.cfg.Namespace).List(ctx, metav1.ListOptions{LabelSelector: builds()})
	if err != nil {
		return nil, kube.Error(err, "listing build jobs")
	}
	var out []batchv1.Job
	for _, j := range list.Items {
		if _, done := finished(&j); !done && j.DeletionTimestamp == nil {
			out = append(out, j)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		ta, tb := out[a].CreationTimestamp, out[b].CreationTimestamp
		if !ta.Equal(&tb) {
			return ta.Before(&tb)
		}
		return out[a].Name < out[b].Name
	})
	return out, nil
}

// checkQuota refuses a new build when the user or the platform already has
// as many unfinished builds as allowed.
func (s *Service) checkQuota(ctx context.Context, user string) error {
	jobs, err := s.active(ctx)
	if err != nil {
		return err
	}
	mine := 0
	for _, j := range jobs {
		if j.Labels[LabelUser] == user {
			mine++
		}
	}
	return s.overQuota(mine >= s.cfg.MaxActiveBuildsPerUser, len(jobs) >= s.cfg.MaxActiveBuilds)
}

// checkQuotaAfter closes the race between concurrent creates that all passed
// checkQuota: once its Job exists, each caller ranks the unfinished Jobs the
// same way and the ones past a limit withdraw.
func (s *Service) checkQuotaAfter(ctx context.Context, job *batchv1.Job) error {
	jobs, err := s.active(ctx)
	if err != nil {
		return err
	}
	mine, all := 0, 0
	for _, j := range jobs {
		all++
		if j.Labels[LabelUser] == job.Labels[LabelUser] {
			mine++
		}
		if j.UID == job.UID {
			return s.overQuota(mine > s.cfg.MaxActiveBuildsPerUser, all > s.cfg.MaxActiveBuilds)
		}
	}
	return nil
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
