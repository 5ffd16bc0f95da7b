package runtimebuild

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/apache/openserverless-deployer/lib/config"
)

func TestKeptCounts(t *testing.T) {
	assert.Empty(t, decodeKept(""))
	assert.Empty(t, decodeKept("{not json"), "unknown: the next starts list")
	assert.Equal(t, keptCounts{"bob": {N: 2, At: 7}}, decodeKept(`{"alice":{"n":-5,"at":1},"bob":{"n":2,"at":7}}`),
		"a negative count is unknown, never a licence to skip the list")

	k := keptCounts{"alice": {N: 3}}
	now := time.Unix(100, 0)
	assert.False(t, k.add("alice", 3, now), "3 Jobs, at most 3 finished: nothing to prune")
	assert.Equal(t, keptCount{N: 4, At: 100}, k["alice"])
	assert.True(t, k.add("alice", 3, now), "4 Jobs: maybe 4 finished")
	assert.Equal(t, keptCount{N: 4, At: 100}, k["alice"], "the list sets it")
	assert.True(t, k.add("bob", 3, now), "unknown")
	assert.NotContains(t, k, "bob")

	many := keptCounts{}
	for i := range keptUsers + 3 {
		many[fmt.Sprintf("u%04d", i)] = keptCount{N: 1, At: int64(keptUsers + 3 - i)}
	}
	v, err := many.encode()
	require.NoError(t, err)
	back := decodeKept(v)
	assert.Len(t, back, keptUsers)
	for i := range 3 {
		assert.Contains(t, back, fmt.Sprintf("u%04d", i), "changed last, kept")
		assert.NotContains(t, back, fmt.Sprintf("u%04d", keptUsers+i), "changed first, forgotten")
	}
}

// userLists counts the lists of alice's own Jobs since the last call.
func (e *startEnv) userLists() int {
	n := 0
	for _, l := range e.jobLists() {
		if l == ofUser("alice")+" | " {
			n++
		}
	}
	e.client.ClearActions()
	return n
}

// A start lists its user's Jobs, to prune them, only when the record does
// not know the user or says the user may be over max_kept_builds_per_user:
// with 10 kept, a user lists on the first start, then once the 11th Job
// may be finished, and then once in three builds (the pruning keeps 8
// finished, a fifth below the bound, beside the new one). Jobs deleted out
// of band leave the count high, which costs one list sooner, and the list
// sets it right.
func TestStartListsTheUsersJobsOnlyPastTheBound(t *testing.T) {
	e := newStartEnv(t, func(c *config.Config) {
		c.MaxKeptBuildsPerUser = 10
		c.MaxActiveBuildsPerUser = 2
	}, registrySecret("builds"))
	e.collectGarbage(t)
	start := func(i int) string {
		r := e.request("")
		r.Target = fmt.Sprintf("alice:t%d", i)
		got, err := e.svc.Start(context.Background(), "alice", r)
		require.NoError(t, err)
		e.markJob(t, got.ID, func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(startNow.Add(time.Duration(i) * time.Second))}}
		})
		return got.JobName
	}
	var lists []int
	for i := range 16 {
		start(i)
		lists = append(lists, e.userLists())
	}
	assert.Equal(t, []int{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0}, lists)
	assert.Len(t, e.jobs(t), 10, "8 kept and the one that pruned them, and one more")
	assert.Equal(t, 10, e.state(t).kept["alice"].N)

	// Out of band, every Job goes: the count says 10, so the next start
	// does not list; the one after lists, and counts the 2 it sees.
	for _, j := range e.jobs(t) {
		require.NoError(t, e.client.BatchV1().Jobs("builds").Delete(context.Background(), j.Name, metav1.DeleteOptions{}))
	}
	e.client.ClearActions()
	lists = nil
	for i := 16; i < 19; i++ {
		start(i)
		lists = append(lists, e.userLists())
	}
	assert.Equal(t, []int{0, 1, 0}, lists)
	assert.Equal(t, 3, e.state(t).kept["alice"].N)
	assert.Len(t, e.jobs(t), 3)
}

// A reservation of the user's made after the pruning's list (a Job
// created meanwhile) is counted; one confirmed for a Job the list showed
// is not counted twice.
func TestNoteKeptCountsTheReservationsTheListDidNotShow(t *testing.T) {
	e := newStartEnv(t, nil, recordOf(t, quotaState{complete: true, entries: reservations{
		"listed":      {User: "alice", UID: "uid-listed"},
		"pruned":      {User: "alice", UID: "uid-pruned"},
		"after":       {User: "alice", UID: "uid-after"},
		"unconfirmed": {User: "alice", Holders: 1, Expires: startNow.Add(time.Minute)},
		"bobs":        {User: "bob", UID: "uid-bobs"},
	}}))
	left := map[string]bool{"listed": true, "other": true}
	listed := map[string]types.UID{"listed": "uid-listed", "other": "uid-other", "pruned": "uid-pruned"}
	require.NoError(t, e.svc.noteKept(context.Background(), "builds", "alice", left, listed))
	assert.Equal(t, 4, e.state(t).kept["alice"].N, "listed, other, after, unconfirmed")
}
