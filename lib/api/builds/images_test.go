package builds

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/apache/openserverless-deployer/lib/api"
	"github.com/apache/openserverless-deployer/lib/config"
	"github.com/apache/openserverless-deployer/lib/identity"
	"github.com/apache/openserverless-deployer/lib/imagestore"
	"github.com/apache/openserverless-deployer/lib/webaction"
	"github.com/apache/openserverless-deployer/tests/testregistry"
)

// imagesCall is a web call of user to the images action with the registry
// at push (pull host "pull.example.com"), and the Ops to serve it.
func imagesCall(t *testing.T, push, user, method, path string) (Ops, api.Call) {
	t.Helper()
	client := fake.NewClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: config.DefaultRegistrySecret, Namespace: "nuvolaris"},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{}}`)},
	})
	cfg, err := config.Load(map[string]any{
		"namespace": "nuvolaris", "registry_push_host": push, "registry_pull_host": "pull.example.com",
	}, func(string) (string, bool) { return "", false }, "")
	require.NoError(t, err)
	discard := logrus.New()
	discard.SetOutput(io.Discard)
	ops := Ops{Kube: func(config.Config) (kubernetes.Interface, error) { return client, nil }}
	return ops, api.Call{
		Request: webaction.Decode(map[string]any{"__ow_method": method, "__ow_path": path}),
		Caller:  identity.Caller{User: user, Web: true},
		Config:  cfg,
		Log:     discard,
	}
}

func ref(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	require.NoError(t, err)
	return r
}

func TestImages(t *testing.T) {
	host := testregistry.Start(t).Host
	img := testregistry.Image(t, "")
	var d string
	for _, r := range []string{host + "/alice:t1", host + "/bob:t1", host + "/bob:t2"} {
		d = testregistry.Push(t, r, img)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	require.NoError(t, l.Close())

	tests := []struct {
		name       string
		push       string
		method     string
		path       string
		wantStatus int
		wantReason string
		want       map[string]any // fields of the body that must match
	}{
		{
			name: "list", push: host, method: "get", wantStatus: 200,
			want: map[string]any{"images": []imagestore.Image{{Tag: "t1", Digest: d, Image: "pull.example.com/alice:t1"}}},
		},
		{name: "list with a slash", push: host, method: "get", path: "/", wantStatus: 200},
		{
			name: "delete", push: host, method: "delete", path: "/t1", wantStatus: 200,
			want: map[string]any{"digest": d, "tag": "t1", "image": "pull.example.com/alice:t1", "tags_removed": []string{"t1"}},
		},
		{name: "delete unknown", push: host, method: "delete", path: "/t9", wantStatus: 404, wantReason: "ImageNotFound"},
		{name: "another user's path", push: host, method: "delete", path: "/..%2Fbob:t1", wantStatus: 400, wantReason: "InvalidTag"},
		{name: "a repository in the path", push: host, method: "delete", path: "/bob:t1", wantStatus: 400, wantReason: "InvalidTag"},
		{name: "two segments", push: host, method: "delete", path: "/bob/t1", wantStatus: 400, wantReason: "InvalidTag"},
		{name: "bad escape", push: host, method: "delete", path: "/t%zz", wantStatus: 400, wantReason: "InvalidTag"},
		{name: "get one", push: host, method: "get", path: "/t1", wantStatus: 405, wantReason: "MethodNotAllowed"},
		{name: "delete all", push: host, method: "delete", wantStatus: 405, wantReason: "MethodNotAllowed"},
		{name: "post", push: host, method: "post", wantStatus: 405, wantReason: "MethodNotAllowed"},
		{name: "registry down, list", push: closed, method: "get", wantStatus: 503, wantReason: "RegistryUnavailable"},
		{name: "registry down, delete", push: closed, method: "delete", path: "/t1", wantStatus: 503, wantReason: "RegistryUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ops, call := imagesCall(t, tt.push, "alice", tt.method, tt.path)
			resp, err := ops.Images(context.Background(), call)
			if err != nil {
				resp = webaction.FromError(err)
			}
			assert.Equal(t, tt.wantStatus, resp.Status, "body %v", resp.Body)
			if tt.wantReason != "" {
				assert.Equal(t, "ko", resp.Body["status"])
				assert.Equal(t, tt.wantReason, resp.Body["reason"])
				return
			}
			assert.Equal(t, "ok", resp.Body["status"])
			for k, v := range tt.want {
				assert.Equal(t, v, resp.Body[k], k)
			}
			if tt.method == "delete" {
				assert.Contains(t, resp.Body["message"], "garbage collection")
			}
		})
	}

	// bob's images were never touched.
	for _, r := range []string{host + "/bob:t1", host + "/bob:t2"} {
		_, err := remote.Head(ref(t, r))
		assert.NoError(t, err, r)
	}
}

func TestImagesDeleteNamesTheOtherTags(t *testing.T) {
	host := testregistry.Start(t).Host
	img := testregistry.Image(t, "")
	for _, tag := range []string{"a", "b", "c"} {
		testregistry.Push(t, host+"/alice:"+tag, img)
	}
	ops, call := imagesCall(t, host, "alice", "delete", "/b")
	resp, err := ops.Images(context.Background(), call)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, resp.Body["tags_removed"])
	assert.Contains(t, resp.Body["message"], "also tagged a, c")
}
