package runtimebuild

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

// ensureEnv is a startEnv whose catalog names its base image "python:3.13".
func ensureEnv(t *testing.T) *startEnv {
	t.Helper()
	catalog := map[string]config.Builder{}
	e := newStartEnv(t, func(c *config.Config) { c.Builders = catalog }, registrySecret("builds"))
	// The source's host is known once the registry runs; the Service shares the map.
	catalog["python:3.13"] = config.Builder{Kind: "python", Source: e.source}
	return e
}

// ensureID is the id and image tag of an ensure of the base image with file.
func (e *startEnv) ensureID(file []byte) (id, tag string) {
	id = buildjob.ID(buildjob.Inputs{Kind: "python", Source: e.host + "/apache/runtime-python@" + e.digest, File: file})
	return id, "alice:python-" + id[:20]
}

// markJob changes alice's Job for id in the fake clientset.
func (e *startEnv) markJob(t *testing.T, id string, change func(*batchv1.Job)) {
	t.Helper()
	jobs := e.client.BatchV1().Jobs("builds")
	job, err := jobs.Get(context.Background(), buildjob.JobName("alice", id), metav1.GetOptions{})
	require.NoError(t, err)
	change(job)
	_, err = jobs.Update(context.Background(), job, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// collectGarbage makes a Job's background delete take what the Job owns
// with it at once, as the garbage collector does soon after.
func (e *startEnv) collectGarbage(t *testing.T) {
	t.Helper()
	tracker := e.client.Tracker()
	e.client.PrependReactor("delete", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		d := a.(k8stesting.DeleteAction)
		obj, err := tracker.Get(batchv1.SchemeGroupVersion.WithResource("jobs"), d.GetNamespace(), d.GetName())
		if err != nil {
			return false, nil, nil
		}
		uid := obj.(*batchv1.Job).UID
		for _, r := range []struct{ resource, kind string }{{"configmaps", "ConfigMap"}, {"secrets", "Secret"}} {
			list, err := tracker.List(corev1.SchemeGroupVersion.WithResource(r.resource), corev1.SchemeGroupVersion.WithKind(r.kind), d.GetNamespace())
			if err != nil {
				return true, nil, err
			}
			items, err := meta.ExtractList(list)
			if err != nil {
				return true, nil, err
			}
			for _, item := range items {
				o := item.(metav1.Object)
				for _, ref := range o.GetOwnerReferences() {
					if ref.UID == uid {
						if err := tracker.Delete(corev1.SchemeGroupVersion.WithResource(r.resource), o.GetNamespace(), o.GetName()); err != nil {
							return true, nil, err
						}
					}
				}
			}
		}
		return false, nil, nil
	})
}

func failJob(j *batchv1.Job) {
	j.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonDeadlineExceeded, LastTransitionTime: metav1.NewTime(startNow)},
		{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: batchv1.JobReasonDeadlineExceeded, LastTransitionTime: metav1.NewTime(startNow)},
	}
}

func completeJobStatus(j *batchv1.Job) {
	j.Status.CompletionTime = &metav1.Time{Time: startNow}
	j.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(startNow)},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(startNow)},
	}
}

func TestEnsureCreatesOneJob(t *testing.T) {
	tests := []struct {
		name string
		req  func(e *startEnv) EnsureRequest
		file []byte
	}{
		{name: "builder without a file", req: func(*startEnv) EnsureRequest { return EnsureRequest{Builder: "python:3.13", Retry: true} }},
		{
			name: "builder with a file", file: []byte("requests\n"),
			req: func(*startEnv) EnsureRequest {
				return EnsureRequest{Builder: "python:3.13", File: b64("requests\n"), Retry: true}
			},
		},
		{
			name: "source and kind", file: []byte("requests\n"),
			req: func(e *startEnv) EnsureRequest {
				return EnsureRequest{Source: e.source, Kind: "python", File: b64("requests\n"), Retry: true}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ensureEnv(t)
			id, tag := e.ensureID(tt.file)

			got, err := e.svc.Ensure(context.Background(), "alice", tt.req(e))
			require.NoError(t, err)
			assert.True(t, got.Created)
			assert.Equal(t, Queued, got.State)
			assert.Equal(t, id, got.ID)
			assert.Equal(t, "pull.example.com/"+tag, got.Image)
			assert.Equal(t, buildjob.JobName("alice", id), got.JobName)
			assert.True(t, startNow.Equal(got.Status.Created), "created %v", got.Status.Created)

			jobs := e.jobs(t)
			require.Len(t, jobs, 1)
			assert.Equal(t, got.JobName, jobs[0].Name)
			assert.Equal(t, id, jobs[0].Annotations[kube.AnnotationBuildID])
			assert.Contains(t, jobs[0].Spec.Template.Spec.Containers[0].Args, e.host+"/"+tag, "the push step pushes to the image's name")
			assert.Len(t, e.configMaps(t), 1)

			// The same request while the Job exists answers it, creating nothing.
			creates := len(e.creates())
			again, err := e.svc.Ensure(context.Background(), "alice", tt.req(e))
			require.NoError(t, err)
			assert.False(t, again.Created)
			assert.Equal(t, Queued, again.State)
			assert.Equal(t, id, again.ID)
			assert.Equal(t, got.JobName, again.JobName)
			assert.Len(t, e.creates(), creates)
		})
	}
}

// The builder id and the source it names are the same build.
func TestEnsureBuilderIsItsSource(t *testing.T) {
	e := ensureEnv(t)
	byBuilder, err := e.svc.Ensure(context.Background(), "alice", EnsureRequest{Builder: "python:3.13", File: b64("flask\n")})
	require.NoError(t, err)
	bySource, err := e.svc.Ensure(context.Background(), "alice", EnsureRequest{Source: e.source, Kind: "python", File: b64("flask\n")})
	require.NoError(t, err)
	assert.Equal(t, byBuilder.ID, bySource.ID)
	assert.True(t, byBuilder.Created)
	assert.False(t, bySource.Created)
	assert.Len(t, e.jobs(t), 1)

	// Another file is another build.
	other, err := e.svc.Ensure(context.Background(), "alice", EnsureRequest{Builder: "python:3.13", File: b64("flask==3.0.0\n")})
	require.NoError(t, err)
	assert.NotEqual(t, byBuilder.ID, other.ID)
	assert.Len(t, e.jobs(t), 2)
}

func TestEnsureImageAlreadyBuilt(t *testing.T) {
	e := ensureEnv(t)
	file := []byte("requests\n")
	id, tag := e.ensureID(file)
	digest := testregistry.Push(t, e.host+"/"+tag, testregistry.Image(t, "1001"))

	got, err := e.svc.Ensure(context.Background(), "alice", EnsureRequest{Builder: "python:3.13", File: b64(string(file)), Retry: true})
	require.NoError(t, err)
	assert.Equal(t, Succeeded, got.State)
	assert.Equal(t, id, got.ID)
	assert.Equal(t, digest, got.Digest)
	assert.Equal(t, "pull.example.com/"+tag, got.Image)
	assert.False(t, got.Created)
	assert.Empty(t, e.creates(), "no Job for an image that exists")
}

func TestEnsureFinishedJob(t *testing.T) {
	tests := []struct {
		name        string
		mark        func(*batchv1.Job)
		retry       bool
		wantState   State
		wantReason  string
		wantCreated bool
	}{
		{name: "failed, not retried", mark: failJob, retry: false, wantState: Failed, wantReason: ReasonDeadlineExceeded},
		{name: "failed, retried", mark: failJob, retry: true, wantState: Queued, wantCreated: true},
		// The Job succeeded but its image is not in the registry (deleted since).
		{name: "succeeded, image gone", mark: completeJobStatus, retry: false, wantState: Queued, wantCreated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ensureEnv(t)
			e.collectGarbage(t)
			req := EnsureRequest{Builder: "python:3.13", Retry: tt.retry}
			first, err := e.svc.Ensure(context.Background(), "alice", req)
			require.NoError(t, err)
			require.True(t, first.Created)
			before := e.jobs(t)[0]
			e.markJob(t, first.ID, tt.mark)

			got, err := e.svc.Ensure(context.Background(), "alice", req)
			require.NoError(t, err)
			assert.Equal(t, tt.wantState, got.State)
			assert.Equal(t, tt.wantReason, got.Reason)
			assert.Equal(t, tt.wantCreated, got.Created)
			assert.Equal(t, first.ID, got.ID)

			jobs := e.jobs(t)
			require.Len(t, jobs, 1)
			if !tt.wantCreated {
				assert.Equal(t, before.UID, jobs[0].UID, "the failed Job is kept")
				return
			}
			assert.NotEqual(t, before.UID, jobs[0].UID, "a new Job replaces the old one")
			assert.Empty(t, jobs[0].Status.Conditions)
			var deleted bool
			for _, a := range e.client.Actions() {
				if a.GetVerb() == "delete" && a.GetResource().Resource == "jobs" {
					deleted = true
				}
			}
			assert.True(t, deleted, "the old Job was deleted")
		})
	}
}

// Concurrent identical requests make exactly one Job.
func TestEnsureConcurrent(t *testing.T) {
	e := ensureEnv(t)
	const n = 8
	var wg sync.WaitGroup
	results := make([]Ensured, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = e.svc.Ensure(context.Background(), "alice", EnsureRequest{Builder: "python:3.13", File: b64("requests\n"), Retry: true})
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, results[0].ID, results[i].ID)
		assert.Equal(t, Queued, results[i].State)
		if results[i].Created {
			created++
		}
	}
	assert.Equal(t, 1, created, "one request created the Job")
	assert.Len(t, e.jobs(t), 1)
	assert.Len(t, e.configMaps(t), 1)
}

func TestEnsureInvalid(t *testing.T) {
	tests := []struct {
		name   string
		req    EnsureRequest
		kind   fault.Kind
		reason string
	}{
		{name: "unknown builder", req: EnsureRequest{Builder: "cobol:85"}, kind: fault.Invalid, reason: "UnknownBuilder"},
		{name: "nothing", req: EnsureRequest{}, kind: fault.Invalid, reason: "MissingSource"},
		{name: "blank source", req: EnsureRequest{Source: "  ", Kind: "python"}, kind: fault.Invalid, reason: "MissingSource"},
		{name: "source without kind", req: EnsureRequest{Source: "r.example.com/rt:1"}, kind: fault.Invalid, reason: "MissingKind"},
		{name: "unsupported kind", req: EnsureRequest{Source: "r.example.com/rt:1", Kind: "cobol"}, kind: fault.Invalid, reason: "UnsupportedKind"},
		{name: "file not base64", req: EnsureRequest{Builder: "python:3.13", File: "not base64!"}, kind: fault.Invalid},
		{name: "file not for the kind", req: EnsureRequest{Builder: "python:3.13", File: b64("-e ../local\n")}, kind: fault.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ensureEnv(t)
			_, err := e.svc.Ensure(context.Background(), "alice", tt.req)
			require.Error(t, err)
			fe := fault.As(err)
			require.NotNil(t, fe, "%v", err)
			assert.Equal(t, tt.kind, fe.Kind)
			if tt.reason != "" {
				assert.Equal(t, tt.reason, fe.Reason)
			}
			assert.Empty(t, e.creates())
		})
	}
}
