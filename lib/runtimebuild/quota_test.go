package runtimebuild

import (
	"context"
	"encoding/json"
	"fmt"
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
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
)

// isQuotaRecord reports whether obj is the quota record.
func isQuotaRecord(obj runtime.Object) bool {
	cm, ok := obj.(*corev1.ConfigMap)
	return ok && cm.Name == QuotaRecord
}

// quotaRecord builds a quota record holding entries.
func quotaRecord(t *testing.T, entries reservations) *corev1.ConfigMap {
	t.Helper()
	cm := newRecord("builds")
	data, err := encodeRecord(entries)
	require.NoError(t, err)
	cm.Data = data
	return cm
}

// record reads the quota record's reservations.
func (e *startEnv) record(t *testing.T) reservations {
	t.Helper()
	cm, err := e.client.CoreV1().ConfigMaps("builds").Get(context.Background(), QuotaRecord, metav1.GetOptions{})
	require.NoError(t, err)
	return decodeRecord(cm)
}

func TestPrune(t *testing.T) {
	deleting := activeJob("deleting", "alice")
	deleting.DeletionTimestamp = &metav1.Time{Time: startNow}
	jobs := []batchv1.Job{
		*activeJob("running", "alice"),
		*doneJob("complete", "alice", batchv1.JobComplete),
		*doneJob("failed", "alice", batchv1.JobFailed),
		*deleting,
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
	jobs := []batchv1.Job{
		*activeJob("a1", "alice"), // reserved: counted once
		*activeJob("a2", "alice"), // made without a reservation: counted from the list
		*activeJob("b1", "bob"),
		*doneJob("a3", "alice", batchv1.JobComplete),
	}
	entries := reservations{
		"a1": {User: "alice", UID: "uid-a1"},
		"a4": {User: "alice"}, // its Job not created yet
		"c1": {User: "carol"},
	}
	mine, all := count(entries, jobs, "alice")
	assert.Equal(t, 3, mine)
	assert.Equal(t, 5, all)
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
// happened and expired, is taken back by the next start.
func TestStartReclaimsFreedPlaces(t *testing.T) {
	tests := []struct {
		name    string
		jobs    []runtime.Object
		entries reservations
		refused bool
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
			if tt.refused {
				require.Error(t, err)
				assert.Equal(t, fault.TooMany, fault.KindOf(err))
				assert.Equal(t, tt.entries, e.record(t), "a refusal changes nothing")
				return
			}
			require.NoError(t, err)
			entries := e.record(t)
			assert.Contains(t, entries, got.JobName)
			mine, _ := count(entries, e.jobs(t), "alice")
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
		_, err := e.svc.reserveQuota(ctx, p, e.svc.readQuota(ctx, p.Namespace, p.User))
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

// A start reads the quota record once: the confirmation starts from the
// record as the reservation wrote it. When another caller wrote it in
// between, the confirmation's write conflicts and it reads again.
func TestStartReadsTheQuotaRecordOnce(t *testing.T) {
	recordReads := func(e *startEnv) int {
		n := 0
		for _, a := range e.client.Actions() {
			if g, ok := a.(k8stesting.GetAction); ok && a.GetResource().Resource == "configmaps" && g.GetName() == QuotaRecord {
				n++
			}
		}
		return n
	}
	e := newStartEnv(t, nil, registrySecret("builds"))
	got, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.Equal(t, 1, recordReads(e))
	assert.NotEmpty(t, e.record(t)[got.JobName].UID, "confirmed")

	// Another caller writes the record while the Job is created.
	e = newStartEnv(t, nil, registrySecret("builds"))
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

// A quota decision reads the build Jobs that have not succeeded, not every
// kept build; the pruning of kept builds lists the user's own.
func TestStartListsNoSucceededJobForItsQuota(t *testing.T) {
	e := newStartEnv(t, nil, registrySecret("builds"))
	_, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		builds() + " | status.successful=0",
		ofUser("alice") + " | ",
	}, e.jobLists())
}

// A start of a build whose Job succeeded before is answered with that Job,
// which the quota's list no longer shows: the create finds it, and the
// place reserved for it is given back at once, not held until it expires.
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
