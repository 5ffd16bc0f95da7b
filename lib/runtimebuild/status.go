package runtimebuild

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
)

// failedLogLines is how much log a failed build's status carries: enough
// for an installer's error summary above Kaniko's own closing lines.
const failedLogLines = 50

// Status returns the state of the user's build id, with the last log lines
// when it failed. Another user's build is not found.
func (s *Service) Status(ctx context.Context, user, id string) (Status, []string, error) {
	job, err := s.find(ctx, user, id)
	if err != nil {
		return Status{}, nil, err
	}
	return s.statusOf(ctx, job)
}

// statusOf gathers what StatusOf needs for one Job.
func (s *Service) statusOf(ctx context.Context, job *batchv1.Job) (Status, []string, error) {
	pods, err := s.pods(ctx, job)
	if err != nil {
		return Status{}, nil, err
	}
	var tail []string
	if len(pods) > 0 {
		st := StatusOf(job, pods, nil, nil)
		if st.State == Queued || st.State == Failed {
			warnings, err := s.warnings(ctx, &pods[0])
			if err != nil {
				return Status{}, nil, err
			}
			if st.State == Failed {
				// The log is the best evidence of why; a missing log is no error.
				page, _ := s.podLogs(ctx, &pods[0], LogOptions{Tail: failedLogLines})
				tail = page.Lines
			}
			return StatusOf(job, pods, warnings, tail), tail, nil
		}
		return st, nil, nil
	}
	st := StatusOf(job, nil, nil, nil)
	if st.Reason == ReasonDeadlineExceeded {
		warnings, err := s.deletedPodWarnings(ctx, job)
		if err != nil {
			return Status{}, nil, err
		}
		st = StatusOf(job, nil, warnings, nil)
	}
	return st, nil, nil
}
