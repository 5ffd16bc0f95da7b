package integration

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild"
	"github.com/apache/openserverless-deployer/tests/testkube"
)

// rounds is how many times each race runs, each in a fresh namespace.
const rounds = 10

// race runs n calls at once, each with its own Service (as each action
// process has its own), released together, and returns their errors.
func race(cfg config.Config, client kubernetes.Interface, n int, call func(svc *runtimebuild.Service, i int) error) []error {
	errs := make([]error, n)
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		svc := runtimebuild.NewService(client, cfg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			errs[i] = call(svc, i)
		}()
	}
	close(gate)
	wg.Wait()
	return errs
}

// startOf is a start of user's build tag; builds with other tags are other builds.
func startOf(user, tag string) runtimebuild.StartRequest {
	return runtimebuild.StartRequest{Source: runtime.Context().Name() + ":v3.13", Target: user + ":" + tag, Kind: "python"}
}

// unfinishedJobs counts the unfinished build Jobs of the namespace by user.
// Nothing runs their Pods here, so every Job that exists is unfinished.
func unfinishedJobs(t *testing.T, namespace string) map[string]int {
	t.Helper()
	list, err := apiserver.Client.BatchV1().Jobs(namespace).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	out := map[string]int{}
	for _, j := range list.Items {
		require.Empty(t, j.Status.Conditions, "job %s", j.Name)
		out[j.Labels[kube.LabelUser]]++
	}
	return out
}

// outcomes counts the calls that went through and the quota refusals, and
// fails on any other error.
func outcomes(t *testing.T, errs []error) (ok, refused int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case fault.KindOf(err) == fault.TooMany:
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	return ok, refused
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Twelve distinct starts of one user at once, two allowed: exactly two Jobs,
// ten refusals. Once one of the two is gone, the next start goes through.
func TestQuotaPerUserUnderARace(t *testing.T) {
	for round := 0; round < rounds; round++ {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			cfg, client := namespace(t)
			ctx := context.Background()
			errs := race(cfg, client, 12, func(svc *runtimebuild.Service, i int) error {
				_, err := svc.Start(ctx, "alice", startOf("alice", fmt.Sprint("t", i)))
				return err
			})
			ok, refused := outcomes(t, errs)
			assert.Equal(t, 2, ok)
			assert.Equal(t, 10, refused)
			jobs := unfinishedJobs(t, cfg.Namespace)
			assert.Equal(t, map[string]int{"alice": 2}, jobs)

			// The quota holds once the race is over, and frees with the Jobs.
			svc := runtimebuild.NewService(client, cfg)
			_, err := svc.Start(ctx, "alice", startOf("alice", "late"))
			assert.Equal(t, fault.TooMany, fault.KindOf(err), "%v", err)
			deleteOneJob(t, cfg.Namespace)
			_, err = svc.Start(ctx, "alice", startOf("alice", "late"))
			assert.NoError(t, err, "a place is free again")
			assert.Equal(t, map[string]int{"alice": 2}, unfinishedJobs(t, cfg.Namespace))
		})
	}
}

// Six users with three builds each race for a platform limit of five:
// exactly five Jobs, at most two of any user.
func TestQuotaGlobalUnderARace(t *testing.T) {
	const users, each = 6, 3
	for round := 0; round < rounds; round++ {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			cfg, client := namespace(t)
			cfg.MaxActiveBuilds = 5
			ctx := context.Background()
			errs := race(cfg, client, users*each, func(svc *runtimebuild.Service, i int) error {
				user := fmt.Sprint("user", i%users)
				_, err := svc.Start(ctx, user, startOf(user, fmt.Sprint("t", i)))
				return err
			})
			ok, refused := outcomes(t, errs)
			assert.Equal(t, 5, ok)
			assert.Equal(t, users*each-5, refused)
			jobs := unfinishedJobs(t, cfg.Namespace)
			assert.Equal(t, 5, total(jobs))
			for user, n := range jobs {
				assert.LessOrEqual(t, n, 2, user)
			}
		})
	}
}

// Identical starts share one place and make one Job, beside racing
// distinct starts of the same user: two builds in all, whatever the order.
func TestQuotaIdenticalStartsUnderARace(t *testing.T) {
	for round := 0; round < rounds; round++ {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			cfg, client := namespace(t)
			ctx := context.Background()
			names := make([]string, 12)
			errs := race(cfg, client, 12, func(svc *runtimebuild.Service, i int) error {
				tag := "same"
				if i%3 == 0 {
					tag = fmt.Sprint("other", i)
				}
				started, err := svc.Start(ctx, "alice", startOf("alice", tag))
				names[i] = started.JobName
				return err
			})
			outcomes(t, errs)
			identical := map[string]bool{}
			for i, err := range errs {
				if i%3 != 0 && err == nil {
					identical[names[i]] = true
				}
			}
			assert.LessOrEqual(t, len(identical), 1, "identical starts name one Job: %v", identical)
			assert.Equal(t, map[string]int{"alice": 2}, unfinishedJobs(t, cfg.Namespace))
		})
	}
}

// deleteOneJob deletes one build Job of the namespace, as cancel does.
func deleteOneJob(t *testing.T, namespace string) {
	t.Helper()
	ctx := context.Background()
	list, err := apiserver.Client.BatchV1().Jobs(namespace).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	require.NotEmpty(t, list.Items)
	bg := metav1.DeletePropagationBackground
	require.NoError(t, apiserver.Client.BatchV1().Jobs(namespace).Delete(ctx, list.Items[0].Name, metav1.DeleteOptions{PropagationPolicy: &bg}))
	eventually(t, "the job is gone", func() bool {
		_, err := apiserver.Client.BatchV1().Jobs(namespace).Get(ctx, list.Items[0].Name, metav1.GetOptions{})
		return err != nil
	})
}

// A start of a build whose Job succeeded is answered with that Job (read by
// name, or found by the create) and holds no place, so the user's one place
// stays free. The list of a record not yet complete leaves the succeeded
// builds out (the API server applies status.successful=0).
func TestStartOfASucceededBuildHoldsNoPlace(t *testing.T) {
	cfg, client := namespace(t)
	cfg.MaxActiveBuildsPerUser = 1
	ctx := context.Background()
	svc := runtimebuild.NewService(client, cfg)
	first, err := svc.Start(ctx, "alice", startOf("alice", "same"))
	require.NoError(t, err)
	// The same build, succeeded: its Job made again as finished.
	deleteOneJob(t, cfg.Namespace)
	done := finishedJob(t, cfg, "alice", first.ID, batchv1.JobComplete, time.Now())
	require.Equal(t, first.JobName, done.Name)
	listed, err := apiserver.Client.BatchV1().Jobs(cfg.Namespace).List(ctx, metav1.ListOptions{FieldSelector: "status.successful=0"})
	require.NoError(t, err)
	require.Empty(t, listed.Items, "the API server leaves the succeeded Job out")

	again, err := svc.Start(ctx, "alice", startOf("alice", "same"))
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, first.JobName, again.JobName)
	_, err = svc.Start(ctx, "alice", startOf("alice", "other"))
	assert.NoError(t, err, "the place reserved for the succeeded build was given back")
}

// Unfinished build Jobs made without a reservation (by a deployer that
// kept none, or by hand) count: the first decision on a new record lists
// the Jobs that have not succeeded and gives each unfinished one a
// reservation. Later decisions read only the reserved Jobs, by name, and a
// reserved Job deleted out of band frees its place. A record deleted by
// hand is rebuilt the same way.
func TestQuotaAdoptsJobsMadeWithoutAReservation(t *testing.T) {
	cfg, client := namespace(t)
	ctx := context.Background()
	legacy := finishedJob(t, cfg, "alice", testkube.ID('1'), "", time.Now())
	finishedJob(t, cfg, "alice", testkube.ID('2'), batchv1.JobFailed, time.Now())
	svc := runtimebuild.NewService(client, cfg)

	_, err := svc.Start(ctx, "alice", startOf("alice", "t1"))
	require.NoError(t, err, "the running Job made without a reservation holds one of two places")
	record, err := apiserver.Client.CoreV1().ConfigMaps(cfg.Namespace).Get(ctx, runtimebuild.QuotaRecord, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, record.Data, legacy.Name, "adopted")
	_, err = svc.Start(ctx, "alice", startOf("alice", "t2"))
	assert.Equal(t, fault.TooMany, fault.KindOf(err), "%v", err)

	bg := metav1.DeletePropagationBackground
	require.NoError(t, apiserver.Client.BatchV1().Jobs(cfg.Namespace).Delete(ctx, legacy.Name, metav1.DeleteOptions{PropagationPolicy: &bg}))
	_, err = svc.Start(ctx, "alice", startOf("alice", "t2"))
	require.NoError(t, err, "the adopted Job, deleted, holds no place")

	require.NoError(t, apiserver.Client.CoreV1().ConfigMaps(cfg.Namespace).Delete(ctx, runtimebuild.QuotaRecord, metav1.DeleteOptions{}))
	_, err = svc.Start(ctx, "alice", startOf("alice", "t3"))
	assert.Equal(t, fault.TooMany, fault.KindOf(err), "the running t1 and t2 are found again: %v", err)
}
