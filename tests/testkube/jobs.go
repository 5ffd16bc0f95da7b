package testkube

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

// FinishedJob creates the build Job of plan p, which the built-in Job
// controller leaves alone (spec.managedBy names another controller), with
// its context ConfigMap, and writes the final condition (batchv1.JobComplete
// or JobFailed; "" leaves it running) through the status subresource, as if
// it ended at "at". The API server wants startTime, and SuccessCriteriaMet
// before Complete, FailureTarget before Failed.
func FinishedJob(t *testing.T, client kubernetes.Interface, p buildjob.Plan, final batchv1.JobConditionType, at time.Time) *batchv1.Job {
	t.Helper()
	job, err := CreateFinishedJob(context.Background(), client, p, final, at)
	require.NoError(t, err)
	return job
}

// CreateFinishedJob is FinishedJob for callers without a *testing.T (the
// measurement commands): it returns what failed.
func CreateFinishedJob(ctx context.Context, client kubernetes.Interface, p buildjob.Plan, final batchv1.JobConditionType, at time.Time) (*batchv1.Job, error) {
	// Images the plan leaves out are the defaults: the API server wants one for every step.
	for _, img := range []struct {
		field *string
		def   string
	}{
		{&p.WarmerImage, config.DefaultWarmerImage}, {&p.KanikoImage, config.DefaultKanikoImage}, {&p.PusherImage, config.DefaultPusherImage},
	} {
		if *img.field == "" {
			*img.field = img.def
		}
	}
	j := buildjob.NewJob(p)
	other := "example.com/elsewhere"
	j.Spec.ManagedBy = &other
	job, err := client.BatchV1().Jobs(p.Namespace).Create(ctx, j, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating job %s: %w", j.Name, err)
	}
	if _, err := client.CoreV1().ConfigMaps(p.Namespace).Create(ctx, buildjob.NewContext(p, job), metav1.CreateOptions{}); err != nil {
		return nil, fmt.Errorf("creating the context of job %s: %w", job.Name, err)
	}
	if final == "" {
		return job, nil
	}
	start := metav1.NewTime(at.Add(-time.Minute))
	end := metav1.NewTime(at)
	job.Status.StartTime = &start
	switch final {
	case batchv1.JobComplete:
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: end},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: end},
		}
		job.Status.CompletionTime = &end
		job.Status.Succeeded = 1
	case batchv1.JobFailed:
		job.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, LastTransitionTime: end, Reason: "BackoffLimitExceeded"},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, LastTransitionTime: end, Reason: "BackoffLimitExceeded"},
		}
		job.Status.Failed = 1
	}
	job, err = client.BatchV1().Jobs(p.Namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("writing the status of job %s: %w", j.Name, err)
	}
	return job, nil
}

// ID returns a build id made of one repeated hex digit, for tests.
func ID(digit byte) string {
	b := make([]byte, 64)
	for i := range b {
		b[i] = digit
	}
	return string(b)
}
