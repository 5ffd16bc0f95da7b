package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

// finishedJob makes a build Job of user that ended at "at" (see testkube.FinishedJob).
func finishedJob(t *testing.T, cfg config.Config, user, id string, final batchv1.JobConditionType, at time.Time) *batchv1.Job {
	t.Helper()
	return testkube.FinishedJob(t, apiserver.Client, buildjob.Plan{
		ID: id, User: user, Kind: "python", Namespace: cfg.Namespace, Pinned: runtime.String(),
		PullSecret: cfg.RegistrySecret, PushSecret: cfg.RegistrySecret, WarmerImage: cfg.WarmerImage, KanikoImage: cfg.KanikoImage, PusherImage: cfg.PusherImage, Deadline: cfg.BuildTimeout, TTL: cfg.JobTTL,
		Destination: reg.Host + "/" + user + ":t", Image: reg.Host + "/" + user + ":t",
	}, final, at)
}

func TestCleanupDeletesFinishedJobsWithTheirContext(t *testing.T) {
	cfg, deployer := namespace(t)
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	id := testkube.ID
	complete := finishedJob(t, cfg, "alice", id('1'), batchv1.JobComplete, old)
	failed := finishedJob(t, cfg, "alice", id('2'), batchv1.JobFailed, old)
	running := finishedJob(t, cfg, "alice", id('3'), "", time.Time{})
	recent := finishedJob(t, cfg, "alice", id('4'), batchv1.JobComplete, time.Now().Add(-time.Hour))
	others := finishedJob(t, cfg, "bob", id('5'), batchv1.JobComplete, old)

	n, err := runtimebuild.NewService(deployer, cfg).Cleanup(ctx, "alice", false, 24*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	for _, gone := range []*batchv1.Job{complete, failed} {
		eventually(t, "job "+gone.Name+" and its context are gone", func() bool {
			_, errJ := apiserver.Client.BatchV1().Jobs(cfg.Namespace).Get(ctx, gone.Name, metav1.GetOptions{})
			_, errC := apiserver.Client.CoreV1().ConfigMaps(cfg.Namespace).Get(ctx, gone.Name, metav1.GetOptions{})
			return apierrors.IsNotFound(errJ) && apierrors.IsNotFound(errC)
		})
	}
	for _, kept := range []*batchv1.Job{running, recent, others} {
		_, err := apiserver.Client.BatchV1().Jobs(cfg.Namespace).Get(ctx, kept.Name, metav1.GetOptions{})
		assert.NoError(t, err, "job %s must be kept", kept.Name)
	}

	// System scope (the schedule) cleans every user's.
	n, err = runtimebuild.NewService(deployer, cfg).Cleanup(ctx, "", true, 24*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}
