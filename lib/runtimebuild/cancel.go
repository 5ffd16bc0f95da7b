package runtimebuild

import (
	"context"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// Cancel stops and deletes the user's build id: the Job goes with its Pods
// and context (background propagation). An unknown id is not found.
func (s *Service) Cancel(ctx context.Context, user, id string) (Status, error) {
	job, err := s.find(ctx, user, id)
	if err != nil {
		return Status{}, err
	}
	st := StatusOf(job, nil, nil, nil)
	if err := deleteJob(ctx, s.client, job); isConflict(err) {
		// The UID precondition failed: the Job was replaced (a retried
		// ensure) since it was read. Cancelling the new one is the caller's call.
		return Status{}, fault.Wrap(err, fault.Conflict, "BuildChanged", "Build %s was restarted while cancelling it; try again", id)
	} else if err != nil {
		return Status{}, kube.Error(err, "cancelling build %s", id)
	}
	s.log.WithField("job", job.Name).WithField("build_id", id).Info("build cancelled")
	return st, nil
}
