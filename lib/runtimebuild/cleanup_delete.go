package runtimebuild

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// cleanupWorkers bounds the deletes of a cleanup in flight. One at a time,
// thousands of Jobs cost a round trip each, in sequence; a few at a time,
// the client's rate limit and the API server set the pace, and the API
// server never sees more than this many of the cleanup's requests at once.
// A delete waits on etcd more than on the API server's CPU: on 2 cores,
// 5,000 Jobs took 15.9 s with 8 in flight, 12.0 s with 16, 9.1 s with 32
// (go run ./dev/cmd/cleanupbench -jobs 5000 -calls 0); a page of 500 makes
// 32 workers at most (deletesPerWorker).
const cleanupWorkers = 32

// deletesPerWorker: a worker is added per this many Jobs. A user's own few
// old builds are deleted one at a time, as quickly, and an API server that
// stops answering then costs them one timeout, not several.
const deletesPerWorker = 16

// errNotTried marks a Job whose delete was not begun: the API server had
// stopped answering another.
var errNotTried = errors.New("not tried: the API server stopped answering")

// deleteJobs deletes jobs (see deleteJob), a few at a time, and returns each
// one's error, in the order of jobs. Once a delete finds the API server
// unavailable, the deletes not yet begun are not (errNotTried).
func deleteJobs(ctx context.Context, client kubernetes.Interface, jobs []*batchv1.Job) []error {
	errs := make([]error, len(jobs))
	todo := make(chan int, len(jobs))
	for i := range jobs {
		todo <- i
	}
	close(todo)
	var down atomic.Bool
	var wg sync.WaitGroup
	for range min(cleanupWorkers, (len(jobs)+deletesPerWorker-1)/deletesPerWorker) {
		wg.Go(func() {
			for i := range todo {
				if down.Load() {
					errs[i] = errNotTried
					continue
				}
				errs[i] = deleteJob(ctx, client, jobs[i])
				if errs[i] != nil && fault.KindOf(kube.Error(errs[i], "deleting build job")) == fault.Unavailable {
					down.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return errs
}
