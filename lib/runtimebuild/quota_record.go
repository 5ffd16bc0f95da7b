package runtimebuild

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
)

// QuotaRecord is the ConfigMap, in the build namespace, that holds the
// quota reservations: one data key per build Job name, its value a JSON
// reservation. Every change is an update at the resourceVersion it was read
// at, so the API server puts concurrent quota decisions in one order.
const QuotaRecord = "runtime-builder-quota"

// quotaComponent marks the quota record (it is no build: builds()
// must not select it).
const quotaComponent = "runtime-builder-quota"

// reservation holds a place under the quotas for one build Job: from before
// the Job is created (so a racing creator counts it before the API server
// shows it) until the Job is seen finished or gone.
type reservation struct {
	User string `json:"user"`
	// UID is the Job's, written once the Job exists ("confirmed"). A
	// confirmed reservation ends when that Job is finished, being deleted,
	// or gone (cancel, cleanup, the TTL, a retry's delete).
	UID types.UID `json:"uid,omitempty"`
	// Expires bounds an unconfirmed reservation: its creator can no longer
	// get the Job created after it (see reservationExpiry).
	Expires time.Time `json:"expires"`
	// Holders counts the unconfirmed reservation's creators: identical
	// requests share it, and it is released when all failed to create.
	Holders int `json:"holders"`
}

// reservations are the record's entries by Job name.
type reservations map[string]reservation

// quotaState is what the record holds: the reservations, and whether they
// name every unfinished build Job (complete), which is what lets a quota
// decision read only the Jobs they name. A record is complete once a
// decision has listed the build Jobs and adopted those it did not name
// (see adopt); one made anew, or by a deployer that counted unreserved
// Jobs from a list, is not.
type quotaState struct {
	entries  reservations
	complete bool
	// kept bounds each user's build Jobs, for the pruning of kept builds
	// (kept_count.go).
	kept keptCounts
}

// annotationComplete marks a complete record. An annotation, not a data
// key: a deployer that reads every data key as a reservation keeps it as
// it updates the record.
const annotationComplete = "openserverless.apache.org/reservations-complete"

// recordAttempts bounds the optimistic updates of one change. Each conflict
// means another caller's change went in, so this many means the record is
// busier than the quotas it guards could ever make it.
const recordAttempts = 100

// errRecordBusy means a change lost recordAttempts races in a row.
var errRecordBusy = errors.New("the quota record kept changing")

// updateRecord reads the quota record (creating it when missing), lets
// change edit its state, and writes it back at the
// resourceVersion read, reading again and redoing the change after a
// conflict. The first attempt starts from known instead when there is one:
// the record as this request read or wrote it last, which saves a read
// when no one else wrote since and costs a conflict when someone did.
// change returns whether there is anything to write; it runs after the
// read, so what it reads from the API server is never older than the
// record it decides on. It returns the record as written, nil when change
// wrote nothing.
func (s *Service) updateRecord(ctx context.Context, namespace string, known *corev1.ConfigMap, change func(*quotaState) (bool, error)) (*corev1.ConfigMap, error) {
	cms := s.client.CoreV1().ConfigMaps(namespace)
	for attempt := 0; attempt < recordAttempts; attempt++ {
		cm := known
		known = nil
		if cm != nil {
			cm = cm.DeepCopy()
		} else {
			var err error
			if cm, err = s.record(ctx, namespace); err != nil {
				return nil, err
			}
		}
		st := decodeRecord(cm)
		write, err := change(&st)
		if err != nil || !write {
			return nil, err
		}
		if err := encodeRecord(cm, st); err != nil {
			return nil, err
		}
		written, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
		if err == nil {
			return written, nil
		}
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			return nil, kube.Error(err, "updating the quota record")
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, kube.Error(err, "updating the quota record")
		}
	}
	return nil, fault.Wrap(errRecordBusy, fault.Unavailable, "QuotaRecordBusy", "Too many builds are being started at once; retry")
}

// cachedRecord is record read from the API server's cache
// (resourceVersion 0), with no read of etcd. A record a moment old is safe
// to decide on: its update is made at the version read, so a stale one
// conflicts, and the retry reads it again from etcd.
func (s *Service) cachedRecord(ctx context.Context, namespace string) (*corev1.ConfigMap, error) {
	return s.readRecord(ctx, namespace, "0")
}

// record returns the quota record, creating an empty one when there is
// none: Create answers AlreadyExists to all but one of racing callers.
func (s *Service) record(ctx context.Context, namespace string) (*corev1.ConfigMap, error) {
	return s.readRecord(ctx, namespace, "")
}

// readRecord reads the quota record at resourceVersion (as the API server
// reads it: "" from etcd, "0" from its cache), creating it when there is none.
func (s *Service) readRecord(ctx context.Context, namespace, resourceVersion string) (*corev1.ConfigMap, error) {
	cms := s.client.CoreV1().ConfigMaps(namespace)
	cm, err := cms.Get(ctx, QuotaRecord, metav1.GetOptions{ResourceVersion: resourceVersion})
	if !apierrors.IsNotFound(err) {
		if err != nil {
			return nil, kube.Error(err, "reading the quota record")
		}
		return cm, nil
	}
	cm, err = cms.Create(ctx, newRecord(namespace), metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		cm, err = cms.Get(ctx, QuotaRecord, metav1.GetOptions{})
	}
	if err != nil {
		return nil, kube.Error(err, "creating the quota record")
	}
	return cm, nil
}

// newRecord is an empty quota record, not complete: the first decision on
// it lists the build Jobs and adopts the unfinished ones, so a record
// created anew (first use, or after someone deleted it) starts right.
func newRecord(namespace string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: QuotaRecord, Namespace: namespace,
		Labels: map[string]string{kube.LabelComponent: quotaComponent},
		Annotations: map[string]string{
			"openserverless.apache.org/description": "Quota reservations of the runtime builder, one per unfinished build Job, and a bound on each user's build Jobs. Do not edit.",
		},
	}}
}

// decodeRecord reads the record's state. An entry that does not decode
// makes the record incomplete: the next decision lists the Jobs, and adopts
// that entry's Job if it is unfinished.
func decodeRecord(cm *corev1.ConfigMap) quotaState {
	st := quotaState{
		entries:  reservations{},
		complete: cm.Annotations[annotationComplete] == "true",
		kept:     decodeKept(cm.Annotations[annotationKept]),
	}
	for name, v := range cm.Data {
		var r reservation
		if json.Unmarshal([]byte(v), &r) != nil {
			st.complete = false
			continue
		}
		st.entries[name] = r
	}
	return st
}

// encodeRecord writes st into cm.
func encodeRecord(cm *corev1.ConfigMap, st quotaState) error {
	data := make(map[string]string, len(st.entries))
	for name, r := range st.entries {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		data[name] = string(b)
	}
	cm.Data = data
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	if st.complete {
		cm.Annotations[annotationComplete] = "true"
	} else {
		delete(cm.Annotations, annotationComplete)
	}
	if len(st.kept) == 0 {
		delete(cm.Annotations, annotationKept)
		return nil
	}
	kept, err := st.kept.encode()
	cm.Annotations[annotationKept] = kept
	return err
}

// backoff waits a little before another attempt, longer as they add up,
// with jitter so that the callers that lost a race do not meet again.
func backoff(ctx context.Context, attempt int) error {
	limit := min(5*time.Millisecond<<min(attempt, 6), 250*time.Millisecond)
	t := time.NewTimer(time.Duration(rand.Int64N(int64(limit))) + time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
