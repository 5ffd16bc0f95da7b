package registry

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/imagestore"
)

// seeded are the digests of alice's and bob's images, pushed once.
var (
	seedOnce sync.Once
	seeded   struct{ shared, bob string }
)

// seed pushes alice:t1 and alice:t2 (one manifest), bob:t1, and bob:t2
// (alice's manifest, in bob's repository).
func seed(t *testing.T) {
	t.Helper()
	seedOnce.Do(func() {
		shared := randomImage(t)
		seeded.shared = push(t, "alice:t1", shared)
		push(t, "alice:t2", shared)
		seeded.bob = push(t, "bob:t1", randomImage(t))
		push(t, "bob:t2", shared)
	})
	require.NotEmpty(t, seeded.bob, "seeding failed")
}

func TestListShowsOnlyTheCallersImages(t *testing.T) {
	seed(t)
	h := env.Registry.Host
	tests := []struct {
		user string
		want []listed
	}{
		{user: "alice", want: []listed{
			{Tag: "t1", Digest: seeded.shared, Image: h + "/alice:t1"},
			{Tag: "t2", Digest: seeded.shared, Image: h + "/alice:t2"},
		}},
		{user: "bob", want: []listed{
			{Tag: "t1", Digest: seeded.bob, Image: h + "/bob:t1"},
			{Tag: "t2", Digest: seeded.shared, Image: h + "/bob:t2"},
		}},
		{user: "erin", want: []listed{}},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			assert.Equal(t, tt.want, list(t, tt.user))
		})
	}

	t.Run("no authorization", func(t *testing.T) {
		r := call(t, "", http.MethodGet, "")
		assert.Equal(t, http.StatusUnauthorized, r.Code)
		assert.NotContains(t, string(r.Raw), "t1")
	})

	t.Run("latency", func(t *testing.T) {
		const n = 20
		var took []time.Duration
		for range n {
			began := time.Now()
			list(t, "alice")
			took = append(took, time.Since(began))
		}
		slices.Sort(took)
		t.Logf("GET build/images (2 tags), %d warm calls through the gateway: median %s, max %s",
			n, took[n/2].Round(time.Microsecond), took[n-1].Round(time.Microsecond))
		assert.Less(t, took[n/2], time.Second)
	})
}

func TestDeleteRemovesTheManifestByDigest(t *testing.T) {
	img := randomImage(t)
	d := push(t, "carol:t1", img)
	push(t, "carol:t2", img)
	d3 := push(t, "carol:t3", randomImage(t))
	push(t, "dave:t1", img)
	h := env.Registry.Host

	began := time.Now()
	r := call(t, "carol", http.MethodDelete, "/t2")
	t.Logf("DELETE build/images/t2 (HEAD, list of 3 tags, DELETE): %s", time.Since(began).Round(time.Microsecond))
	require.Equal(t, http.StatusOK, r.Code, "answer: %s", r.Raw)
	assert.Equal(t, "ok", r.Body["status"])
	assert.Equal(t, d, r.Body["digest"])
	assert.Equal(t, "t2", r.Body["tag"])
	assert.Equal(t, h+"/carol:t2", r.Body["image"])
	assert.Equal(t, []any{"t1", "t2"}, r.Body["tags_removed"])
	assert.Contains(t, r.Body["message"], "garbage collection")
	assert.Contains(t, r.Body["message"], "t1", "the message names the other tag that went")

	tests := []struct {
		ref      string
		wantGone bool
	}{
		{ref: "carol:t1", wantGone: true},
		{ref: "carol:t2", wantGone: true},
		{ref: "carol@" + d, wantGone: true},
		{ref: "carol:t3"},
		{ref: "dave:t1"},
		{ref: "dave@" + d},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			err := head(t, tt.ref)
			if tt.wantGone {
				assert.True(t, imagestore.IsNotFound(err), "HEAD %s: %v", tt.ref, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
	assert.Equal(t, []listed{{Tag: "t3", Digest: d3, Image: h + "/carol:t3"}}, list(t, "carol"))
	assert.Equal(t, []listed{{Tag: "t1", Digest: d, Image: h + "/dave:t1"}}, list(t, "dave"))

	for _, tag := range []string{"t1", "t2", "never"} {
		r := call(t, "carol", http.MethodDelete, "/"+tag)
		assert.Equal(t, http.StatusNotFound, r.Code, "%s: %s", tag, r.Raw)
		assert.Equal(t, "ImageNotFound", r.Body["reason"], tag)
	}
	r = call(t, "erin", http.MethodDelete, "/t3")
	assert.Equal(t, http.StatusNotFound, r.Code, "carol's tag is not erin's: %s", r.Raw)
	assert.NoError(t, head(t, "carol:t3"))
}

func TestPathsAndMethodsThatAreRefused(t *testing.T) {
	seed(t)
	tests := []struct {
		method, path string
		wantStatus   int
		wantReason   string
	}{
		{http.MethodDelete, "/..%2Fbob:t1", 400, "InvalidTag"},
		{http.MethodDelete, "/..%2F..%2Fbob%3At1", 400, "InvalidTag"},
		{http.MethodDelete, "/../bob:t1", 400, "InvalidTag"},
		{http.MethodDelete, "/bob:t1", 400, "InvalidTag"},
		{http.MethodDelete, "/%2E%2E", 400, "InvalidTag"},
		{http.MethodDelete, "/t1/x", 400, "InvalidTag"},
		{http.MethodDelete, "/bob%2Ft1", 400, "InvalidTag"},
		{http.MethodDelete, "/" + env.Registry.Host + "%2Fbob:t1", 400, "InvalidTag"},
		{http.MethodDelete, "/t1@sha256:" + strings.Repeat("0", 64), 400, "InvalidTag"},
		{http.MethodDelete, "/" + strings.Repeat("a", 129), 400, "InvalidTag"},
		{http.MethodDelete, "", 405, "MethodNotAllowed"},
		{http.MethodGet, "/t1", 405, "MethodNotAllowed"},
		{http.MethodPost, "", 405, "MethodNotAllowed"},
		{http.MethodPut, "/t1", 405, "MethodNotAllowed"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := call(t, "alice", tt.method, tt.path)
			assert.Equal(t, tt.wantStatus, r.Code, "answer: %s", r.Raw)
			assert.Equal(t, "ko", r.Body["status"])
			assert.Equal(t, tt.wantReason, r.Body["reason"])
		})
	}
	for _, ref := range []string{"bob:t1", "bob:t2", "alice:t1", "alice:t2"} {
		assert.NoError(t, head(t, ref), "%s must still be there", ref)
	}
}

// access are the three ways the builder command finds the registry.
func access(t *testing.T) map[string]map[string]string {
	t.Helper()
	dir := t.TempDir()
	info, err := json.Marshal(map[string]any{
		"registry": env.Registry.Host, "registry_user": env.Registry.User, "registry_password": env.Registry.Password,
		"kubeconfig": env.Kube.Kubeconfig, "namespace": local.Namespace,
	})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stack.json"), info, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600))
	return map[string]map[string]string{
		"cluster":     {"KUBECONFIG": env.Kube.Kubeconfig, "BUILD_NAMESPACE": local.Namespace},
		"environment": {"REGISTRY_HOST": env.Registry.Host, "REGISTRY_USER": env.Registry.User, "REGISTRY_PASS": env.Registry.Password},
		"local stack": {"DEPLOYER_LOCAL": dir},
	}
}

func TestBuilderCommandsPrintWhatTheAPIShows(t *testing.T) {
	seed(t)
	for how, vars := range access(t) {
		t.Run(how, func(t *testing.T) {
			for _, user := range []string{"alice", "bob", "erin"} {
				began := time.Now()
				out, err := runBuilder(t, vars, "list-images", "-catalog", user, "-json")
				require.NoError(t, err)
				t.Logf("builder list-images -catalog %s: %s", user, time.Since(began).Round(time.Millisecond))
				var got struct {
					Repository string   `json:"repository"`
					Images     []listed `json:"images"`
				}
				require.NoError(t, json.Unmarshal([]byte(out), &got), out)
				assert.Equal(t, env.Registry.Host+"/"+user, got.Repository)
				assert.Equal(t, list(t, user), got.Images, user)
			}

			out, err := runBuilder(t, vars, "list-images", "-catalog", "alice")
			require.NoError(t, err)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			require.Len(t, lines, 3, out)
			assert.Equal(t, []string{"t1", seeded.shared, env.Registry.Host + "/alice:t1"}, strings.Fields(lines[1]))

			out, err = runBuilder(t, vars, "list-catalogs")
			require.NoError(t, err)
			repos := strings.Fields(out)
			for _, r := range []string{"alice", "bob", "runtime-python"} {
				assert.Contains(t, repos, r)
			}
			assert.NotContains(t, repos, "erin", "erin has no repository")

			out, err = runBuilder(t, vars, "get-image", "-image", "alice:t1")
			require.NoError(t, err)
			var m imagestore.Manifest
			require.NoError(t, json.Unmarshal([]byte(out), &m), out)
			assert.Equal(t, seeded.shared, m.Digest)
			assert.Equal(t, env.Registry.Host+"/alice:t1", m.Reference)
			assert.Len(t, m.Layers, 2)
			assert.Positive(t, m.Size)
		})
	}
}

func TestBuilderDeleteImage(t *testing.T) {
	img := randomImage(t)
	d := push(t, "frank:x1", img)
	push(t, "frank:x2", img)
	d3 := push(t, "frank:x3", randomImage(t))
	vars := access(t)["cluster"]

	out, err := runBuilder(t, vars, "delete-image", "-image", "frank:x1")
	require.NoError(t, err)
	assert.Contains(t, out, "deleted "+env.Registry.Host+"/frank@"+d)
	assert.Contains(t, out, "tags removed: x1 x2")
	assert.Contains(t, out, "garbage collection")
	assert.Equal(t, []listed{{Tag: "x3", Digest: d3, Image: env.Registry.Host + "/frank:x3"}}, list(t, "frank"))
	assert.True(t, imagestore.IsNotFound(head(t, "frank@"+d)))

	_, err = runBuilder(t, vars, "delete-image", "-image", "frank:x1")
	assert.ErrorContains(t, err, "not found")
}

func TestBuilderUpdatetoml(t *testing.T) {
	vars := access(t)["cluster"]
	vars["REGISTRY_INSECURE"] = "true"
	out, err := runBuilder(t, vars, "updatetoml", "-mirrors", "mirror.example.com")
	require.NoError(t, err)
	cm, err := env.Kube.Client.CoreV1().ConfigMaps(local.Namespace).Get(context.Background(), "builder-registry-config", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, out, cm.Data["registry.toml"], "it prints what it wrote")
	h := env.Registry.Host
	assert.Contains(t, out, "push_host = \""+h+"\"\npull_host = \""+h+"\"\n")
	assert.Contains(t, out, "[registry.\""+h+"\"]\nhttp = true\ninsecure = true\n")
	assert.Contains(t, out, "[registry.\"docker.io\"]\nmirrors = [\"mirror.example.com\"]\n")

	// Again without plain HTTP or mirrors: the ConfigMap is rewritten.
	delete(vars, "REGISTRY_INSECURE")
	out, err = runBuilder(t, vars, "updatetoml")
	require.NoError(t, err)
	cm, err = env.Kube.Client.CoreV1().ConfigMaps(local.Namespace).Get(context.Background(), "builder-registry-config", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, out, cm.Data["registry.toml"])
	assert.Contains(t, out, "http = false\n")
	assert.NotContains(t, out, "mirrors")
}
