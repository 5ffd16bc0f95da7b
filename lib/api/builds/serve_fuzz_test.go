package builds

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

// registryPlaceholder in a fuzzed input stands for the in-process
// registry's host, whose port changes from run to run.
const registryPlaceholder = "{registry}"

// fuzzOps are the operations the actions serve, chosen by a fuzzed byte.
func fuzzOps(o Ops) []api.Operation {
	return []api.Operation{o.Start, o.Ensure, o.Cleanup, o.Status, o.Logs, o.Cancel, o.Images, api.Capabilities}
}

// FuzzServe feeds every operation, through Serve as the actions call it,
// parameters built from a fuzzed request the way OpenWhisk builds them: the
// JSON body's fields and the query's at the top level, __ow_method,
// __ow_path, __ow_query, __ow_headers with the authorization in any form,
// or a plain invoke's parameters as sent. Kubernetes is a fake clientset
// and the registry an in-process one on 127.0.0.1 that the allowlist and
// the builder catalog name, so an accepted request runs to the end and any
// 5xx is a fault of the deployer, not of an unreachable dependency. Every
// answer must be 2xx or 4xx, well-formed, JSON-encodable and free of the
// caller's key; no request may reach a host off loopback.
func FuzzServe(f *testing.F) {
	host, restore := fuzzRegistry(f)
	offLoopback := guardTransport(f)
	env := fuzzEnv(host)

	const python = `{"source":"{registry}/runtimes/python:3.13","target":"alice:py1","kind":"python","file":"` +
		"cmVxdWVzdHM9PTIuMzIuMwo=" + `"}`
	f.Add(uint8(0), "post", "", "", []byte(python), uint8(0), "", false)
	f.Add(uint8(0), "post", "", "", []byte(`{"source":"{registry}/alice:1","target":"alice:x","kind":"go","file":"bW9kdWxlIG0K"}`), uint8(1), "", false)
	f.Add(uint8(0), "post", "", "", []byte(`{"source":"docker.io/{registry}/runtimes/python:1","target":"bob:v1","kind":"python"}`), uint8(2), "", false)
	f.Add(uint8(1), "post", "", "", []byte(`{"builder":"python:3.13","file":"cmVxdWVzdHMK","retry":"false"}`), uint8(0), "", false)
	f.Add(uint8(1), "post", "", "", []byte(`{"source":"{registry}/runtimes/python:3.13","kind":"python"}`), uint8(0), "", true)
	f.Add(uint8(2), "post", "", "max_age_hours=24", []byte(`{"max_age_hours":"-1"}`), uint8(0), "", false)
	f.Add(uint8(3), "get", "/0123456789abcdef", "", []byte(nil), uint8(3), "Basic !!", false)
	f.Add(uint8(4), "get", "/ab/logs", "tail=5000&since=2026-01-02T15:04:05Z", []byte(nil), uint8(0), "", false)
	f.Add(uint8(5), "delete", "/x", "", []byte(`{"id":"x"}`), uint8(0), "", true)
	f.Add(uint8(6), "delete", "/1", "", []byte(nil), uint8(0), "", false)
	f.Add(uint8(6), "delete", "/%2Fx", "", []byte(nil), uint8(0), "", false)
	f.Add(uint8(7), "get", "", "", []byte(nil), uint8(0), "", false)

	f.Fuzz(func(t *testing.T, op uint8, method, path, query string, body []byte, auth uint8, header string, plain bool) {
		method, path, query = fill(method, host), fill(path, host), fill(query, host)
		body = []byte(fill(string(body), host))
		header = fill(header, host)
		args, namespace := fuzzArgs(method, path, query, body, auth, header, plain)

		client := fakeCluster()
		e := env
		e.Lookup = withNamespace(env.Lookup, namespace)
		ops := fuzzOps(Ops{Kube: func(config.Config) (kubernetes.Interface, error) { return client, nil }})
		resp := api.Serve(context.Background(), e, args, ops[int(op)%len(ops)])
		restore(t)

		if n := offLoopback.Swap(0); n > 0 {
			t.Fatalf("%d request(s) left loopback", n)
		}
		t.Logf("%d %v %v", resp.Status, resp.Body["reason"], resp.Body["message"])
		require.True(t, resp.Status >= 200 && resp.Status < 500, "status %d: %v", resp.Status, resp.Body)
		status, _ := resp.Body["status"].(string)
		if resp.Status >= 400 {
			assert.Equal(t, "ko", status, "%v", resp.Body)
			assert.NotEmpty(t, resp.Body["reason"], "%v", resp.Body)
			assert.NotEmpty(t, resp.Body["message"], "%v", resp.Body)
		} else {
			assert.Equal(t, "ok", status, "%v", resp.Body)
		}
		out, err := json.Marshal(resp.Map())
		require.NoError(t, err)
		assert.Less(t, len(out), 1<<20, "the reply is over the 1 MiB result limit")
		if sent := string(body) + path + query + header; !strings.Contains(sent, "alicekey") {
			assert.NotContains(t, string(out), "alicekey", "the reply repeats the caller's key")
		}
	})
}

// fill puts the registry's host in place of its placeholder.
func fill(s, host string) string { return strings.ReplaceAll(s, registryPlaceholder, host) }

// fuzzArgs builds the activation's parameters and namespace. A web call runs
// as the system namespace; its JSON body's and query's fields become
// top-level parameters, except the reserved __ow_ names (OpenWhisk refuses
// a request that sets them) and the settings (final inputs the caller
// cannot override). A plain invoke passes its parameters as they are, from
// a namespace chosen by auth; only the settings are still final.
func fuzzArgs(method, path, query string, body []byte, auth uint8, header string, plain bool) (map[string]any, string) {
	args := map[string]any{}
	var fields map[string]any
	isObject := json.Unmarshal(body, &fields) == nil && fields != nil
	if plain {
		for k, v := range fields {
			args[k] = v
		}
		dropSettings(args)
		return args, []string{"alice", "whisk-system", "Bob", "a/b"}[int(auth)%4]
	}
	for k, v := range fields {
		if !strings.HasPrefix(k, "__ow_") {
			args[k] = v
		}
	}
	q, _ := url.ParseQuery(query)
	for k, vs := range q {
		if _, ok := args[k]; !ok && !strings.HasPrefix(k, "__ow_") && len(vs) > 0 {
			args[k] = vs[0]
		}
	}
	dropSettings(args)
	headers := map[string]any{"accept": "application/json"}
	switch auth % 5 {
	case 0:
		headers["authorization"] = aliceToken
	case 1:
		headers["authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(aliceToken))
	case 2:
		headers["authorization"] = base64.StdEncoding.EncodeToString([]byte(aliceToken))
	case 3:
		headers["authorization"] = header
	}
	args["__ow_method"], args["__ow_path"], args["__ow_query"], args["__ow_headers"] = method, path, query, headers
	if !isObject && len(body) > 0 {
		args["__ow_body"] = string(body)
	}
	return args, "whisk-system"
}

func dropSettings(args map[string]any) {
	for _, k := range config.Keys() {
		delete(args, k)
	}
}

// fuzzEnv is the Env of the fuzzed activations: settings that point the
// registry, the allowlist and the builder catalog at the in-process
// registry, and the fake verifier of handle_test.go.
func fuzzEnv(host string) api.Env {
	vars := map[string]string{
		"__OW_API_HOST":      "https://openwhisk.example.com",
		"__OW_ACTION_NAME":   "/whisk-system/builder/start",
		"__OW_ACTIVATION_ID": "0123456789abcdef",
		"BUILD_NAMESPACE":    "builds",
		"REGISTRY_HOST":      host,
		"REGISTRY_PULL_HOST": host,
		"ALLOWED_SOURCES":    host + "/runtimes/*",
		"BUILDERS":           fmt.Sprintf(`{"python:3.13":{"kind":"python","source":"%s/runtimes/python:3.13"},"go:1.22":{"kind":"go","source":"%s/runtimes/go:missing"}}`, host, host),
		"AUTH_CACHE_SECONDS": "0",
	}
	discard := logrus.New()
	discard.SetOutput(io.Discard)
	return api.Env{
		Lookup:   func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		Verifier: tokenVerifier{aliceToken: "alice", bobToken: "bob"},
		Log:      discard,
	}
}

func withNamespace(lookup config.Lookup, ns string) config.Lookup {
	return func(k string) (string, bool) {
		if k == "__OW_NAMESPACE" {
			return ns, true
		}
		return lookup(k)
	}
}

// fakeCluster is a fake clientset holding the registry Secret, whose
// created objects get the UID and creation time the API server would give.
func fakeCluster() *fake.Clientset {
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: config.DefaultRegistrySecret, Namespace: "builds"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)},
	})
	var n atomic.Int64
	client.PrependReactor("create", "*", func(a k8stesting.Action) (bool, runtime.Object, error) {
		obj := a.(k8stesting.CreateAction).GetObject().(metav1.Object)
		obj.SetUID(types.UID(fmt.Sprintf("uid-%d", n.Add(1))))
		obj.SetCreationTimestamp(metav1.Now())
		return false, nil, nil
	})
	return client
}

// fuzzRegistry starts an in-process registry on 127.0.0.1, stopped when the
// fuzz test ends, holding the catalog's base image and two images of alice.
// restore pushes them again after a request deleted one, so every input
// meets the same registry.
func fuzzRegistry(f *testing.F) (host string, restore func(*testing.T)) {
	var deleted atomic.Bool
	host = testregistry.Start(f, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete {
				deleted.Store(true)
			}
			next.ServeHTTP(w, r)
		})
	}).Host
	img := testregistry.Image(f, "")
	push := func(tb testing.TB) {
		for _, ref := range []string{host + "/runtimes/python:3.13", host + "/alice:1", host + "/alice:2"} {
			testregistry.Push(tb, ref, img)
		}
	}
	push(f)
	return host, func(t *testing.T) {
		if deleted.Swap(false) {
			push(t)
		}
	}
}

// guardTransport replaces go-containerregistry's default transport, which
// every registry client of the deployer uses, by one that refuses and counts
// requests to any host off loopback.
func guardTransport(f *testing.F) *atomic.Int64 {
	var n atomic.Int64
	next := remote.DefaultTransport
	remote.DefaultTransport = roundTripper(func(r *http.Request) (*http.Response, error) {
		if ip := net.ParseIP(r.URL.Hostname()); ip == nil || !ip.IsLoopback() {
			n.Add(1)
			return nil, fmt.Errorf("request to %s refused: off loopback", r.URL.Host)
		}
		return next.RoundTrip(r)
	})
	f.Cleanup(func() { remote.DefaultTransport = next })
	return &n
}

type roundTripper func(*http.Request) (*http.Response, error)

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return rt(r) }
