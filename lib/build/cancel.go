package build

import "context"

// Cancel stops and deletes the user's build id: the Job goes with its Pods
// and context (background propagation). An unknown id is not found.
func (s *Service) Cancel(ctx context.Context, user, id string) (Status, error) {
	job, err := s.find(ctx, user, id)
	if err != nil {
		return Status{}, err
	}
	st := StatusOf(job, nil, nil, nil)
	if err := deleteJob(ctx, s.client, job); err != nil {
		return Status{}, kubeError(err, "cancelling build %s", id)
	}
	s.log.WithField("job", job.Name).WithField("build_id", id).Info("build cancelled")
	return st, nil
}
