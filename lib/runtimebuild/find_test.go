package runtimebuild

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/lib/webaction"
)

// userJob is a running build Job of user for id, as NewJob labels it.
func userJob(user, id string) *batchv1.Job {
	j := stateJob()
	j.Name = buildjob.JobName(user, id)
	j.UID = types.UID("uid-" + j.Name)
	j.Labels[kube.LabelUser] = user
	j.Labels[kube.LabelBuildID] = buildjob.LabelID(id)
	j.Annotations[kube.AnnotationBuildID] = id
	return j
}

// findOps are the operations that look a build up by user and id.
var findOps = []struct {
	name string
	call func(s *Service, user, id string) error
}{
	{"status", func(s *Service, user, id string) error {
		_, _, err := s.Status(context.Background(), user, id)
		return err
	}},
	{"logs", func(s *Service, user, id string) error {
		_, err := s.Logs(context.Background(), user, id, LogOptions{})
		return err
	}},
	{"cancel", func(s *Service, user, id string) error {
		_, err := s.Cancel(context.Background(), user, id)
		return err
	}},
}

func TestFind(t *testing.T) {
	bobID := buildjob.ID(buildjob.Inputs{Kind: "nodejs", Source: "r.example.com/rt@sha256:bb"})
	// sameLabel shares stateID's label (its first 32 hex digits) but not the id.
	sameLabel := buildjob.LabelID(stateID) + strings.Repeat("0", 64-len(buildjob.LabelID(stateID)))
	if sameLabel == stateID {
		sameLabel = buildjob.LabelID(stateID) + strings.Repeat("1", 64-len(buildjob.LabelID(stateID)))
	}
	require.Equal(t, buildjob.LabelID(stateID), buildjob.LabelID(sameLabel))

	deleting := userJob("alice", stateID)
	deleting.DeletionTimestamp = &metav1.Time{Time: stateEndAt}
	deleting.Finalizers = []string{"foregroundDeletion"}
	notBuild := userJob("alice", stateID)
	delete(notBuild.Labels, kube.LabelComponent)
	elsewhere := userJob("alice", stateID)
	elsewhere.Namespace = "elsewhere"
	impostor := userJob("alice", stateID)
	impostor.Name = "build-alice-impostor"
	impostor.Annotations[kube.AnnotationBuildID] = sameLabel

	tests := []struct {
		name    string
		objects []runtime.Object
		user    string
		id      string
		found   bool
		noCalls bool // a malformed id is refused before any API call
	}{
		{name: "the user's build", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: stateID, found: true},
		{name: "among other builds", objects: []runtime.Object{userJob("bob", bobID), impostor, userJob("alice", stateID)}, user: "alice", id: stateID, found: true},
		{name: "another user's build", objects: []runtime.Object{userJob("alice", stateID)}, user: "bob", id: stateID},
		{name: "asking for the other user's id", objects: []runtime.Object{userJob("bob", bobID)}, user: "alice", id: bobID},
		{name: "same label, another id in the annotation", objects: []runtime.Object{impostor}, user: "alice", id: stateID},
		{name: "the id of the annotation, labelled for another", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: sameLabel},
		{name: "being deleted", objects: []runtime.Object{deleting}, user: "alice", id: stateID},
		{name: "not a build Job", objects: []runtime.Object{notBuild}, user: "alice", id: stateID},
		{name: "in another namespace", objects: []runtime.Object{elsewhere}, user: "alice", id: stateID},
		{name: "no Job at all", user: "alice", id: stateID},
		{name: "empty id", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: "", noCalls: true},
		{name: "short id", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: stateID[:20], noCalls: true},
		{name: "label prefix only", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: buildjob.LabelID(stateID), noCalls: true},
		{name: "upper-case id", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: strings.ToUpper(stateID), noCalls: true},
		{name: "id too long", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: stateID + "0", noCalls: true},
		{name: "not hex", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: stateID[:63] + "g", noCalls: true},
		{name: "with spaces", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: " " + stateID, noCalls: true},
		{name: "a selector", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: stateID[:32] + ",app.kubernetes.io/component", noCalls: true},
		{name: "a path", objects: []runtime.Object{userJob("alice", stateID)}, user: "alice", id: "../" + stateID[:61], noCalls: true},
	}
	for _, tt := range tests {
		for _, op := range findOps {
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				client := fake.NewClientset(tt.objects...)
				svc := NewService(client, buildsConfig())
				err := op.call(svc, tt.user, tt.id)
				if tt.found {
					assert.NoError(t, err)
					return
				}
				require.Error(t, err)
				fe := fault.As(err)
				require.NotNil(t, fe)
				assert.Equal(t, fault.NotFound, fe.Kind)
				assert.Equal(t, "BuildNotFound", fe.Reason)
				assert.Equal(t, http.StatusNotFound, webaction.Status(err))
				for _, a := range client.Actions() {
					assert.Equal(t, "list", a.GetVerb(), "a build not found is not changed: %v", a)
				}
				if tt.noCalls {
					assert.Empty(t, client.Actions())
				}
			})
		}
	}
}

// TestFindSelectsByLabel checks the selector find asks the API server for:
// the user and the id's label, never a name.
func TestFindSelectsByLabel(t *testing.T) {
	client := fake.NewClientset(userJob("alice", stateID))
	svc := NewService(client, buildsConfig())
	job, err := svc.find(context.Background(), "alice", stateID)
	require.NoError(t, err)
	assert.Equal(t, buildjob.JobName("alice", stateID), job.Name)

	require.Len(t, client.Actions(), 1)
	list, ok := client.Actions()[0].(k8stesting.ListAction)
	require.True(t, ok)
	assert.Equal(t, "builds", list.GetNamespace())
	sel := list.GetListRestrictions().Labels
	assert.True(t, sel.Matches(labels.Set(job.Labels)))
	for _, other := range []map[string]string{
		{kube.LabelComponent: kube.Component, kube.LabelUser: "bob", kube.LabelBuildID: buildjob.LabelID(stateID)},
		{kube.LabelComponent: kube.Component, kube.LabelUser: "alice", kube.LabelBuildID: buildjob.LabelID(buildjob.ID(buildjob.Inputs{Kind: "go"}))},
		{kube.LabelUser: "alice", kube.LabelBuildID: buildjob.LabelID(stateID)},
	} {
		assert.False(t, sel.Matches(labels.Set(other)), "%v", other)
	}
}

func TestPods(t *testing.T) {
	job := stateJob()
	t0 := stateT0
	older := ownedPod(job, "older", corev1.PodFailed, t0)
	newest := ownedPod(job, "newest", corev1.PodRunning, t0.Add(2*time.Minute))
	middle := ownedPod(job, "middle", corev1.PodFailed, t0.Add(time.Minute))
	// A Pod of another Job with the same labels (a Job replaced by a retry).
	otherJob := stateJob()
	otherJob.UID = "uid-of-the-previous-job"
	orphan := ownedPod(otherJob, "previous-job", corev1.PodRunning, t0.Add(3*time.Minute))
	// Owned, but not as controller.
	notController := ownedPod(job, "not-controller", corev1.PodRunning, t0.Add(4*time.Minute))
	no := false
	notController.OwnerReferences[0].Controller = &no
	noOwner := ownedPod(job, "no-owner", corev1.PodRunning, t0.Add(5*time.Minute))
	noOwner.OwnerReferences = nil
	// Another build's Pod.
	otherBuild := ownedPod(job, "other-build", corev1.PodRunning, t0.Add(6*time.Minute))
	otherBuild.Labels[kube.LabelBuildID] = buildjob.LabelID(buildjob.ID(buildjob.Inputs{Kind: "go"}))

	client := fake.NewClientset(job, older, newest, middle, orphan, notController, noOwner, otherBuild)
	svc := NewService(client, buildsConfig())
	pods, err := svc.pods(context.Background(), job)
	require.NoError(t, err)
	var names []string
	for _, p := range pods {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"newest", "middle", "older"}, names)
}

func TestWarnings(t *testing.T) {
	pod := ownedPod(stateJob(), "build-pod", corev1.PodPending, stateT0)
	at := func(d time.Duration) metav1.Time { return metav1.NewTime(stateT0.Add(d)) }
	event := func(name string) *corev1.Event {
		return &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: name, Namespace: "builds", CreationTimestamp: at(0)},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "build-pod", Namespace: "builds"},
			Type:           corev1.EventTypeWarning, Reason: "Failed", Message: name,
		}
	}
	last := event("by last timestamp")
	last.LastTimestamp = at(3 * time.Minute)
	series := event("by event time")
	series.EventTime = metav1.NewMicroTime(stateT0.Add(2 * time.Minute))
	created := event("by creation")
	created.CreationTimestamp = at(time.Minute)

	client := fake.NewClientset(created, last, series)
	svc := NewService(client, buildsConfig())
	got, err := svc.warnings(context.Background(), pod)
	require.NoError(t, err)
	var msgs []string
	for _, e := range got {
		msgs = append(msgs, e.Message)
	}
	assert.Equal(t, []string{"by last timestamp", "by event time", "by creation"}, msgs)

	// The fake ignores field selectors: check the one asked for.
	require.Len(t, client.Actions(), 1)
	fields := client.Actions()[0].(k8stesting.ListAction).GetListRestrictions().Fields
	for _, want := range []struct{ field, value string }{
		{"involvedObject.kind", "Pod"}, {"involvedObject.name", "build-pod"}, {"type", corev1.EventTypeWarning},
	} {
		v, ok := fields.RequiresExactMatch(want.field)
		assert.True(t, ok, "selects %s", want.field)
		assert.Equal(t, want.value, v)
	}
}
