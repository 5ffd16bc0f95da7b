package builds

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/lib/webaction"
	"github.com/apache/openserverless-deployer/tests/testweb"
)

// Tokens the fake verifier knows, in the raw uuid:key form ops sends.
const (
	aliceToken = "a11ce000-0000-4000-8000-000000000001:alicekey"
	bobToken   = "b0b00000-0000-4000-8000-000000000002:bobkey"
)

// tokenVerifier answers as lib/openwhisk.Namespaces does for known tokens.
type tokenVerifier map[string]string

func (v tokenVerifier) Verify(_ context.Context, _, token string) (string, error) {
	if ns, ok := v[token]; ok {
		return ns, nil
	}
	return "", identity.ErrRejected
}

// apiEnv is an Env over a fake clientset holding objects, whose Pods
// answer log requests with log, running as the system namespace unless
// namespace says otherwise, for an action the system namespace owns unless
// actionName says otherwise.
type apiEnv struct {
	client     *fake.Clientset
	namespace  string
	actionName string
	log        string

	mu      sync.Mutex
	logOpts []*corev1.PodLogOptions
}

func newAPIEnv(objects ...runtime.Object) *apiEnv {
	e := &apiEnv{client: fake.NewClientset(objects...), namespace: "whisk-system", actionName: "/whisk-system/builder/status"}
	e.client.PrependReactor("get", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "log" {
			return false, nil, nil
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		e.logOpts = append(e.logOpts, a.(k8stesting.GenericAction).GetValue().(*corev1.PodLogOptions))
		return true, &runtime.Unknown{Raw: []byte(e.log)}, nil
	})
	return e
}

func (e *apiEnv) env() api.Env {
	vars := map[string]string{
		"__OW_NAMESPACE":     e.namespace,
		"__OW_ACTION_NAME":   e.actionName,
		"__OW_API_HOST":      "https://openwhisk.example.com",
		"__OW_ACTIVATION_ID": "0123456789abcdef",
		"BUILD_NAMESPACE":    "builds",
	}
	discard := logrus.New()
	discard.SetOutput(io.Discard)
	return api.Env{
		Lookup:   func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Verifier: tokenVerifier{aliceToken: "alice", bobToken: "bob"},
		Log:      discard,
		Tokens:   identity.NewCache(),
	}
}

// ops are the Ops over the fake clientset.
func (e *apiEnv) ops() Ops {
	return Ops{Kube: func(config.Config) (kubernetes.Interface, error) { return e.client, nil }}
}

// opOf is an operation of Ops as a method expression (Ops.Status).
type opOf = func(Ops, context.Context, api.Call) (webaction.Response, error)

func (e *apiEnv) serve(op opOf, args map[string]any) webaction.Response {
	ops := e.ops()
	return api.Serve(context.Background(), e.env(), args, func(ctx context.Context, c api.Call) (webaction.Response, error) {
		return op(ops, ctx, c)
	})
}

// Fixture times.
var (
	apiT0    = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	apiRunAt = apiT0.Add(5 * time.Second)
	apiEndAt = apiT0.Add(40 * time.Second)
)

// apiJob is user's build Job for kind, as build.NewJob writes it, created at apiT0.
func apiJob(user, kind string) *batchv1.Job {
	id := buildjob.ID(buildjob.Inputs{Kind: kind, Source: "r.example.com/rt@sha256:aa", Target: user + ":" + kind})
	job := buildjob.NewJob(buildjob.Plan{
		ID: id, User: user, Kind: kind, Namespace: "builds",
		Image: "pull.example.com/" + user + ":" + kind, Pinned: "r.example.com/rt@sha256:aa",
		KanikoImage: config.DefaultKanikoImage, Deadline: time.Minute, TTL: time.Hour,
	})
	job.UID = types.UID("uid-" + job.Name)
	job.CreationTimestamp = metav1.NewTime(apiT0)
	job.Status.StartTime = &metav1.Time{Time: apiT0.Add(time.Second)}
	return job
}

func buildIDOf(job *batchv1.Job) string { return job.Annotations[kube.AnnotationBuildID] }

// apiPod is the Pod of job in phase with its container in state.
func apiPod(job *batchv1.Job, phase corev1.PodPhase, state corev1.ContainerState) *corev1.Pod {
	controller := true
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: job.Name + "-pod", Namespace: job.Namespace, CreationTimestamp: metav1.NewTime(apiT0),
			Labels: job.Spec.Template.Labels,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID, Controller: &controller,
			}},
		},
		Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{Name: "kaniko", State: state}}},
	}
}

func finish(job *batchv1.Job, cond batchv1.JobConditionType, reason string) *batchv1.Job {
	if cond == batchv1.JobComplete {
		job.Status.CompletionTime = &metav1.Time{Time: apiEndAt}
	}
	job.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, Reason: reason, LastTransitionTime: metav1.NewTime(apiEndAt)}}
	return job
}

// TestOperationsRefuseOtherMethods checks every operation's methods through
// Serve: 405 before any other check, the request's fields notwithstanding.
func TestOperationsRefuseOtherMethods(t *testing.T) {
	ops := []struct {
		name    string
		op      opOf
		path    string
		allowed []string
	}{
		{name: "start", op: Ops.Start, allowed: []string{http.MethodPost}},
		{name: "ensure", op: Ops.Ensure, allowed: []string{http.MethodPost}},
		{name: "cleanup", op: Ops.Cleanup, allowed: []string{http.MethodPost}},
		{name: "logs", op: Ops.Logs, allowed: []string{http.MethodGet}},
		{name: "status", op: Ops.Status, path: "/" + strings.Repeat("ab", 32), allowed: []string{http.MethodGet, http.MethodDelete}},
		{name: "status logs", op: Ops.Status, path: "/" + strings.Repeat("ab", 32) + "/logs", allowed: []string{http.MethodGet}},
	}
	methods := []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions}
	for _, o := range ops {
		for _, m := range methods {
			allowed := false
			for _, a := range o.allowed {
				allowed = allowed || a == m
			}
			if allowed {
				continue
			}
			t.Run(o.name+"/"+m, func(t *testing.T) {
				e := newAPIEnv()
				resp := e.serve(o.op, testweb.Args(m, o.path, aliceToken, map[string]any{"source": "x", "kind": "python", "id": strings.Repeat("ab", 32)}))
				assert.Equal(t, http.StatusMethodNotAllowed, resp.Status, "%v", resp.Body)
				assert.Equal(t, "ko", resp.Body["status"])
				assert.Equal(t, "MethodNotAllowed", resp.Body["reason"])
				for _, a := range e.client.Actions() {
					assert.NotEqual(t, "jobs", a.GetResource().Resource, "refused before touching a Job: %v", a)
				}
			})
		}
	}
}

func TestServeIdentity(t *testing.T) {
	job := apiJob("alice", "python")
	id := buildIDOf(job)
	tests := []struct {
		name       string
		namespace  string // the activation namespace
		actionName string // __OW_ACTION_NAME; "" means the system namespace's action
		args       map[string]any
		wantStatus int
		wantReason string
	}{
		{name: "web call with a token", namespace: "whisk-system", args: testweb.Args("get", "/"+id, aliceToken, nil), wantStatus: http.StatusAccepted},
		{name: "web call, Basic form", namespace: "whisk-system", args: testweb.Args("get", "/"+id, "Basic "+base64.StdEncoding.EncodeToString([]byte(aliceToken)), nil), wantStatus: http.StatusAccepted},
		{name: "web call of another user", namespace: "whisk-system", args: testweb.Args("get", "/"+id, bobToken, nil), wantStatus: http.StatusNotFound, wantReason: "BuildNotFound"},
		{name: "web call without a token", namespace: "whisk-system", args: testweb.Args("get", "/"+id, "", nil), wantStatus: http.StatusUnauthorized, wantReason: "MissingAuthorization"},
		{name: "web call with an unknown token", namespace: "whisk-system", args: testweb.Args("get", "/"+id, "c0ffee00-0000-4000-8000-000000000003:nokey", nil), wantStatus: http.StatusUnauthorized, wantReason: "InvalidAuthorization"},
		{name: "web call with a malformed token", namespace: "whisk-system", args: testweb.Args("get", "/"+id, "Bearer abc", nil), wantStatus: http.StatusUnauthorized, wantReason: "InvalidAuthorization"},
		{name: "plain invoke of the owner", namespace: "alice", args: map[string]any{"id": id}, wantStatus: http.StatusAccepted},
		{
			name: "plain invoke of another user posing as the owner", namespace: "bob",
			args:       map[string]any{"id": id, "__ow_user": "alice", "__ow_method": "get", "__ow_headers": map[string]any{"authorization": aliceToken}},
			wantStatus: http.StatusNotFound, wantReason: "BuildNotFound",
		},
		{
			name: "web call when the action's name is missing", namespace: "whisk-system", actionName: "-",
			args: testweb.Args("get", "/"+id, aliceToken, nil), wantStatus: http.StatusInternalServerError, wantReason: "Misconfigured",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAPIEnv(job)
			e.namespace = tt.namespace
			switch tt.actionName {
			case "":
			case "-":
				e.actionName = ""
			default:
				e.actionName = tt.actionName
			}
			resp := e.serve(Ops.Status, tt.args)
			assert.Equal(t, tt.wantStatus, resp.Status, "%v", resp.Body)
			if tt.wantReason != "" {
				assert.Equal(t, tt.wantReason, resp.Body["reason"])
				assert.NotContains(t, resp.Body["message"], "alicekey")
			}
		})
	}
}

func TestEnsureRequests(t *testing.T) {
	tests := []struct {
		name       string
		params     map[string]any
		wantStatus int
		wantReason string
	}{
		{name: "no fields", params: nil, wantStatus: http.StatusBadRequest, wantReason: "NoPayload"},
		{name: "retry not a boolean", params: map[string]any{"builder": "python:3.13", "retry": "maybe"}, wantStatus: http.StatusBadRequest, wantReason: "InvalidRetry"},
		{name: "unknown builder", params: map[string]any{"builder": "cobol:85"}, wantStatus: http.StatusBadRequest, wantReason: "UnknownBuilder"},
		{name: "unknown kind", params: map[string]any{"source": "r.example.com/rt:1", "kind": "cobol"}, wantStatus: http.StatusBadRequest, wantReason: "UnsupportedKind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAPIEnv()
			resp := e.serve(Ops.Ensure, testweb.Args("post", "", aliceToken, tt.params))
			assert.Equal(t, tt.wantStatus, resp.Status, "%v", resp.Body)
			assert.Equal(t, tt.wantReason, resp.Body["reason"])
			assert.Empty(t, e.client.Actions(), "refused before any Kubernetes call")
		})
	}
}

// System scope comes from the action's own name: only a non-web call from
// the namespace that owns the action cleans up everyone's builds.
func TestCleanupScope(t *testing.T) {
	tests := []struct {
		name       string
		namespace  string
		actionName string
		args       map[string]any
		wantStatus int
		wantLeft   []string // users whose Job is left
	}{
		{name: "schedule of the owner", namespace: "whisk-system", actionName: "/whisk-system/builder/cleanup",
			args: map[string]any{"max_age_hours": "0"}, wantStatus: http.StatusOK},
		{name: "owner of another deployment", namespace: "ops", actionName: "/ops/builder/cleanup",
			args: map[string]any{"max_age_hours": "0"}, wantStatus: http.StatusOK},
		{name: "web call as the owner's user", namespace: "whisk-system", actionName: "/whisk-system/builder/cleanup",
			args:       testweb.Args("post", "", "", map[string]any{"__ow_user": "whisk-system", "max_age_hours": "0"}),
			wantStatus: http.StatusOK, wantLeft: []string{"alice", "bob"}},
		{name: "plain invoke of a user forging web facts", namespace: "bob", actionName: "/whisk-system/builder/cleanup",
			args:       testweb.Args("post", "", aliceToken, map[string]any{"__ow_user": "whisk-system", "max_age_hours": "0"}),
			wantStatus: http.StatusOK, wantLeft: []string{"alice"}},
		{name: "whisk-system invoking an action another namespace owns", namespace: "whisk-system", actionName: "/ops/builder/cleanup",
			args: map[string]any{"max_age_hours": "0"}, wantStatus: http.StatusOK, wantLeft: []string{"alice", "bob"}},
		{name: "no action name", namespace: "whisk-system", actionName: "",
			args: map[string]any{"max_age_hours": "0"}, wantStatus: http.StatusOK, wantLeft: []string{"alice", "bob"}},
		{name: "malformed action name", namespace: "whisk-system", actionName: "whisk-system/builder/cleanup",
			args: map[string]any{"max_age_hours": "0"}, wantStatus: http.StatusOK, wantLeft: []string{"alice", "bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAPIEnv(finish(apiJob("alice", "python"), batchv1.JobComplete, ""), finish(apiJob("bob", "python"), batchv1.JobComplete, ""))
			e.namespace, e.actionName = tt.namespace, tt.actionName
			resp := e.serve(Ops.Cleanup, tt.args)
			require.Equal(t, tt.wantStatus, resp.Status, "%v", resp.Body)
			jobs, err := e.client.BatchV1().Jobs("builds").List(context.Background(), metav1.ListOptions{})
			require.NoError(t, err)
			var left []string
			for _, j := range jobs.Items {
				left = append(left, j.Labels[kube.LabelUser])
			}
			assert.ElementsMatch(t, tt.wantLeft, left)
		})
	}
}
