package runtimebuild

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

var startNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func errForbidden() error {
	return apierrors.NewForbidden(schema.GroupResource{Group: "batch", Resource: "jobs"}, "", errors.New("not allowed"))
}

func errUnavailable() error { return apierrors.NewServiceUnavailable("down") }

func errNotFound(n string) error {
	return apierrors.NewNotFound(schema.GroupResource{Group: "batch", Resource: "jobs"}, n)
}

func registrySecret(ns string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: config.DefaultRegistrySecret, Namespace: ns},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)},
	}
}

// startEnv is a Service over a fake clientset and an in-process registry
// holding the base image "<host>/apache/runtime-python:v3.13".
type startEnv struct {
	client *fake.Clientset
	svc    *Service
	cfg    config.Config
	host   string
	source string
	digest string
}

func newStartEnv(t *testing.T, change func(*config.Config), objects ...runtime.Object) *startEnv {
	t.Helper()
	host := testregistry.Start(t).Host
	e := &startEnv{host: host, source: host + "/apache/runtime-python:v3.13"}
	e.digest = testregistry.Push(t, e.source, testregistry.Image(t, "1001"))
	cfg, err := config.Load(map[string]any{
		"namespace":          "builds",
		"registry_push_host": host,
		"registry_pull_host": "pull.example.com",
		"allowed_sources":    host + "/apache/*",
	}, nil, "")
	require.NoError(t, err)
	if change != nil {
		change(&cfg)
	}
	e.cfg = cfg
	e.client = fake.NewClientset(objects...)
	// The API server gives every object a UID and a creation time; the fake does not.
	var n atomic.Int64
	e.client.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
		obj.SetUID(types.UID(fmt.Sprintf("uid-%d", n.Add(1))))
		obj.SetCreationTimestamp(metav1.NewTime(startNow))
		return false, nil, nil
	})
	versionedRecord(e.client)
	resolvConf := filepath.Join(t.TempDir(), "resolv.conf")
	require.NoError(t, os.WriteFile(resolvConf, []byte(testResolvConf), 0o644))
	e.svc = NewService(e.client, cfg, WithClock(func() time.Time { return startNow }), WithResolvConf(resolvConf))
	return e
}

// testResolvConf is the deployer's resolver configuration in these tests;
// nothing is resolved with it.
const testResolvConf = "nameserver 127.0.0.53\nsearch builds.svc.cluster.local\n"

// testHosts is the /etc/hosts of the steps that hold a credential.
const testHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"

// versionedRecord makes client update the quota record at the
// resourceVersion it was read at, as the API server does (the fake's
// tracker takes any): a write from a stale read is a conflict.
func versionedRecord(client *fake.Clientset) {
	gvr := corev1.SchemeGroupVersion.WithResource("configmaps")
	version := 0
	client.PrependReactor("update", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		cm, ok := a.(k8stesting.UpdateAction).GetObject().(*corev1.ConfigMap)
		if !ok || cm.Name != QuotaRecord {
			return false, nil, nil
		}
		cur, err := client.Tracker().Get(gvr, cm.Namespace, cm.Name)
		if err != nil {
			return false, nil, nil
		}
		if cur.(*corev1.ConfigMap).ResourceVersion != cm.ResourceVersion {
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), cm.Name, errors.New("the object has been modified"))
		}
		cm = cm.DeepCopy()
		version++
		cm.ResourceVersion = strconv.Itoa(version)
		return true, cm, client.Tracker().Update(gvr, cm, cm.Namespace)
	})
}

func (e *startEnv) request(file string) StartRequest {
	return StartRequest{Source: e.source, Target: "alice:py1", Kind: "python", File: file}
}

// creates are the create actions of a build's objects (not the quota record's).
func (e *startEnv) creates() []k8stesting.CreateAction {
	var out []k8stesting.CreateAction
	for _, a := range e.client.Actions() {
		if a.GetVerb() == "create" && !isQuotaRecord(a.(k8stesting.CreateAction).GetObject()) {
			out = append(out, a.(k8stesting.CreateAction))
		}
	}
	return out
}

func (e *startEnv) jobs(t *testing.T) []batchv1.Job {
	t.Helper()
	l, err := e.client.BatchV1().Jobs("builds").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	return l.Items
}

// configMaps are the build contexts (the quota record left out).
func (e *startEnv) configMaps(t *testing.T) []corev1.ConfigMap {
	t.Helper()
	l, err := e.client.CoreV1().ConfigMaps("builds").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	var out []corev1.ConfigMap
	for _, cm := range l.Items {
		if !isQuotaRecord(&cm) {
			out = append(out, cm)
		}
	}
	return out
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestStartCreatesJobAndContext(t *testing.T) {
	tests := []struct {
		name           string
		baseUser       string
		file           string
		wantDockerfile func(pinned string) string
		wantData       map[string]string
	}{
		{
			name: "with a file", baseUser: "1001", file: "requests==2.31.0\n",
			wantDockerfile: func(pinned string) string {
				return "FROM " + pinned + "\nCOPY requirements.txt /tmp/requirements.txt\nUSER root\nRUN /bin/extend\nUSER 1001\n"
			},
			wantData: map[string]string{"requirements.txt": "requests==2.31.0\n"},
		},
		{
			name: "base image without a user", baseUser: "", file: "requests\n",
			wantDockerfile: func(pinned string) string {
				return "FROM " + pinned + "\nCOPY requirements.txt /tmp/requirements.txt\nUSER root\nRUN /bin/extend\nUSER nobody\n"
			},
			wantData: map[string]string{"requirements.txt": "requests\n"},
		},
		{
			name: "without a file", baseUser: "1001", file: "",
			wantDockerfile: func(pinned string) string { return "FROM " + pinned + "\n" },
			wantData:       map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStartEnv(t, nil, registrySecret("builds"))
			if tt.baseUser != "1001" {
				e.digest = testregistry.Push(t, e.source, testregistry.Image(t, tt.baseUser))
			}
			pinned := e.host + "/apache/runtime-python@" + e.digest
			var file []byte
			if tt.file != "" {
				file = []byte(tt.file)
			}

			got, err := e.svc.Start(context.Background(), "alice", e.request(b64(tt.file)))
			require.NoError(t, err)

			wantID := buildjob.ID(buildjob.Inputs{Kind: "python", Source: pinned, File: file, Target: e.host + "/alice:py1"})
			assert.Equal(t, wantID, got.ID)
			assert.Equal(t, buildjob.JobName("alice", wantID), got.JobName)
			assert.Equal(t, "pull.example.com/alice:py1", got.Image)
			assert.False(t, got.Existing)

			jobs := e.jobs(t)
			require.Len(t, jobs, 1)
			job := jobs[0]
			assert.Equal(t, got.JobName, job.Name)
			assert.Equal(t, "alice", job.Labels[kube.LabelUser])
			assert.Equal(t, "python", job.Labels[kube.LabelKind])
			assert.Equal(t, wantID[:32], job.Labels[kube.LabelBuildID])
			assert.Equal(t, pinned, job.Annotations[kube.AnnotationSource])
			assert.Equal(t, "pull.example.com/alice:py1", job.Annotations[kube.AnnotationImage])
			c := job.Spec.Template.Spec.InitContainers[1]
			assert.Equal(t, config.DefaultKanikoImage, c.Image)
			assert.Contains(t, c.Args, "--destination="+e.host+"/alice:py1")
			assert.Contains(t, job.Spec.Template.Spec.Containers[0].Args, e.host+"/alice:py1", "the push step pushes there")
			assert.Contains(t, c.Args, "--label=org.opencontainers.image.base.digest="+e.digest)
			assert.Contains(t, c.Args, "--label=org.opencontainers.image.base.name="+e.source)
			pod := job.Spec.Template.Spec
			for _, step := range append(pod.InitContainers, pod.Containers...) {
				for _, a := range step.Args {
					assert.False(t, strings.HasPrefix(a, "--insecure"), "insecure flag %q without registry_insecure", a)
				}
			}
			assert.Equal(t, int64(900), *job.Spec.ActiveDeadlineSeconds)
			secrets := map[string]string{}
			for _, v := range pod.Volumes {
				if v.Secret != nil {
					secrets[v.Name] = v.Secret.SecretName
				}
			}
			assert.Equal(t, map[string]string{"pull-config": "registry-pull-secret", "push-config": "registry-pull-secret"}, secrets)

			cms := e.configMaps(t)
			require.Len(t, cms, 1)
			cm := cms[0]
			assert.True(t, strings.HasPrefix(cm.Name, job.Name+"-"), "context %s named after its Job", cm.Name)
			assert.Equal(t, cm.Name, pod.Volumes[0].ConfigMap.Name, "the Job mounts its own context")
			want := map[string]string{"Dockerfile": tt.wantDockerfile(pinned), "hosts": testHosts, "resolv.conf": testResolvConf}
			for k, v := range tt.wantData {
				want[k] = v
			}
			assert.Equal(t, want, cm.Data)
			require.Len(t, cm.OwnerReferences, 1)
			assert.Equal(t, job.UID, cm.OwnerReferences[0].UID)
			assert.NotEmpty(t, job.UID)
			assert.Equal(t, job.Name, cm.OwnerReferences[0].Name)
		})
	}
}

func TestStartAgainAnswersTheSameJob(t *testing.T) {
	e := newStartEnv(t, nil, registrySecret("builds"))
	req := e.request(b64("requests\n"))
	first, err := e.svc.Start(context.Background(), "alice", req)
	require.NoError(t, err)
	require.False(t, first.Existing)
	createsBefore := len(e.creates())
	require.Equal(t, 2, createsBefore, "one Job and one ConfigMap")

	again, err := e.svc.Start(context.Background(), "alice", req)
	require.NoError(t, err)
	assert.True(t, again.Existing)
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, first.JobName, again.JobName)
	assert.Equal(t, first.Image, again.Image)
	assert.Len(t, e.creates(), createsBefore, "a repeated start creates nothing")
	assert.Len(t, e.jobs(t), 1)
	assert.Len(t, e.configMaps(t), 1)

	// Another tag is another build.
	other := req
	other.Target = "alice:py2"
	third, err := e.svc.Start(context.Background(), "alice", other)
	require.NoError(t, err)
	assert.False(t, third.Existing)
	assert.NotEqual(t, first.JobName, third.JobName)
	assert.Len(t, e.jobs(t), 2)
}

func TestStartInsecureRegistry(t *testing.T) {
	e := newStartEnv(t, func(c *config.Config) { c.RegistryInsecure = true }, registrySecret("builds"))
	_, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	jobs := e.jobs(t)
	require.Len(t, jobs, 1)
	pod := jobs[0].Spec.Template.Spec
	fetch := pod.InitContainers[0].Args
	assert.Contains(t, fetch, "--insecure-registry="+e.host)
	assert.Contains(t, fetch, "--insecure-registry=pull.example.com")
	assert.Contains(t, pod.Containers[0].Args, "--insecure", "the push to the platform's registry is plain HTTP")
}

func TestStartPullHostDefaultsToPushHost(t *testing.T) {
	e := newStartEnv(t, func(c *config.Config) { c.RegistryPullHost = "" }, registrySecret("builds"))
	got, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.Equal(t, e.host+"/alice:py1", got.Image)
}

func TestStartValidation(t *testing.T) {
	const goodFile = "requests\n"
	big := strings.Repeat("a", 512<<10+1)
	tests := []struct {
		name       string
		req        StartRequest
		wantKind   fault.Kind
		wantReason string
		wantMsg    string
	}{
		{name: "nothing", req: StartRequest{}, wantKind: fault.Invalid, wantReason: "MissingSource", wantMsg: "No source provided for build."},
		{name: "blank source", req: StartRequest{Source: "  ", Target: "alice:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "MissingSource", wantMsg: "No source provided for build."},
		{name: "no source, no target", req: StartRequest{Kind: "python"}, wantKind: fault.Invalid, wantReason: "MissingSource", wantMsg: "No source provided for build."},
		{name: "no target", req: StartRequest{Source: "apache/rt:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "MissingTarget", wantMsg: "No target provided for build."},
		{name: "no target, no kind", req: StartRequest{Source: "apache/rt:v1"}, wantKind: fault.Invalid, wantReason: "MissingTarget", wantMsg: "No target provided for build."},
		{name: "no kind", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1"}, wantKind: fault.Invalid, wantReason: "MissingKind", wantMsg: "No kind provided for build."},
		{name: "unsupported kind", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "cobol"}, wantKind: fault.Invalid, wantReason: "UnsupportedKind", wantMsg: "Unsupported kind: cobol"},
		{name: "unsupported kind before a bad target", req: StartRequest{Source: "apache/rt:v1", Target: "bob", Kind: "cobol"}, wantKind: fault.Invalid, wantReason: "UnsupportedKind", wantMsg: "Unsupported kind: cobol"},
		{name: "kind in upper case", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "Python"}, wantKind: fault.Invalid, wantReason: "UnsupportedKind", wantMsg: "Unsupported kind: Python"},
		{name: "invalid target", req: StartRequest{Source: "apache/rt:v1", Target: "alice", Kind: "python"}, wantKind: fault.Invalid, wantReason: "InvalidTarget", wantMsg: "Invalid target for the build. The target must be <user>:<tag>."},
		{name: "cross-user target", req: StartRequest{Source: "apache/rt:v1", Target: "bob:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "InvalidTarget", wantMsg: "Invalid target for the build."},
		{name: "target with a host", req: StartRequest{Source: "apache/rt:v1", Target: "evil.example.com/alice:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "InvalidTarget"},
		{name: "bad target before a bad source", req: StartRequest{Source: "x;y", Target: "bob:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "InvalidTarget", wantMsg: "Invalid target for the build."},
		{name: "shell in the source", req: StartRequest{Source: "apache/rt:v1;id", Target: "alice:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "InvalidSource"},
		{name: "bad source before a bad file", req: StartRequest{Source: "apache/rt v1", Target: "alice:v1", Kind: "python", File: "!!"}, wantKind: fault.Invalid, wantReason: "InvalidSource"},
		{name: "bad base64", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "python", File: "not base64!"}, wantKind: fault.Invalid, wantReason: "InvalidFile", wantMsg: "Requirements file must be valid base64-encoded data"},
		{name: "base64 with a line break", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "python", File: b64(goodFile)[:4] + "\n" + b64(goodFile)[4:]}, wantKind: fault.Invalid, wantReason: "InvalidFile", wantMsg: "Requirements file must be valid base64-encoded data"},
		{name: "unpadded base64", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "python", File: strings.TrimRight(b64("requests"), "=")}, wantKind: fault.Invalid, wantReason: "InvalidFile", wantMsg: "Requirements file must be valid base64-encoded data"},
		{name: "bad UTF-8", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "python", File: b64("requests\xff\xfe\n")}, wantKind: fault.Invalid, wantReason: "InvalidFile", wantMsg: "Requirements file must be valid UTF-8 text"},
		{name: "over 750000 base64 characters", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "python", File: strings.Repeat("A", 750_004)}, wantKind: fault.TooLarge, wantReason: "FileTooLarge"},
		{name: "over 512 KiB decoded", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "python", File: b64(big)}, wantKind: fault.TooLarge, wantReason: "FileTooLarge"},
		{name: "file reaching outside", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "python", File: b64("-r other.txt\n")}, wantKind: fault.Invalid},
		{name: "file not valid for its kind", req: StartRequest{Source: "apache/rt:v1", Target: "alice:v1", Kind: "nodejs", File: b64("{not json")}, wantKind: fault.Invalid},
		{name: "another user's repository", req: StartRequest{Source: "registry.example.com:5000/bob:v1", Target: "alice:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "SourceNotAllowed"},
		{name: "below the user's own repository", req: StartRequest{Source: "registry.example.com:5000/alice/cache:v1", Target: "alice:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "SourceNotAllowed"},
		{name: "another host", req: StartRequest{Source: "127.0.0.2:9/x:y", Target: "alice:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "SourceNotAllowed"},
		{name: "the official runtimes under another registry", req: StartRequest{Source: "ghcr.io/apache/openserverless-runtime-python:v1", Target: "alice:v1", Kind: "python"}, wantKind: fault.Invalid, wantReason: "SourceNotAllowed"},
		{name: "source not allowed before a bad file", req: StartRequest{Source: "evil.example.com/x:y", Target: "alice:v1", Kind: "python", File: "!!"}, wantKind: fault.Invalid, wantReason: "SourceNotAllowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Load(map[string]any{"allowed_sources": "apache/*", "registry_push_host": "registry.example.com:5000", "registry_pull_host": "registry.example.com"}, nil, "")
			require.NoError(t, err)
			client := fake.NewClientset(registrySecret(cfg.Namespace))
			s := NewService(client, cfg)
			_, err = s.Start(context.Background(), "alice", tt.req)
			require.Error(t, err)
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v is not a fault", err)
			assert.Equal(t, tt.wantKind, fe.Kind, "kind of %v", err)
			if tt.wantReason != "" {
				assert.Equal(t, tt.wantReason, fe.Reason)
			}
			if tt.wantMsg != "" {
				assert.Equal(t, tt.wantMsg, fe.Message)
			}
			assert.Empty(t, client.Actions(), "a request that fails validation reaches no API")
		})
	}
}

func TestStartFailures(t *testing.T) {
	closedPort := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return addr
	}
	tests := []struct {
		name       string
		noSecret   bool
		config     func(*config.Config)
		source     func(e *startEnv, t *testing.T) string
		wantKind   fault.Kind
		wantReason string
		wantMsg    string
	}{
		{
			name:       "registry secret missing",
			noSecret:   true,
			wantKind:   fault.Internal,
			wantReason: "RegistrySecretMissing",
			wantMsg:    "Secret registry-pull-secret is not configured!",
		},
		{
			name:       "registry secret missing, configured name",
			noSecret:   true,
			config:     func(c *config.Config) { c.RegistrySecret = "my-push-secret" },
			wantKind:   fault.Internal,
			wantReason: "RegistrySecretMissing",
			wantMsg:    "Secret my-push-secret is not configured!",
		},
		{
			name:       "unknown tag",
			source:     func(e *startEnv, t *testing.T) string { return e.host + "/apache/runtime-python:nope" },
			wantKind:   fault.Invalid,
			wantReason: "SourceNotFound",
		},
		{
			name: "a base image whose USER would add a line to the Dockerfile",
			source: func(e *startEnv, t *testing.T) string {
				src := e.host + "/apache/runtime-python:injected"
				testregistry.Push(t, src, testregistry.Image(t, "1001\nRUN cat /kaniko/.docker/config.json"))
				return src
			},
			wantKind:   fault.Invalid,
			wantReason: "InvalidBaseImage",
		},
		{
			name:       "unknown repository",
			source:     func(e *startEnv, t *testing.T) string { return e.host + "/apache/nothing:v1" },
			wantKind:   fault.Invalid,
			wantReason: "SourceNotFound",
		},
		{
			name:       "registry unreachable",
			config:     func(c *config.Config) { c.AllowedSources = []string{"*"} },
			source:     func(e *startEnv, t *testing.T) string { return closedPort(t) + "/apache/runtime-python:v3.13" },
			wantKind:   fault.Unavailable,
			wantReason: "RegistryUnavailable",
		},
		{
			name:       "source not on the allowlist",
			config:     func(c *config.Config) { c.AllowedSources = []string{"docker.io/apache/*"} },
			wantKind:   fault.Invalid,
			wantReason: "SourceNotAllowed",
		},
		{
			name: "source of another catalog entry only",
			config: func(c *config.Config) {
				c.AllowedSources = []string{"docker.io/apache/*"}
				c.Builders = map[string]config.Builder{"python:3.13": {Kind: "python", Source: "127.0.0.1:1/apache/runtime-python-other:v1"}}
			},
			wantKind:   fault.Invalid,
			wantReason: "SourceNotAllowed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objects []runtime.Object
			if !tt.noSecret {
				objects = append(objects, registrySecret("builds"))
			}
			e := newStartEnv(t, tt.config, objects...)
			req := e.request(b64("requests\n"))
			if tt.source != nil {
				req.Source = tt.source(e, t)
			}
			_, err := e.svc.Start(context.Background(), "alice", req)
			require.Error(t, err)
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v is not a fault", err)
			assert.Equal(t, tt.wantKind, fe.Kind, "kind of %v", err)
			assert.Equal(t, tt.wantReason, fe.Reason)
			if tt.wantMsg != "" {
				assert.Equal(t, tt.wantMsg, fe.Message)
			}
			assert.Empty(t, e.creates())
		})
	}
}

func TestStartAllowlist(t *testing.T) {
	tests := []struct {
		name    string
		allowed func(host string) []string
		catalog func(host string) map[string]config.Builder
	}{
		{name: "exact repository", allowed: func(h string) []string { return []string{h + "/apache/runtime-python"} }},
		{name: "wildcard", allowed: func(h string) []string { return []string{"docker.io/apache/*", h + "/apache/*"} }},
		{
			name:    "in the catalog",
			allowed: func(string) []string { return []string{"docker.io/apache/*"} },
			catalog: func(h string) map[string]config.Builder {
				return map[string]config.Builder{"python:3.13": {Kind: "python", Source: h + "/apache/runtime-python:v3.13"}}
			},
		},
		{
			name:    "in the catalog with another tag",
			allowed: func(string) []string { return []string{"docker.io/apache/*"} },
			catalog: func(h string) map[string]config.Builder {
				return map[string]config.Builder{"python:3.12": {Kind: "python", Source: h + "/apache/runtime-python:v3.12"}}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var host string
			e := newStartEnv(t, func(c *config.Config) {
				host = c.RegistryPushHost
				c.AllowedSources = tt.allowed(host)
				if tt.catalog != nil {
					c.Builders = tt.catalog(host)
				}
			}, registrySecret("builds"))
			_, err := e.svc.Start(context.Background(), "alice", e.request(""))
			require.NoError(t, err)
			assert.Len(t, e.jobs(t), 1)
		})
	}
}

// activeJob is an unfinished build Job of user, created before startNow.
func activeJob(name, user string) *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "builds", UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.NewTime(startNow.Add(-time.Minute)),
		Labels:            map[string]string{kube.LabelComponent: kube.Component, kube.LabelUser: user},
	}}
}

func doneJob(name, user string, cond batchv1.JobConditionType) *batchv1.Job {
	j := activeJob(name, user)
	j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(startNow.Add(-time.Second))}}
	return j
}

func TestStartQuota(t *testing.T) {
	deleting := activeJob("alice-deleting", "alice")
	deleting.DeletionTimestamp = &metav1.Time{Time: startNow}
	deleting.Finalizers = []string{"foregroundDeletion"}
	notBuild := activeJob("alice-not-a-build", "alice")
	delete(notBuild.Labels, kube.LabelComponent)

	tests := []struct {
		name    string
		perUser int
		global  int
		jobs    []runtime.Object
		wantMsg string // "" when the start goes through
	}{
		{
			name: "two active of the user", perUser: 2, global: 10,
			jobs:    []runtime.Object{activeJob("a1", "alice"), activeJob("a2", "alice")},
			wantMsg: "Too many active builds for this user (at most 2); retry when one finishes",
		},
		{
			name: "one active of the user", perUser: 2, global: 10,
			jobs: []runtime.Object{activeJob("a1", "alice"), activeJob("b1", "bob"), activeJob("b2", "bob")},
		},
		{
			name: "finished builds do not count", perUser: 2, global: 10,
			jobs: []runtime.Object{activeJob("a1", "alice"), doneJob("a2", "alice", batchv1.JobComplete), doneJob("a3", "alice", batchv1.JobFailed)},
		},
		{
			name: "builds being deleted do not count", perUser: 2, global: 10,
			jobs: []runtime.Object{activeJob("a1", "alice"), deleting},
		},
		{
			name: "Jobs that are no builds do not count", perUser: 2, global: 10,
			jobs: []runtime.Object{activeJob("a1", "alice"), notBuild},
		},
		{
			name: "platform full", perUser: 2, global: 3,
			jobs:    []runtime.Object{activeJob("b1", "bob"), activeJob("b2", "bob"), activeJob("c1", "carol")},
			wantMsg: "Too many active builds on the platform (at most 3); retry later",
		},
		{
			name: "platform full counts only unfinished", perUser: 2, global: 3,
			jobs: []runtime.Object{activeJob("b1", "bob"), activeJob("b2", "bob"), doneJob("c1", "carol", batchv1.JobComplete)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objects := append([]runtime.Object{registrySecret("builds")}, tt.jobs...)
			e := newStartEnv(t, func(c *config.Config) {
				c.MaxActiveBuildsPerUser, c.MaxActiveBuilds = tt.perUser, tt.global
			}, objects...)
			_, err := e.svc.Start(context.Background(), "alice", e.request(b64("requests\n")))
			if tt.wantMsg == "" {
				require.NoError(t, err)
				assert.Len(t, e.jobs(t), len(tt.jobs)+1)
				return
			}
			require.Error(t, err)
			fe := fault.As(err)
			require.NotNil(t, fe)
			assert.Equal(t, fault.TooMany, fe.Kind)
			assert.Equal(t, "QuotaExceeded", fe.Reason)
			assert.Equal(t, tt.wantMsg, fe.Message)
			assert.Greater(t, fe.RetryAfter, 0)
			assert.Empty(t, e.creates())
			assert.Len(t, e.jobs(t), len(tt.jobs))
		})
	}
}

// Two identical starts racing: the one that loses the create answers the
// winner's Job.
func TestStartLosesCreateRace(t *testing.T) {
	e := newStartEnv(t, nil, registrySecret("builds"))
	e.client.PrependReactor("create", "jobs", func(a k8stesting.Action) (bool, runtime.Object, error) {
		job := a.(k8stesting.CreateAction).GetObject().(*batchv1.Job).DeepCopy()
		job.UID = "uid-winner"
		if err := e.client.Tracker().Add(job); err != nil {
			return true, nil, err
		}
		return true, nil, apierrors.NewAlreadyExists(schema.GroupResource{Group: "batch", Resource: "jobs"}, job.Name)
	})
	got, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.True(t, got.Existing)
	jobs := e.jobs(t)
	require.Len(t, jobs, 1)
	assert.Equal(t, types.UID("uid-winner"), jobs[0].UID)
	assert.Equal(t, got.JobName, jobs[0].Name)
}

func TestStartJobNameConflict(t *testing.T) {
	tests := []struct {
		name   string
		change func(*batchv1.Job)
	}{
		{name: "another build id", change: func(j *batchv1.Job) { j.Annotations[kube.AnnotationBuildID] = strings.Repeat("0", 64) }},
		{name: "another user", change: func(j *batchv1.Job) { j.Labels[kube.LabelUser] = "bob" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probe := newStartEnv(t, nil, registrySecret("builds"))
			got, err := probe.svc.Start(context.Background(), "alice", probe.request(""))
			require.NoError(t, err)
			jobs := probe.jobs(t)
			require.Len(t, jobs, 1)
			squatter := jobs[0].DeepCopy()
			tt.change(squatter)

			// The same registry holds the same image, so the same build has the same id.
			e := &startEnv{host: probe.host, source: probe.source, digest: probe.digest, cfg: probe.cfg}
			e.client = fake.NewClientset(registrySecret("builds"), squatter)
			e.svc = NewService(e.client, e.cfg)
			_, err = e.svc.Start(context.Background(), "alice", e.request(""))
			require.Error(t, err)
			assert.Equal(t, fault.Conflict, fault.KindOf(err))
			assert.Equal(t, got.JobName, squatter.Name)
			assert.Empty(t, e.creates())
		})
	}
}

func TestStartRemovesJobWhenContextFails(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantKind fault.Kind
	}{
		{name: "refused", err: errForbidden(), wantKind: fault.Internal},
		{name: "unavailable", err: errUnavailable(), wantKind: fault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStartEnv(t, nil, registrySecret("builds"))
			e.client.PrependReactor("create", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
				if isQuotaRecord(a.(k8stesting.CreateAction).GetObject()) {
					return false, nil, nil
				}
				return true, nil, tt.err
			})
			_, err := e.svc.Start(context.Background(), "alice", e.request(b64("requests\n")))
			require.Error(t, err)
			assert.Equal(t, tt.wantKind, fault.KindOf(err))
			assert.Empty(t, e.jobs(t), "the Job is deleted again")
			assert.Empty(t, e.configMaps(t))

			var deletes []k8stesting.DeleteAction
			for _, a := range e.client.Actions() {
				if a.Matches("delete", "jobs") {
					deletes = append(deletes, a.(k8stesting.DeleteAction))
				}
			}
			require.Len(t, deletes, 1)
			opts := deletes[0].GetDeleteOptions()
			require.NotNil(t, opts.PropagationPolicy)
			assert.Equal(t, metav1.DeletePropagationBackground, *opts.PropagationPolicy)
		})
	}
}

func TestStartKubernetesErrors(t *testing.T) {
	tests := []struct {
		name     string
		verb     string
		resource string
		err      error
		wantKind fault.Kind
	}{
		{name: "job create refused", verb: "create", resource: "jobs", err: errForbidden(), wantKind: fault.Internal},
		{name: "job create unavailable", verb: "create", resource: "jobs", err: errUnavailable(), wantKind: fault.Unavailable},
		{name: "job list refused", verb: "list", resource: "jobs", err: errForbidden(), wantKind: fault.Internal},
		{name: "job list timeout", verb: "list", resource: "jobs", err: apierrors.NewTimeoutError("slow", 1), wantKind: fault.Unavailable},
		{name: "registry config unreadable", verb: "get", resource: "secrets", err: errUnavailable(), wantKind: fault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStartEnv(t, nil, registrySecret("builds"))
			e.client.PrependReactor(tt.verb, tt.resource, func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, tt.err
			})
			_, err := e.svc.Start(context.Background(), "alice", e.request(""))
			require.Error(t, err)
			assert.Equal(t, tt.wantKind, fault.KindOf(err), "kind of %v", err)
			assert.Empty(t, e.configMaps(t))
		})
	}
}

// recordingTransport counts the registry requests it carries and keeps
// their Authorization headers.
type recordingTransport struct {
	n    atomic.Int64
	mu   sync.Mutex
	auth []string
	next http.RoundTripper
}

func (r *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r.n.Add(1)
	r.mu.Lock()
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func TestStartUsesRegistryOptionsAndLogger(t *testing.T) {
	e := newStartEnv(t, nil)
	secret := registrySecret("builds")
	secret.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{"` + e.host + `":{"username":"builder","password":"hunter2-secret"}}}`)
	_, err := e.client.CoreV1().Secrets("builds").Create(context.Background(), secret, metav1.CreateOptions{})
	require.NoError(t, err)

	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	rt := &recordingTransport{next: http.DefaultTransport}
	svc := NewService(e.client, e.cfg, WithLogger(logger), WithRegistryOptions(imagestore.WithTransport(rt)))

	got, err := svc.Start(context.Background(), "alice", e.request(b64("requests\n")))
	require.NoError(t, err)
	assert.Positive(t, rt.n.Load(), "the registry was reached through the given transport")
	rt.mu.Lock()
	assert.Contains(t, rt.auth, "Basic "+base64.StdEncoding.EncodeToString([]byte("builder:hunter2-secret")), "the Secret's credentials reach the registry")
	rt.mu.Unlock()

	var created bool
	for _, entry := range hook.AllEntries() {
		line, err := entry.String()
		require.NoError(t, err)
		assert.NotContains(t, line, "hunter2-secret")
		assert.NotContains(t, line, base64.StdEncoding.EncodeToString([]byte("builder:hunter2-secret")))
		if entry.Message == "build job created" {
			created = true
			assert.Equal(t, got.JobName, entry.Data["job"])
			assert.Equal(t, got.ID, entry.Data["build_id"])
		}
	}
	assert.True(t, created, "the new Job is logged")
}

// A start past max_kept_builds_per_user prunes the oldest finished build,
// counting as finished one whose Pod pushed its image though its Job is
// not yet complete (its status already says succeeded).
func TestStartPrunesCountingAPushedBuild(t *testing.T) {
	old, older := doneJob("alice-old", "alice", batchv1.JobComplete), doneJob("alice-older", "alice", batchv1.JobComplete)
	older.Status.Conditions[0].LastTransitionTime = metav1.NewTime(startNow.Add(-time.Hour))
	pod := podOf("alice-pushed", 0, "sha256:"+strings.Repeat("ab", 32))
	pod.Status.ContainerStatuses[0].State.Terminated.FinishedAt = metav1.NewTime(startNow)
	e := newStartEnv(t, func(c *config.Config) { c.MaxKeptBuildsPerUser = 2 },
		registrySecret("builds"), old, older, activeJob("alice-pushed", "alice"), pod)
	_, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	var deleted []string
	for _, a := range e.client.Actions() {
		if a.Matches("delete", "jobs") {
			deleted = append(deleted, a.(k8stesting.DeleteAction).GetName())
		}
	}
	assert.Equal(t, []string{"alice-older"}, deleted, "three finished, two kept")
}

// Without its own resolver configuration the deployer makes no Job: its
// push step would otherwise resolve names with the Pod's files, which the
// build step can rewrite.
func TestStartWithoutResolverConfigurationMakesNoJob(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, []byte(" \n"), 0o644))
	for _, path := range []string{filepath.Join(dir, "missing"), empty} {
		e := newStartEnv(t, nil, registrySecret("builds"))
		e.svc = NewService(e.client, e.cfg, WithClock(func() time.Time { return startNow }), WithResolvConf(path))
		_, err := e.svc.Start(context.Background(), "alice", e.request(b64("six\n")))
		fe := fault.As(err)
		require.NotNil(t, fe, "%v", err)
		assert.Equal(t, fault.Internal, fe.Kind)
		assert.Equal(t, "Misconfigured", fe.Reason)
		assert.Contains(t, fe.Error(), "resolver configuration")
		assert.Empty(t, e.jobs(t))
		assert.Empty(t, e.configMaps(t))
	}
}
