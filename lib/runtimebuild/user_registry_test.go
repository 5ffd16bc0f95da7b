package runtimebuild

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/fault"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/runtimebuild/buildjob"
	"github.com/apache/openserverless-deployer/lib/userregistry"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

const (
	couchUser     = "whisk_admin"
	couchPassword = "couch-pw"
	// The user's registry credentials; the password holds a colon, as passwords may.
	userRegUser     = "alice-pusher"
	userRegPassword = "pa55:w0rd-do-not-leak"
)

// userRegAuth is the base64 "auth" of the user's registry credentials.
var userRegAuth = base64.StdEncoding.EncodeToString([]byte(userRegUser + ":" + userRegPassword))

// couchStandIn answers CouchDB's Mango _find on users_metadata, by login,
// behind basic authentication, from docs; it counts the requests.
func couchStandIn(t *testing.T, docs ...map[string]any) (url string, requests *atomic.Int64) {
	t.Helper()
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if u, p, ok := r.BasicAuth(); !ok || u != couchUser || p != couchPassword {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/users_metadata/_find" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		var q struct {
			Selector struct {
				Login struct {
					Eq string `json:"$eq"`
				} `json:"login"`
			} `json:"selector"`
		}
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		found := []map[string]any{}
		for _, d := range docs {
			if d["login"] == q.Selector.Login.Eq {
				found = append(found, d)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"docs": found})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

// kv is an env list as OpenServerless stores it.
func kv(pairs ...string) []any {
	var out []any
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, map[string]any{"key": pairs[i], "value": pairs[i+1]})
	}
	return out
}

// withCouch points the configuration at the stand-in.
func withCouch(url string, more ...func(*config.Config)) func(*config.Config) {
	return func(c *config.Config) {
		c.CouchURL, c.CouchUser, c.CouchPassword = url, couchUser, couchPassword
		for _, m := range more {
			m(c)
		}
	}
}

// userSecretObject is a Secret an administrator made for a user.
func userSecretObject(name, user string, typ corev1.SecretType) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "builds"},
		Type:       typ,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"user.example.com":{"username":"u","password":"p"}}}`)},
	}
	if user != "" {
		s.Labels = map[string]string{kube.LabelUser: user}
	}
	return s
}

func (e *startEnv) secrets(t *testing.T) []corev1.Secret {
	t.Helper()
	l, err := e.client.CoreV1().Secrets("builds").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	return l.Items
}

// createdSecrets are the Secrets the Service created (not the fixtures).
func (e *startEnv) createdSecrets() []*corev1.Secret {
	var out []*corev1.Secret
	for _, a := range e.creates() {
		if s, ok := a.GetObject().(*corev1.Secret); ok {
			out = append(out, s)
		}
	}
	return out
}

func TestStartPushesToTheUserRegistry(t *testing.T) {
	userHost := testregistry.Start(t).Host
	otherHost := testregistry.Start(t).Host
	tests := []struct {
		name         string
		doc          map[string]any // alice's document; nil: none
		insecure     bool
		wantHost     string // "" : the platform's
		wantInsecure func(e *startEnv) []string
	}{
		{
			name:     "userenv over env",
			doc:      map[string]any{"env": kv(userregistry.EnvRegistryHost, otherHost), "userenv": kv(userregistry.EnvRegistryHost, userHost)},
			wantHost: userHost,
		},
		{
			name:     "env only",
			doc:      map[string]any{"env": kv(userregistry.EnvRegistryHost, otherHost)},
			wantHost: otherHost,
		},
		{
			name:     "a trailing slash",
			doc:      map[string]any{"userenv": kv(userregistry.EnvRegistryHost, userHost+"/")},
			wantHost: userHost,
		},
		{
			name: "other settings only",
			doc:  map[string]any{"userenv": kv("OTHER", "x")},
		},
		{
			name: "no document",
		},
		{
			name:     "the user registry is never plain HTTP by configuration",
			doc:      map[string]any{"userenv": kv(userregistry.EnvRegistryHost, userHost)},
			insecure: true,
			wantHost: userHost,
			wantInsecure: func(e *startEnv) []string {
				return []string{"--insecure-registry=" + e.host, "--insecure-registry=pull.example.com"}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := []map[string]any{{"login": "bob", "userenv": kv(userregistry.EnvRegistryHost, "bob.example.com")}}
			if tt.doc != nil {
				tt.doc["login"] = "alice"
				docs = append(docs, tt.doc)
			}
			url, requests := couchStandIn(t, docs...)
			e := newStartEnv(t, withCouch(url, func(c *config.Config) { c.RegistryInsecure = tt.insecure }), registrySecret("builds"))

			got, err := e.svc.Start(context.Background(), "alice", e.request(b64("requests\n")))
			require.NoError(t, err)
			assert.Equal(t, int64(1), requests.Load(), "one look-up per start")

			push, image := e.host+"/alice:py1", "pull.example.com/alice:py1"
			if tt.wantHost != "" {
				push, image = tt.wantHost+"/alice:py1", tt.wantHost+"/alice:py1"
			}
			pinned := e.host + "/apache/runtime-python@" + e.digest
			wantID := buildjob.ID(buildjob.Inputs{Kind: "python", Source: pinned, File: []byte("requests\n"), Target: push})
			assert.Equal(t, wantID, got.ID, "the destination is part of the id")
			assert.Equal(t, image, got.Image)

			jobs := e.jobs(t)
			require.Len(t, jobs, 1)
			job := jobs[0]
			pod := job.Spec.Template.Spec
			assert.Contains(t, pod.Containers[0].Args, push, "the push step pushes there")
			assert.Equal(t, image, job.Annotations[kube.AnnotationImage])
			secrets := map[string]string{}
			for _, v := range pod.Volumes {
				if v.Secret != nil {
					secrets[v.Name] = v.Secret.SecretName
				}
			}
			if tt.wantHost == "" {
				assert.Equal(t, map[string]string{"pull-config": config.DefaultRegistrySecret, "push-config": config.DefaultRegistrySecret}, secrets)
			} else {
				assert.Equal(t, map[string]string{"pull-config": config.DefaultRegistrySecret}, secrets,
					"a registry of the user's without a Secret of theirs gets no platform credentials: the push is anonymous")
			}
			assert.Empty(t, e.createdSecrets())
			var insecure []string
			for _, a := range pod.InitContainers[0].Args {
				if strings.HasPrefix(a, "--insecure-registry=") {
					insecure = append(insecure, a)
				}
			}
			var want []string
			if tt.wantInsecure != nil {
				want = tt.wantInsecure(e)
			}
			assert.ElementsMatch(t, want, insecure)
		})
	}
}

func TestStartWithoutCouchDBReadsNoEnvironment(t *testing.T) {
	_, requests := couchStandIn(t, map[string]any{"login": "alice", "userenv": kv(userregistry.EnvRegistryHost, "user.example.com")})
	e := newStartEnv(t, nil, registrySecret("builds"))
	got, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.Equal(t, "pull.example.com/alice:py1", got.Image)
	assert.Zero(t, requests.Load())
}

func TestStartRegistryHostOfThePlatform(t *testing.T) {
	platformHost := testregistry.Start(t).Host
	url, _ := couchStandIn(t, map[string]any{"login": "alice", "userenv": kv(userregistry.EnvRegistryHost, platformHost)})
	e := newStartEnv(t, withCouch(url, func(c *config.Config) { c.RegistryPushHost = platformHost }), registrySecret("builds"))
	got, err := e.svc.Start(context.Background(), "alice", e.request(""))
	require.NoError(t, err)
	assert.Equal(t, "pull.example.com/alice:py1", got.Image, "the platform's own host is the platform registry, pulled from its pull host")
	jobs := e.jobs(t)
	require.Len(t, jobs, 1)
	assert.Contains(t, jobs[0].Spec.Template.Spec.Containers[0].Args, platformHost+"/alice:py1")
}

func TestStartRegistrySecretByName(t *testing.T) {
	temporary := userSecretObject("build-alice-0123456789abcdef", "alice", corev1.SecretTypeDockerConfigJson)
	temporary.Labels[kube.LabelComponent] = kube.Component
	tests := []struct {
		name       string
		secretName string
		objects    []runtime.Object
		wantReason string // "" : accepted
	}{
		{name: "labelled for the user", secretName: "alice-registry", objects: []runtime.Object{userSecretObject("alice-registry", "alice", corev1.SecretTypeDockerConfigJson)}},
		{name: "without the label", secretName: "alice-registry", objects: []runtime.Object{userSecretObject("alice-registry", "", corev1.SecretTypeDockerConfigJson)}, wantReason: "RegistrySecretRefused"},
		{name: "labelled for another user", secretName: "bob-registry", objects: []runtime.Object{userSecretObject("bob-registry", "bob", corev1.SecretTypeDockerConfigJson)}, wantReason: "RegistrySecretRefused"},
		{name: "of another type", secretName: "alice-opaque", objects: []runtime.Object{userSecretObject("alice-opaque", "alice", corev1.SecretTypeOpaque)}, wantReason: "RegistrySecretRefused"},
		{name: "missing", secretName: "alice-nothing", wantReason: "RegistrySecretRefused"},
		{name: "the platform's own", secretName: config.DefaultRegistrySecret, wantReason: "RegistrySecretRefused"},
		{name: "a build's temporary Secret", secretName: temporary.Name, objects: []runtime.Object{temporary}, wantReason: "RegistrySecretRefused"},
		{name: "not a name", secretName: "Not A Name", wantReason: "InvalidRegistrySecret"},
	}
	userHost := testregistry.Start(t).Host
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := couchStandIn(t, map[string]any{"login": "alice", "userenv": kv(userregistry.EnvRegistryHost, userHost, userregistry.EnvRegistrySecret, tt.secretName)})
			objects := append([]runtime.Object{registrySecret("builds")}, tt.objects...)
			e := newStartEnv(t, withCouch(url), objects...)

			got, err := e.svc.Start(context.Background(), "alice", e.request(""))
			if tt.wantReason == "" {
				require.NoError(t, err)
				jobs := e.jobs(t)
				require.Len(t, jobs, 1)
				assert.Equal(t, map[string]string{"pull-config": config.DefaultRegistrySecret, "push-config": tt.secretName}, mountedSecrets(jobs[0]),
					"the push step mounts the user's Secret; the fetch step the platform's")
				assert.Equal(t, userHost+"/alice:py1", got.Image)
				assert.Empty(t, e.createdSecrets())
				return
			}
			require.Error(t, err)
			fe := fault.As(err)
			require.NotNil(t, fe, "error %v is not a fault", err)
			assert.Equal(t, fault.Invalid, fe.Kind, "400, whatever the reason")
			assert.Equal(t, tt.wantReason, fe.Reason)
			if tt.wantReason == "RegistrySecretRefused" {
				assert.Equal(t, "Registry secret "+tt.secretName+" is not available to this user", fe.Message, "the same words whether it exists or not")
			} else {
				assert.NotContains(t, fe.Message, tt.secretName)
			}
			assert.Empty(t, e.creates())
		})
	}
}

func TestStartRegistrySecretUserPassword(t *testing.T) {
	userHost := testregistry.Start(t).Host
	url, _ := couchStandIn(t, map[string]any{"login": "alice", "userenv": kv(
		userregistry.EnvRegistryHost, userHost, userregistry.EnvRegistrySecret, userRegUser+":"+userRegPassword)})
	e := newStartEnv(t, withCouch(url))
	platform := registrySecret("builds")
	platform.Data[corev1.DockerConfigJsonKey] = []byte(`{"auths":{"` + e.host + `":{"username":"builder","password":"platform-pw"},"` + userHost + `":{"username":"platform-for-user","password":"x"}}}`)
	_, err := e.client.CoreV1().Secrets("builds").Create(context.Background(), platform, metav1.CreateOptions{})
	require.NoError(t, err)
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	e.svc = NewService(e.client, e.cfg, WithLogger(logger))
	e.client.ClearActions()

	got, err := e.svc.Start(context.Background(), "alice", e.request(b64("requests\n")))
	require.NoError(t, err)
	assert.Equal(t, userHost+"/alice:py1", got.Image)

	var order []string
	for _, a := range e.creates() {
		order = append(order, a.GetResource().Resource)
	}
	assert.Equal(t, []string{"jobs", "secrets", "configmaps"}, order, "the Secret comes after the Job, before the context")

	jobs := e.jobs(t)
	require.Len(t, jobs, 1)
	job := jobs[0]
	created := e.createdSecrets()
	require.Len(t, created, 1)
	secret := created[0]
	assert.True(t, strings.HasPrefix(secret.Name, job.Name+"-"), "Secret %s named after its Job", secret.Name)
	assert.Equal(t, corev1.SecretTypeDockerConfigJson, secret.Type)
	assert.Equal(t, job.Labels, secret.Labels)
	assert.Empty(t, secret.Annotations)
	require.Len(t, secret.OwnerReferences, 1)
	ref := secret.OwnerReferences[0]
	assert.Equal(t, "Job", ref.Kind)
	assert.Equal(t, job.Name, ref.Name)
	assert.Equal(t, job.UID, ref.UID)
	require.NotNil(t, ref.Controller)
	assert.True(t, *ref.Controller)

	var config struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	require.NoError(t, json.Unmarshal(secret.Data[corev1.DockerConfigJsonKey], &config))
	assert.Equal(t, map[string]string{"username": userRegUser, "password": userRegPassword, "auth": userRegAuth}, config.Auths[userHost],
		"the user's credentials for the user's registry, over the platform's entry for it")
	assert.Len(t, config.Auths, 1, "the user's credentials only: the platform's stay in the platform's Secret")

	assert.Equal(t, map[string]string{"pull-config": "registry-pull-secret", "push-config": secret.Name}, mountedSecrets(job),
		"the push step mounts the temporary Secret; the fetch step the platform's")
	var mounted bool
	for _, m := range job.Spec.Template.Spec.Containers[0].VolumeMounts {
		if m.Name == "push-config" {
			mounted = m.MountPath == "/docker" && m.SubPath == ""
		}
	}
	assert.True(t, mounted, "at /docker, the push step's DOCKER_CONFIG")

	// Nothing of the credentials anywhere else: the Job, the context, the
	// Secret's metadata, the log.
	cms := e.configMaps(t)
	require.Len(t, cms, 1)
	for what, obj := range map[string]any{"job": job, "context": cms[0], "secret metadata": secret.ObjectMeta} {
		raw, err := json.Marshal(obj)
		require.NoError(t, err)
		for _, leak := range []string{userRegPassword, userRegAuth, userRegUser} {
			assert.NotContains(t, string(raw), leak, "%s holds a credential", what)
		}
	}
	require.NotEmpty(t, hook.AllEntries())
	for _, entry := range hook.AllEntries() {
		line, err := entry.String()
		require.NoError(t, err)
		for _, leak := range []string{userRegPassword, userRegAuth} {
			assert.NotContains(t, line, leak)
		}
	}
}

func TestStartRegistrySecretCannotBeCreated(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantKind fault.Kind
	}{
		{name: "refused", err: errForbidden(), wantKind: fault.Internal},
		{name: "unavailable", err: errUnavailable(), wantKind: fault.Unavailable},
		{
			name:     "an answer quoting the request",
			err:      apierrors.NewInvalid(schema.GroupKind{Kind: "Secret"}, "x", nil),
			wantKind: fault.Internal,
		},
		{name: "no answer", err: errors.New("connection reset"), wantKind: fault.Unavailable},
	}
	userHost := testregistry.Start(t).Host
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := couchStandIn(t, map[string]any{"login": "alice", "userenv": kv(
				userregistry.EnvRegistryHost, userHost, userregistry.EnvRegistrySecret, userRegUser+":"+userRegPassword)})
			e := newStartEnv(t, withCouch(url), registrySecret("builds"))
			e.client.PrependReactor("create", "secrets", func(a k8stesting.Action) (bool, runtime.Object, error) {
				err := tt.err
				if se, ok := err.(*apierrors.StatusError); ok && se.ErrStatus.Reason == metav1.StatusReasonInvalid {
					// The API server's message may quote what it was sent.
					se.ErrStatus.Message = "data: Invalid value: " + string(a.(k8stesting.CreateAction).GetObject().(*corev1.Secret).Data[corev1.DockerConfigJsonKey])
				}
				return true, nil, err
			})
			_, err := e.svc.Start(context.Background(), "alice", e.request(b64("requests\n")))
			require.Error(t, err)
			assert.Equal(t, tt.wantKind, fault.KindOf(err), "kind of %v", err)
			assert.NotContains(t, err.Error(), userRegPassword)
			assert.NotContains(t, err.Error(), userRegAuth)
			assert.Empty(t, e.jobs(t), "the Job is deleted again")
			assert.Empty(t, e.configMaps(t), "no context without its Secret")
			var deleted bool
			for _, a := range e.client.Actions() {
				if a.Matches("delete", "jobs") {
					deleted = true
					opts := a.(k8stesting.DeleteAction).GetDeleteOptions()
					require.NotNil(t, opts.PropagationPolicy)
					assert.Equal(t, metav1.DeletePropagationBackground, *opts.PropagationPolicy)
				}
			}
			assert.True(t, deleted)
		})
	}
}

func TestStartInvalidUserSettings(t *testing.T) {
	tests := []struct {
		name       string
		env        []any
		wantReason string
	}{
		{name: "host that means Docker Hub", env: kv(userregistry.EnvRegistryHost, "myregistry"), wantReason: "InvalidRegistryHost"},
		{name: "host with a scheme", env: kv(userregistry.EnvRegistryHost, "https://registry.example.com"), wantReason: "InvalidRegistryHost"},
		{name: "host with a space", env: kv(userregistry.EnvRegistryHost, "registry.example.com /x"), wantReason: "InvalidRegistryHost"},
		{name: "host with a digest", env: kv(userregistry.EnvRegistryHost, "registry.example.com/x@sha256:00"), wantReason: "InvalidRegistryHost"},
		{name: "host with credentials", env: kv(userregistry.EnvRegistryHost, "u:secret-pw@registry.example.com"), wantReason: "InvalidRegistryHost"},
		{name: "host in upper case", env: kv(userregistry.EnvRegistryHost, "registry.example.com/Team"), wantReason: "InvalidRegistryHost"},
		{name: "no user before the colon", env: kv(userregistry.EnvRegistryHost, "registry.example.com", userregistry.EnvRegistrySecret, ":secret-pw"), wantReason: "InvalidRegistrySecret"},
		{name: "no password after the colon", env: kv(userregistry.EnvRegistryHost, "registry.example.com", userregistry.EnvRegistrySecret, "secret-user:"), wantReason: "InvalidRegistrySecret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := couchStandIn(t, map[string]any{"login": "alice", "userenv": tt.env})
			e := newStartEnv(t, withCouch(url), registrySecret("builds"))
			_, err := e.svc.Start(context.Background(), "alice", e.request(""))
			require.Error(t, err)
			fe := fault.As(err)
			require.NotNil(t, fe)
			assert.Equal(t, fault.Invalid, fe.Kind)
			assert.Equal(t, tt.wantReason, fe.Reason)
			assert.NotContains(t, err.Error(), "secret-pw")
			assert.NotContains(t, err.Error(), "secret-user")
			assert.Empty(t, e.creates())
		})
	}
}

func TestStartCouchDBFailures(t *testing.T) {
	closed := func(t *testing.T) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close())
		return "http://" + addr
	}
	tests := []struct {
		name     string
		config   func(t *testing.T) func(*config.Config)
		wantKind fault.Kind
	}{
		{name: "unreachable", config: func(t *testing.T) func(*config.Config) { return withCouch(closed(t)) }, wantKind: fault.Unavailable},
		{name: "wrong credentials", config: func(t *testing.T) func(*config.Config) {
			url, _ := couchStandIn(t)
			return withCouch(url, func(c *config.Config) { c.CouchPassword = "wrong" })
		}, wantKind: fault.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStartEnv(t, tt.config(t), registrySecret("builds"))
			_, err := e.svc.Start(context.Background(), "alice", e.request(""))
			require.Error(t, err)
			assert.Equal(t, tt.wantKind, fault.KindOf(err), "kind of %v", err)
			assert.Empty(t, e.creates())
		})
	}
}

func TestEnsureUserRegistry(t *testing.T) {
	userHost := testregistry.Start(t, testregistry.BasicAuth(map[string]string{userRegUser: userRegPassword})).Host
	tests := []struct {
		name     string
		env      []any
		wantHost string // "" : the platform's
	}{
		{name: "platform ids stay as they are"},
		{name: "the user's registry is another build", env: kv(userregistry.EnvRegistryHost, userHost, userregistry.EnvRegistrySecret, userRegUser+":"+userRegPassword), wantHost: userHost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, _ := couchStandIn(t, map[string]any{"login": "alice", "userenv": tt.env})
			catalog := map[string]config.Builder{}
			e := newStartEnv(t, withCouch(url, func(c *config.Config) { c.Builders = catalog }), registrySecret("builds"))
			catalog["python:3.13"] = config.Builder{Kind: "python", Source: e.source}

			got, err := e.svc.Ensure(context.Background(), "alice", EnsureRequest{Builder: "python:3.13", Retry: true})
			require.NoError(t, err)
			require.True(t, got.Created)
			pinned := e.host + "/apache/runtime-python@" + e.digest
			wantID := buildjob.ID(buildjob.Inputs{Kind: "python", Source: pinned, Target: tt.wantHost})
			assert.Equal(t, wantID, got.ID)
			wantImage := "pull.example.com/alice:python-" + wantID[:20]
			if tt.wantHost != "" {
				assert.NotEqual(t, buildjob.ID(buildjob.Inputs{Kind: "python", Source: pinned}), got.ID)
				wantImage = tt.wantHost + "/alice:python-" + wantID[:20]
			}
			assert.Equal(t, wantImage, got.Image)
		})
	}
}

// An image already in the user's registry, which wants the user's
// credentials, answers at once: the look-up used them.
func TestEnsureFindsTheImageWithTheUserCredentials(t *testing.T) {
	userHost := testregistry.Start(t, testregistry.BasicAuth(map[string]string{userRegUser: userRegPassword})).Host
	url, _ := couchStandIn(t, map[string]any{"login": "alice", "userenv": kv(userregistry.EnvRegistryHost, userHost, userregistry.EnvRegistrySecret, userRegUser+":"+userRegPassword)})
	catalog := map[string]config.Builder{}
	e := newStartEnv(t, withCouch(url, func(c *config.Config) { c.Builders = catalog }), registrySecret("builds"))
	catalog["python:3.13"] = config.Builder{Kind: "python", Source: e.source}
	id := buildjob.ID(buildjob.Inputs{Kind: "python", Source: e.host + "/apache/runtime-python@" + e.digest, Target: userHost})
	img, err := random.Image(128, 1)
	require.NoError(t, err)
	ref, err := name.ParseReference(userHost + "/alice:python-" + id[:20])
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: userRegUser, Password: userRegPassword})))
	digest, err := img.Digest()
	require.NoError(t, err)

	got, err := e.svc.Ensure(context.Background(), "alice", EnsureRequest{Builder: "python:3.13", Retry: true})
	require.NoError(t, err)
	assert.Equal(t, Succeeded, got.State)
	assert.Equal(t, digest.String(), got.Digest)
	assert.Empty(t, e.creates())
}

// mountedSecrets maps the Secret volumes of a Job's Pod to their Secrets.
func mountedSecrets(job batchv1.Job) map[string]string {
	out := map[string]string{}
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			out[v.Name] = v.Secret.SecretName
		}
	}
	return out
}
