// Package rbac runs every operation of the deployer on the local stack
// (dev/local) with the production identity only: the actions reach the real
// API server with the token of deploy/rbac.yaml's service account, which
// RBAC holds to its Role. The API server keeps an audit log, from which the
// tests check that every right the Role grants is used by some operation and
// that no operation is refused one.
package rbac

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/userregistry"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

// The users of the tests and what their environments say (users_metadata).
const (
	// alice and bob use the platform registry and its Secret.
	alice, bob = "alice", "bob"
	// carol's REGISTRY_SECRET names a Secret an administrator labelled for her.
	carol       = "carol"
	carolSecret = "carol-registry"
	// dave's REGISTRY_SECRET is user:password: a temporary Secret per build.
	dave = "dave"
)

var (
	env *local.Stack
	dir string
	api testapi.Client
)

func TestMain(m *testing.M) {
	testapi.StackMain("rbac", func(stackDir string, logf *os.File) int {
		dir = stackDir
		return run(m, logf)
	})
}

func run(m *testing.M, logf *os.File) int {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	began := time.Now()
	users := &usersMetadata{docs: map[string]map[string]string{}}
	couch := httptest.NewServer(users)
	defer couch.Close()

	var err error
	env, err = local.Start(ctx, local.Options{
		Dir: dir, Users: []string{alice, bob, carol, dave}, Log: logf, Audit: true,
		Inputs: map[string]any{"couchdb_url": couch.URL, "max_active_builds_per_user": "5"},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local stack:", err)
		return 1
	}
	defer func() {
		if err := env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	api = testapi.New(env)
	users.docs[carol] = map[string]string{userregistry.EnvRegistrySecret: carolSecret}
	users.docs[dave] = map[string]string{userregistry.EnvRegistrySecret: env.Registry.User + ":" + env.Registry.Password}
	// An administrator's Secret for carol: the platform registry's credentials.
	_, err = env.Kube.Client.CoreV1().Secrets(local.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: carolSecret, Labels: map[string]string{kube.LabelUser: carol}},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: env.Registry.DockerConfigJSON()},
	}, metav1.CreateOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "creating carol's Secret:", err)
		return 1
	}
	fmt.Printf("rbac: local stack up in %s, actions as %s\n", time.Since(began).Round(time.Millisecond), env.Identity.Username())
	return m.Run()
}

// usersMetadata answers the Mango _find of lib/userenv as CouchDB's
// users_metadata does, from docs (user → userenv pairs). The per-user
// settings are tested against a real CouchDB-compatible server in
// tests/userenv; here they only lead the builds to the Secrets they use.
type usersMetadata struct{ docs map[string]map[string]string }

func (u *usersMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Selector struct {
			Login struct {
				Eq string `json:"$eq"`
			} `json:"login"`
		} `json:"selector"`
	}
	if r.Method != http.MethodPost || r.URL.Path != "/users_metadata/_find" || json.NewDecoder(r.Body).Decode(&q) != nil {
		http.Error(w, `{"error":"bad_request"}`, http.StatusBadRequest)
		return
	}
	docs := []map[string]any{}
	if kv, ok := u.docs[q.Selector.Login.Eq]; ok {
		var pairs []map[string]string
		for k, v := range kv {
			pairs = append(pairs, map[string]string{"key": k, "value": v})
		}
		docs = append(docs, map[string]any{"login": q.Selector.Login.Eq, "userenv": pairs})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"docs": docs})
}

type reply = testapi.Reply

func call(t *testing.T, user, method, path string, body any) reply {
	t.Helper()
	return api.Call(t, user, method, path, body)
}

func follow(t *testing.T, user, id string) reply {
	t.Helper()
	return api.Follow(t, user, id)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
