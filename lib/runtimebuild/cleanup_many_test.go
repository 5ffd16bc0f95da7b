package runtimebuild

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
)

// manyJobs are old finished build Jobs of ten users, Complete and Failed in
// turn, and recent ones that must stay.
func manyJobs(old, recent int) []runtime.Object {
	var objs []runtime.Object
	for i := range old + recent {
		cond, at := batchv1.JobComplete, cleanupNow.Add(-48*time.Hour)
		if i%2 == 1 {
			cond = batchv1.JobFailed
		}
		if i >= old {
			at = cleanupNow.Add(-time.Hour)
		}
		objs = append(objs, buildJob(fmt.Sprintf("build-%05d", i), fmt.Sprintf("user%d", i%10), cond, at))
	}
	return objs
}

// pageJobs makes the fake list Jobs as the API server does with Limit and
// Continue: in name order, resuming after the last name of the page before,
// so Jobs deleted in between do not shift the pages. It records each list's
// options.
func pageJobs(client *fake.Clientset, lists *[]metav1.ListOptions) {
	client.PrependReactor("list", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		l := a.(k8stesting.ListActionImpl)
		opts := l.ListOptions
		*lists = append(*lists, opts)
		sel, err := labels.Parse(opts.LabelSelector)
		if err != nil {
			return true, nil, err
		}
		obj, err := client.Tracker().List(batchv1.SchemeGroupVersion.WithResource("jobs"), batchv1.SchemeGroupVersion.WithKind("Job"), l.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		all := obj.(*batchv1.JobList).Items
		sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
		page := &batchv1.JobList{}
		for _, j := range all {
			if j.Name <= opts.Continue || !sel.Matches(labels.Set(j.Labels)) {
				continue
			}
			if opts.Limit > 0 && int64(len(page.Items)) == opts.Limit {
				page.Continue = page.Items[len(page.Items)-1].Name
				break
			}
			page.Items = append(page.Items, j)
		}
		return true, page, nil
	})
}

func TestCleanupListsInPagesAndDeletesEveryOldJob(t *testing.T) {
	client := fake.NewClientset(manyJobs(1200, 10)...)
	var lists []metav1.ListOptions
	pageJobs(client, &lists)
	s := NewService(client, config.Config{Namespace: "builds"}, WithClock(func() time.Time { return cleanupNow }))

	n, err := s.Cleanup(context.Background(), "", true, 24*time.Hour)
	require.NoError(t, err)
	assert.Equal(t, 1200, n)

	require.Len(t, lists, 3, "1,210 Jobs in pages of %d", listPage)
	for i, opts := range lists {
		assert.Equal(t, int64(listPage), opts.Limit, "list %d", i)
	}
	assert.Empty(t, lists[0].Continue)
	assert.NotEmpty(t, lists[2].Continue)

	deletes := 0
	for _, a := range client.Actions() {
		if a.Matches("delete", "jobs") {
			deletes++
			opts := a.(k8stesting.DeleteAction).GetDeleteOptions()
			require.NotNil(t, opts.PropagationPolicy)
			assert.Equal(t, metav1.DeletePropagationBackground, *opts.PropagationPolicy)
			require.NotNil(t, opts.Preconditions)
			assert.NotNil(t, opts.Preconditions.UID)
		}
	}
	assert.Equal(t, 1200, deletes, "one delete per old Job, none twice")
	left, err := client.BatchV1().Jobs("builds").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, left.Items, 10, "the recent Jobs stay")
}

// Many Jobs are deleted a few at a time; once the API server stops
// answering, no further delete begins, and the error says what was done.
func TestCleanupOfManyStopsWhenTheAPIServerStopsAnswering(t *testing.T) {
	const answered = 20
	client := fake.NewClientset(manyJobs(200, 0)...)
	deletes := 0 // the fake runs one reactor at a time
	client.PrependReactor("delete", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		deletes++
		if deletes > answered {
			return true, nil, errors.New("net/http: request canceled (Client.Timeout exceeded while awaiting headers)")
		}
		return false, nil, nil
	})
	s := NewService(client, config.Config{Namespace: "builds"}, WithClock(func() time.Time { return cleanupNow }))

	n, err := s.Cleanup(context.Background(), "", true, 24*time.Hour)
	assert.Equal(t, answered, n)
	fe := fault.As(err)
	require.NotNil(t, fe)
	assert.Equal(t, fault.Unavailable, fe.Kind)
	assert.Equal(t, answered, fe.Details["deleted"])
	// Each other worker may have begun one delete before the first timeout was seen.
	assert.LessOrEqual(t, deletes, answered+cleanupWorkers)
	failed, ok := fe.Details["failed"].([]CleanupFailure)
	require.True(t, ok)
	assert.Len(t, failed, deletes-answered, "every delete that timed out is named, no other")
}
