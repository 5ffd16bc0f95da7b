package runtimebuild

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

// isQuotaRecord reports whether obj is the quota record.
func isQuotaRecord(obj runtime.Object) bool {
	cm, ok := obj.(*corev1.ConfigMap)
	return ok && cm.Name == QuotaRecord
}

// quotaRecord builds a complete quota record holding entries.
func quotaRecord(t *testing.T, entries reservations) *corev1.ConfigMap {
	t.Helper()
	return recordOf(t, quotaState{entries: entries, complete: true})
}

// recordOf builds the quota record holding st.
func recordOf(t *testing.T, st quotaState) *corev1.ConfigMap {
	t.Helper()
	cm := newRecord("builds")
	require.NoError(t, encodeRecord(cm, st))
	return cm
}

// state reads the quota record.
func (e *startEnv) state(t *testing.T) quotaState {
	t.Helper()
	cm, err := e.client.CoreV1().ConfigMaps("builds").Get(context.Background(), QuotaRecord, metav1.GetOptions{})
	require.NoError(t, err)
	return decodeRecord(cm)
}

// record reads the quota record's reservations.
func (e *startEnv) record(t *testing.T) reservations {
	t.Helper()
	return e.state(t).entries
}

func TestPrune(t *testing.T) {
	deleting := activeJob("deleting", "alice")
	deleting.DeletionTimestamp = &metav1.Time{Time: startNow}
	jobs := map[string]*batchv1.Job{}
	for _, j := range []*batchv1.Job{
		activeJob("running", "alice"),
		doneJob("complete", "alice", batchv1.JobComplete),
		doneJob("failed", "alice", batchv1.JobFailed),
		deleting,
	} {
		jobs[j.Name] = j
	}
	later := startNow.Add(time.Minute)
	earlier := startNow.Add(-time.Second)
	tests := []struct {
		name string
		job  string
		r    reservation
		keep bool
	}{
		{"confirmed, its Job running", "running", reservation{UID: "uid-running"}, true},
		{"confirmed, its Job complete", "complete", reservation{UID: "uid-complete"}, false},
		{"confirmed, its Job failed", "failed", reservation{UID: "uid-failed"}, false},
		{"confirmed, its Job being deleted", "deleting", reservation{UID: "uid-deleting"}, false},
		{"confirmed, its Job gone", "gone", reservation{UID: "uid-gone"}, false},
		{"confirmed, its name another Job's", "running", reservation{UID: "uid-before"}, false},
		{"unconfirmed, no Job yet", "gone", reservation{Expires: later}, true},
		{"unconfirmed, expired, no Job", "gone", reservation{Expires: earlier}, false},
		{"unconfirmed, expired, a Job of its name running", "running", reservation{Expires: earlier}, true},
		{"unconfirmed, expired, a Job of its name finished", "complete", reservation{Expires: earlier}, false},
		{"unconfirmed, an old Job of its name finished", "complete", reservation{Expires: later}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := reservations{tt.job: tt.r, "other": {Expires: later}}
			dropped := prune(entries, jobs, startNow)
			_, kept := entries[tt.job]
			assert.Equal(t, tt.keep, kept)
			assert.Equal(t, !tt.keep, dropped)
			assert.Contains(t, entries, "other")
		})
	}
}

func TestCount(t *testing.T) {
	entries := reservations{
		"a1": {User: "alice", UID: "uid-a1"},
		"a4": {User: "alice"}, // its Job not created yet
		"c1": {User: "carol"},
	}
	mine, all := count(entries, "alice")
	assert.Equal(t, 2, mine)
	assert.Equal(t, 3, all)
}

// A record that is not complete is decided on from the list of the build
// Jobs that have not succeeded: the unfinished ones no reservation names
// get one of their own, the finished and the deleting ones none, and the
// record is marked complete. A list of a complete record adopts nothing.
func TestReconcileAdopts(t *testing.T) {
	deleting := activeJob("deleting", "bob")
	deleting.DeletionTimestamp = &metav1.Time{Time: startNow}
	jobs := map[string]*batchv1.Job{}
	for _, j := range []*batchv1.Job{
		activeJob("a1", "alice"), activeJob("b1", "bob"), doneJob("b2", "bob", batchv1.JobFailed), deleting,
	} {
		jobs[j.Name] = j
	}
	later := startNow.Add(time.Minute)
	st := quotaState{entries: reservations{
		"a1": {User: "alice", UID: "uid-a1"},
		"a9": {User: "alice", Expires: later, Holders: 1}, // its Job not created yet
	}}
	assert.True(t, reconcile(&st, seenJobs{jobs: jobs, listed: true}, startNow))
	assert.True(t, st.complete)
	assert.Equal(t, reservations{
		"a1": {User: "alice", UID: "uid-a1"},
		"a9": {User: "alice", Expires: later, Holders: 1},
		"b1": {User: "bob", UID: "uid-b1"},
	}, st.entries)

	// Complete already: the same list changes nothing.
	assert.False(t, reconcile(&st, seenJobs{jobs: jobs, listed: true}, startNow))
	// Read by name: a Job no reservation names is never adopted.
	st = quotaState{entries: reservations{}, complete: true}
	assert.False(t, reconcile(&st, seenJobs{jobs: jobs}, startNow))
	assert.Empty(t, st.entries)
}

// An entry that does not decode makes the record incomplete: the next
// decision lists the Jobs again.
func TestDecodeRecord(t *testing.T) {
	cm := quotaRecord(t, reservations{"a1": {User: "alice", UID: "uid-a1"}})
	st := decodeRecord(cm)
	assert.True(t, st.complete)
	assert.Equal(t, reservations{"a1": {User: "alice", UID: "uid-a1"}}, st.entries)

	cm.Data["a2"] = "not json"
	st = decodeRecord(cm)
	assert.False(t, st.complete)
	assert.Equal(t, reservations{"a1": {User: "alice", UID: "uid-a1"}}, st.entries)

	require.NoError(t, encodeRecord(cm, st))
	assert.NotContains(t, cm.Annotations, annotationComplete)
	assert.NotContains(t, cm.Data, "a2")
}

// Concurrent starts are ordered by the record's resourceVersion: a start
// whose update conflicts with a rival's reservation reads the record again,
// counts the rival, and is refused without creating anything.
func TestStartQuotaRace(t *testing.T) {
	e := newStartEnv(t, func(c *config.Config) { c.MaxActiveBuildsPerUser = 1 }, registrySecret("builds"))
	rival := reservation{User: "alice", Expires: startNow.Add(time.Minute), Holders: 1}
	raced := false
	e.client.PrependReactor("update", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if raced {
			return false, nil, nil
		}
		raced = true
		gvr := corev1.SchemeGroupVersion.WithResource("configmaps")
		obj, err := e.client.Tracker().Get(gvr, "builds", QuotaRecord)
		require.NoError(t, err)
		cm := obj.(*corev1.ConfigMap).DeepCopy()
		b, _ := json.Marshal(rival)
		cm.Data = map[string]string{"build-alice-rival": string(b)}
		require.NoError(t, e.client.Tracker().Update(gvr, cm, "builds"))
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "configmaps"}, QuotaRecord, nil)
	})
	_, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.Error(t, err)
	assert.Equal(t, fault.TooMany, fault.KindOf(err))
	assert.True(t, raced)
	assert.Empty(t, e.jobs(t))
	assert.Equal(t, reservations{"build-alice-rival": rival}, e.record(t))
}

func TestStartConfirmsItsReservation(t *testing.T) {
	e := newStartEnv(t, nil, registrySecret("builds"))
	got, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	jobs := e.jobs(t)
	require.Len(t, jobs, 1)
	entries := e.record(t)
	require.Contains(t, entries, got.JobName)
	r := entries[got.JobName]
	assert.Equal(t, "alice", r.User)
	assert.Equal(t, jobs[0].UID, r.UID)
	assert.Equal(t, 1, r.Holders)
	assert.Equal(t, startNow.Add(maxActivation+apiServerTimeout+clockSkew), r.Expires)
}

// A place held by a build that has ended, or by a create that never
// happened and expired, is taken back by the next start. The Pods of the
// running builds are read only when their Jobs leave the start over a
// limit (a refusal, or a build that pushed and frees a place).
func TestStartReclaimsFreedPlaces(t *testing.T) {
	tests := []struct {
		name    string
		jobs    []runtime.Object
		entries reservations
		refused bool
		pods    bool // read without a refusal
	}{
		{
			name:    "both builds finished",
			jobs:    []runtime.Object{doneJob("a1", "alice", batchv1.JobComplete), doneJob("a2", "alice", batchv1.JobFailed)},
			entries: reservations{"a1": {User: "alice", UID: "uid-a1"}, "a2": {User: "alice", UID: "uid-a2"}},
		},
		{
			name:    "both builds deleted",
			entries: reservations{"a1": {User: "alice", UID: "uid-a1"}, "a2": {User: "alice", UID: "uid-a2"}},
		},
		{
			name:    "a reservation expired without its Job",
			jobs:    []runtime.Object{activeJob("a1", "alice")},
			entries: reservations{"a1": {User: "alice", UID: "uid-a1"}, "a2": {User: "alice", Expires: startNow.Add(-time.Second)}},
		},
		{
			name:    "a reservation still awaits its Job",
			jobs:    []runtime.Object{activeJob("a1", "alice")},
			entries: reservations{"a1": {User: "alice", UID: "uid-a1"}, "a2": {User: "alice", Expires: startNow.Add(time.Second)}},
			refused: true,
		},
		{
			name:    "a build pushed, its Job not yet complete",
			jobs:    []runtime.Object{activeJob("a1", "alice"), activeJob("a2", "alice"), podOf("a2", 0, "sha256:"+strings.Repeat("ab", 32))},
			entries: reservations{"a1": {User: "alice", UID: "uid-a1"}, "a2": {User: "alice", UID: "uid-a2"}},
			pods:    true,
		},
		{
			name:    "a push failed, its Job not yet failed",
			jobs:    []runtime.Object{activeJob("a1", "alice"), activeJob("a2", "alice"), podOf("a2", 1, "")},
			entries: reservations{"a1": {User: "alice", UID: "uid-a1"}, "a2": {User: "alice", UID: "uid-a2"}},
			refused: true,
		},
		{
			name:    "the pushed Pod is another Job's of the same name",
			jobs:    []runtime.Object{activeJob("a1", "alice"), activeJob("a2", "alice"), podOfUID("a2", "uid-old", 0, "sha256:"+strings.Repeat("ab", 32))},
			entries: reservations{"a1": {User: "alice", UID: "uid-a1"}, "a2": {User: "alice", UID: "uid-a2"}},
			refused: true,
		},
		{
			name:    "both builds running",
			jobs:    []runtime.Object{activeJob("a1", "alice"), activeJob("a2", "alice")},
			entries: reservations{"a1": {User: "alice", UID: "uid-a1"}, "a2": {User: "alice", UID: "uid-a2"}},
			refused: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objects := append([]runtime.Object{registrySecret("builds"), quotaRecord(t, tt.entries)}, tt.jobs...)
			e := newStartEnv(t, nil, objects...)
			got, err := e.svc.Start(context.Background(), "alice", e.request(""))
			podLists := 0
			for _, a := range e.client.Actions() {
				if a.Matches("list", "pods") {
					podLists++
				}
			}
			assert.Equal(t, tt.refused || tt.pods, podLists == 1, "%d lists of Pods", podLists)
			if tt.refused {
				require.Error(t, err)
				assert.Equal(t, fault.TooMany, fault.KindOf(err))
				assert.Equal(t, tt.entries, e.record(t), "a refusal changes nothing")
				return
			}
			require.NoError(t, err)
			entries := e.record(t)
			assert.Contains(t, entries, got.JobName)
			mine, _ := count(entries, "alice")
			assert.LessOrEqual(t, mine, 2)
		})
	}
}

func TestStartReleasesItsReservationWhenTheCreateFails(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kept bool // the Job may have been created after all
	}{
		{"refused", errForbidden(), false},
		{"invalid", apierrors.NewInvalid(schema.GroupKind{Group: "batch", Kind: "Job"}, "x", nil), false},
		{"unavailable", errUnavailable(), true},
		{"timed out", apierrors.NewTimeoutError("slow", 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStartEnv(t, nil, registrySecret("builds"))
			e.client.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			_, err := e.svc.Start(context.Background(), "alice", e.request(""))
			require.Error(t, err)
			entries := e.record(t)
			if !tt.kept {
				assert.Empty(t, entries)
				return
			}
			require.Len(t, entries, 1)
			for _, r := range entries {
				assert.Empty(t, r.UID)
				assert.Equal(t, 1, r.Holders)
			}
		})
	}
}

// Identical requests share one reservation; it goes only when all of them
// failed to create the Job.
func TestIdenticalReservationsShareOnePlace(t *testing.T) {
	e := newStartEnv(t, func(c *config.Config) { c.MaxActiveBuildsPerUser = 1 }, registrySecret("builds"))
	p := buildjob.Plan{ID: "0123456789abcdef0123456789abcdef", User: "alice", Namespace: "builds"}
	reserve := func(p buildjob.Plan) error {
		ctx := context.Background()
		_, err := e.svc.reserveQuota(ctx, p, e.svc.readQuota(ctx, p.Namespace))
		return err
	}
	require.NoError(t, reserve(p))
	require.NoError(t, reserve(p), "the same build is no second place")
	other := p
	other.ID = "fedcba9876543210fedcba9876543210"
	assert.Equal(t, fault.TooMany, fault.KindOf(reserve(other)))
	require.Equal(t, 2, e.record(t)[p.JobName()].Holders)

	e.svc.releaseQuota(context.Background(), p, errForbidden())
	assert.Equal(t, 1, e.record(t)[p.JobName()].Holders)
	e.svc.releaseQuota(context.Background(), p, errForbidden())
	assert.Empty(t, e.record(t))
	assert.NoError(t, reserve(other))
}

// A Job created after its reservation expired was never counted: it is
// withdrawn.
func TestStartWithdrawsAJobWhoseReservationExpired(t *testing.T) {
	e := newStartEnv(t, nil, registrySecret("builds"))
	gvr := corev1.SchemeGroupVersion.WithResource("configmaps")
	e.client.PrependReactor("create", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		// Another caller prunes the reservation meanwhile.
		require.NoError(t, e.client.Tracker().Update(gvr, quotaRecord(t, reservations{}), "builds"))
		return false, nil, nil
	})
	_, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.Error(t, err)
	fe := fault.As(err)
	require.NotNil(t, fe)
	assert.Equal(t, "QuotaReservationLost", fe.Reason)
	assert.Empty(t, e.jobs(t))
}

func TestReservationExpiry(t *testing.T) {
	slack := apiServerTimeout + clockSkew
	soon, cancel := context.WithDeadline(context.Background(), startNow.Add(50*time.Second))
	defer cancel()
	late, cancel2 := context.WithDeadline(context.Background(), startNow.Add(time.Hour))
	defer cancel2()
	tests := []struct {
		name string
		ctx  context.Context
		want time.Time
	}{
		{"the activation's deadline", soon, startNow.Add(50*time.Second + slack)},
		{"no deadline", context.Background(), startNow.Add(maxActivation + slack)},
		{"a deadline past any activation", late, startNow.Add(maxActivation + slack)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, reservationExpiry(tt.ctx, startNow))
		})
	}
}

func TestRefused(t *testing.T) {
	gr := schema.GroupResource{Group: "batch", Resource: "jobs"}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"forbidden", errForbidden(), true},
		{"bad request", apierrors.NewBadRequest("no"), true},
		{"too many requests", apierrors.NewTooManyRequests("slow down", 1), true},
		{"conflict", apierrors.NewConflict(gr, "x", nil), false},
		{"server timeout", apierrors.NewServerTimeout(gr, "create", 1), false},
		{"unavailable", errUnavailable(), false},
		{"no answer", context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, refused(tt.err)) })
	}
}

// A cancelled build's place is free for the next start of a user at the
// limit: the reservation of a Job that is gone holds nothing.
func TestCancelGivesThePlaceBack(t *testing.T) {
	e := newStartEnv(t, func(c *config.Config) { c.MaxActiveBuildsPerUser = 1 }, registrySecret("builds"))
	first, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	second := e.request("")
	second.Target = "alice:py2"
	_, err = e.svc.Start(context.Background(), "alice", second)
	require.Equal(t, fault.TooMany, fault.KindOf(err), "the first build holds the only place")

	_, err = e.svc.Cancel(context.Background(), "alice", first.ID)
	require.NoError(t, err)
	_, err = e.svc.Start(context.Background(), "alice", second)
	assert.NoError(t, err)
}

// A start of a user the record knows reads the quota record once: the
// confirmation starts from the record as the reservation wrote it. When
// another caller wrote it in between, the confirmation's write conflicts
// and it reads again.
func TestStartReadsTheQuotaRecordOnce(t *testing.T) {
	known := func() *corev1.ConfigMap {
		return recordOf(t, quotaState{entries: reservations{}, complete: true, kept: keptCounts{"alice": {N: 3}}})
	}
	recordReads := func(e *startEnv) int {
		n := 0
		for _, a := range e.client.Actions() {
			if g, ok := a.(k8stesting.GetAction); ok && a.GetResource().Resource == "configmaps" && g.GetName() == QuotaRecord {
				n++
			}
		}
		return n
	}
	e := newStartEnv(t, nil, registrySecret("builds"), known())
	got, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.Equal(t, 1, recordReads(e))
	assert.Empty(t, e.jobLists(), "alice's 3 Jobs are under the bound")
	assert.NotEmpty(t, e.record(t)[got.JobName].UID, "confirmed")

	// Another caller writes the record while the Job is created.
	e = newStartEnv(t, nil, registrySecret("builds"), known())
	gvr := corev1.SchemeGroupVersion.WithResource("configmaps")
	e.client.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		cur, err := e.client.Tracker().Get(gvr, "builds", QuotaRecord)
		require.NoError(t, err)
		cm := cur.(*corev1.ConfigMap).DeepCopy()
		cm.ResourceVersion = "other"
		require.NoError(t, e.client.Tracker().Update(gvr, cm, "builds"))
		return false, nil, nil
	})
	got, err = e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.Equal(t, 2, recordReads(e), "the conflict made it read again")
	assert.NotEmpty(t, e.record(t)[got.JobName].UID, "confirmed")
}

// jobLists are the restrictions of the Job lists a test's calls made.
func (e *startEnv) jobLists() []string {
	var out []string
	for _, a := range e.client.Actions() {
		if l, ok := a.(k8stesting.ListAction); ok && a.GetResource().Resource == "jobs" {
			r := l.GetListRestrictions()
			out = append(out, r.Labels.String()+" | "+r.Fields.String())
		}
	}
	return out
}

// filterSucceeded makes the fake's Job lists honour the field selector
// status.successful=0, as the API server does; the fake itself ignores
// field selectors.
func (e *startEnv) filterSucceeded(t *testing.T) {
	t.Helper()
	gvr := batchv1.SchemeGroupVersion.WithResource("jobs")
	gvk := batchv1.SchemeGroupVersion.WithKind("Job")
	e.client.PrependReactor("list", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r := a.(k8stesting.ListAction).GetListRestrictions()
		obj, err := e.client.Tracker().List(gvr, gvk, a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		list := obj.(*batchv1.JobList)
		var kept []batchv1.Job
		for _, j := range list.Items {
			selectable := fields.Set{"status.successful": fmt.Sprint(j.Status.Succeeded)}
			if r.Labels.Matches(labels.Set(j.Labels)) && r.Fields.Matches(selectable) {
				kept = append(kept, j)
			}
		}
		list.Items = kept
		return true, list, nil
	})
}

// jobGets are the names of the Jobs a test's calls read one by one.
func (e *startEnv) jobGets() []string {
	var out []string
	for _, a := range e.client.Actions() {
		if g, ok := a.(k8stesting.GetAction); ok && a.GetResource().Resource == "jobs" {
			out = append(out, g.GetName())
		}
	}
	return out
}

// A quota decision on a complete record reads the Jobs its reservations
// name, each by name, and lists no build Job: only the pruning of kept
// builds lists, the user's own, when the record does not know the user.
// The first decision on a new record lists the build Jobs that have not
// succeeded, once, and adopts the unfinished ones made without a
// reservation, which then count.
func TestStartReadsOnlyTheReservedJobs(t *testing.T) {
	e := newStartEnv(t, func(c *config.Config) { c.MaxActiveBuildsPerUser = 2 },
		registrySecret("builds"), activeJob("build-alice-legacy", "alice"), doneJob("build-bob-old", "bob", batchv1.JobFailed))
	first, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		builds() + " | status.successful=0",
		ofUser("alice") + " | ",
	}, e.jobLists())
	st := e.state(t)
	assert.True(t, st.complete)
	assert.Equal(t, reservation{User: "alice", UID: "uid-build-alice-legacy"}, st.entries["build-alice-legacy"])
	assert.Contains(t, st.entries, first.JobName)
	assert.NotContains(t, st.entries, "build-bob-old")

	e.client.ClearActions()
	second := e.request("")
	second.Target = "alice:py2"
	_, err = e.svc.Start(context.Background(), "alice", second)
	assert.Equal(t, fault.TooMany, fault.KindOf(err), "the adopted Job holds a place: %v", err)
	assert.Empty(t, e.jobLists())
	gets := e.jobGets()
	assert.Len(t, gets, 3, "the reserved Jobs, then the refused build's own: %v", gets)
	assert.Subset(t, gets, []string{"build-alice-legacy", first.JobName})
}

// A start of a build whose Job succeeded before is answered with that Job,
// read by name as its reservation names it, and no place is held for it:
// its reservation is pruned, not kept until it expires.
func TestStartOfASucceededBuildGivesItsPlaceBack(t *testing.T) {
	e := newStartEnv(t, func(c *config.Config) { c.MaxActiveBuildsPerUser = 1 }, registrySecret("builds"))
	e.filterSucceeded(t)
	first, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	e.markJob(t, first.ID, func(j *batchv1.Job) {
		j.Status.Succeeded = 1
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	})

	again, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.Equal(t, first.JobName, again.JobName)
	assert.True(t, again.Existing, "answered with the Job that exists")
	assert.NotContains(t, e.record(t), first.JobName, "no place held for a build that ended")

	// The one place alice has is free: another build goes through.
	other := e.request("")
	other.Target = "alice:other"
	_, err = e.svc.Start(context.Background(), "alice", other)
	assert.NoError(t, err)
}

// A start of a build whose Job ended is answered with that Job even when
// the user has no place left: it needs none.
func TestStartOverTheLimitAnswersItsEndedJob(t *testing.T) {
	e := newStartEnv(t, func(c *config.Config) { c.MaxActiveBuildsPerUser = 1 }, registrySecret("builds"))
	first, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	e.markJob(t, first.ID, func(j *batchv1.Job) {
		j.Status.Failed = 1
		j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	})
	other := e.request("")
	other.Target = "alice:other"
	_, err = e.svc.Start(context.Background(), "alice", other)
	require.NoError(t, err, "the failed build's place is free")

	again, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, first.JobName, again.JobName)
	assert.Len(t, e.jobs(t), 2)
	assert.NotContains(t, e.record(t), first.JobName)
}

// A reserved Job that cannot be read stops a decision at the limit: it may
// hold a place.
func TestStartFailsWhenAReservedJobCannotBeRead(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantKind fault.Kind
	}{
		{"refused", errForbidden(), fault.Internal},
		{"unavailable", errUnavailable(), fault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := reservations{"a1": {User: "alice", UID: "uid-a1"}}
			e := newStartEnv(t, func(c *config.Config) { c.MaxActiveBuildsPerUser = 1 },
				registrySecret("builds"), quotaRecord(t, entries), activeJob("a1", "alice"))
			e.client.PrependReactor("get", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			_, err := e.svc.Start(context.Background(), "alice", e.request(""))
			require.Error(t, err)
			assert.Equal(t, tt.wantKind, fault.KindOf(err), "kind of %v", err)
			assert.Empty(t, e.creates())
			assert.Equal(t, entries, e.record(t))
		})
	}
}

// A start that the reservations as they stand leave under both limits
// reads no Job: a reservation whose Job has ended only counts a place too
// many. One that they would refuse reads the reserved Jobs and prunes
// those that hold no place before it counts again.
func TestStartReadsJobsOnlyAtALimit(t *testing.T) {
	entries := reservations{"build-bob-gone": {User: "bob", UID: "uid-gone"}, "b1": {User: "bob", UID: "uid-b1"}}
	e := newStartEnv(t, func(c *config.Config) { c.MaxActiveBuilds = 3 },
		registrySecret("builds"), quotaRecord(t, entries), activeJob("b1", "bob"))
	first, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.Empty(t, e.jobGets(), "under the limits")
	assert.Contains(t, e.record(t), "build-bob-gone", "not read, not pruned")

	e.client.ClearActions()
	second := e.request("")
	second.Target = "alice:py2"
	_, err = e.svc.Start(context.Background(), "alice", second)
	require.NoError(t, err, "the place of the Job that is gone is free")
	assert.ElementsMatch(t, []string{"build-bob-gone", "b1", first.JobName}, e.jobGets())
	assert.NotContains(t, e.record(t), "build-bob-gone")
	assert.Len(t, e.record(t), 3)
}

// podOf is the ended Pod of Job job, whose push step exited with code
// after writing message.
func podOf(job string, code int32, message string) *corev1.Pod {
	return podOfUID(job, "uid-"+job, code, message)
}

func podOfUID(job, uid string, code int32, message string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: job + "-x1", Namespace: "builds",
			Labels:          map[string]string{batchv1.JobNameLabel: job},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job, UID: types.UID(uid), Controller: ptr.To(true)}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: buildjob.StepPush, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Message: message}},
		}}},
	}
}
