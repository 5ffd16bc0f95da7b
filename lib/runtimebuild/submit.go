package runtimebuild

import (
	"context"
	"crypto/rand"
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

// submit creates the plan's Job, its temporary registry Secret when the plan
// carries credentials, and its context ConfigMap (named for this attempt, so
// they never meet what an earlier Job of the name left for the garbage
// collector, and need no right to delete it), or returns the Job that
// already exists for the same build: the deterministic Job name is the lock
// that makes concurrent identical requests create one Job. It never leaves
// a Job without its Secret or ConfigMap: if either cannot be created, the
// Job is deleted again, and what it owns goes with it. The Job comes first
// so the others can be owned by it; a Pod that starts before they exist
// waits for its volumes, as kubelet retries the mount. ahead are the
// quota's reads a start began beside its source's resolution (nil: submit
// begins them).
func (s *Service) submit(ctx context.Context, p buildjob.Plan, ahead *quotaReads) (job *batchv1.Job, existing bool, err error) {
	if ahead == nil {
		ahead = s.readQuota(ctx, p.Namespace)
	}
	got, err := s.reserveQuota(ctx, p, ahead)
	if err != nil || got.existing != nil {
		return got.existing, got.existing != nil, err
	}
	p.Attempt = attempt()
	job, err = s.client.BatchV1().Jobs(p.Namespace).Create(ctx, buildjob.NewJob(p), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// Made by an identical request meanwhile, or succeeded before:
		// the place this call reserved is not needed.
		s.releaseQuota(ctx, p, err)
		job, err := s.existing(ctx, p)
		return job, job != nil, err
	}
	if err != nil {
		s.releaseQuota(ctx, p, err)
		return nil, false, kube.Error(err, "creating build job %s", p.JobName())
	}
	// Pruning the user's oldest finished builds, when the reservation says
	// the user may be over the bound, touches none of the new Job's
	// objects: it runs beside their creation.
	var pruned sync.WaitGroup
	if got.prune {
		pruned.Go(func() { s.pruneKept(ctx, p.Namespace, p.User) })
	}
	defer pruned.Wait()
	if err := s.complete(ctx, p, job, got.record); err != nil {
		s.remove(ctx, job)
		return nil, false, err
	}
	s.log.WithField("job", job.Name).WithField("build_id", p.ID).Info("build job created")
	return job, false, nil
}

// complete creates what the Job owns — its temporary Secret when the plan
// carries credentials, then its context — and confirms the Job's quota
// reservation, starting from the record as the reservation wrote it. The
// confirmation and the context are independent writes, so they go at
// once; the first failure, in that order, is the answer.
func (s *Service) complete(ctx context.Context, p buildjob.Plan, job *batchv1.Job, record *corev1.ConfigMap) error {
	if secret := buildjob.NewSecret(p, job); secret != nil {
		if _, err := s.client.CoreV1().Secrets(p.Namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			return kube.Error(withheld(err), "creating registry credentials %s", p.JobName())
		}
	}
	var confirmErr, contextErr error
	var wg sync.WaitGroup
	wg.Go(func() { confirmErr = s.confirmQuota(ctx, job, record) })
	wg.Go(func() {
		if _, err := s.client.CoreV1().ConfigMaps(p.Namespace).Create(ctx, buildjob.NewContext(p, job), metav1.CreateOptions{}); err != nil {
			contextErr = kube.Error(err, "creating build context %s", p.JobName())
		}
	})
	wg.Wait()
	if confirmErr != nil {
		return confirmErr
	}
	return contextErr
}

// existing returns the Job of the plan's build if it exists. A Job of the
// same name for another build (a 64-bit prefix collision) is a conflict.
func (s *Service) existing(ctx context.Context, p buildjob.Plan) (*batchv1.Job, error) {
	job, err := s.client.BatchV1().Jobs(p.Namespace).Get(ctx, p.JobName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, kube.Error(err, "reading build job %s", p.JobName())
	}
	return ownJob(job, p)
}

// removeTimeout bounds the undoing of a half-made build.
const removeTimeout = 10 * time.Second

// remove deletes a Job created by this call, with its Pods (background
// propagation), when a later step failed. It runs on a context of its own:
// the step may have failed because the request's deadline passed, and a
// Job must not stay without its context. Its own failure is only logged:
// the caller reports the step that failed.
func (s *Service) remove(ctx context.Context, job *batchv1.Job) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	err := deleteJob(ctx, s.client, job)
	if err != nil {
		s.log.WithError(err).WithField("job", job.Name).Warn("removing build job after a failed step")
	}
}

// attempt returns a random name part for the objects of a new Job.
func attempt() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// ownJob returns job when it is the plan's build's. A Job of the same name
// for another build (a 64-bit prefix collision) is a conflict.
func ownJob(job *batchv1.Job, p buildjob.Plan) (*batchv1.Job, error) {
	if job.Annotations[kube.AnnotationBuildID] != p.ID || job.Labels[kube.LabelUser] != p.User {
		return nil, fault.New(fault.Conflict, "JobNameConflict", "Job %s exists for another build", job.Name)
	}
	return job, nil
}
