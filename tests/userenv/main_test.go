// Package userenv tests per-user registry settings end to end on the local
// stack (dev/local): the users' environments live in a CouchDB-compatible
// server (pouchdb-server, in memory) as OpenServerless keeps them in
// users_metadata; a user whose REGISTRY_HOST names a second registry, with
// REGISTRY_SECRET "user:password", gets a build that the real Kaniko pushes
// there with a temporary Secret owned by the Job; a user whose
// REGISTRY_SECRET names another user's Secret is refused.
package userenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/lib/kube"
	"github.com/apache/openserverless-deployer/lib/userregistry"
	"github.com/apache/openserverless-deployer/tests/testapi"
	"github.com/apache/openserverless-deployer/tests/testcouch"
)

// The users of the tests and their settings.
const (
	// owner builds into its own registry with "user:password".
	owner = "dora"
	// borrower names a Secret made for someone else.
	borrower = "erin"
	// lender is the user the borrowed Secret is labelled for.
	lender = "frank"

	lenderSecret = "frank-registry"
	// wrong names its own registry with a password the registry refuses;
	// anonymous names its own registry and no Secret.
	wrong     = "gus"
	anonymous = "hana"
	// pusher is the owner's account on the second registry.
	pusher         = "dora-pusher"
	pusherPassword = "Pu5h:er-pa55word-not-for-logs"

	couchAdmin = "admin"
)

var (
	env *local.Stack
	// userRegistry is the owner's own registry, a second Debian registry.
	userRegistry *stack.Registry
	// stackLog is where the stack, the gateway and the actions log.
	stackLog string
)

func TestMain(m *testing.M) {
	testapi.StackMain("userenv", func(dir string, logf *os.File) int { return run(m, dir, logf) })
}

func run(m *testing.M, dir string, logf *os.File) int {
	stackLog = logf.Name()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	began := time.Now()

	root, err := stack.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	couchDir := filepath.Join(dir, "couchdb")
	if err := os.Mkdir(couchDir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	couch, err := testcouch.Start(ctx, root, couchDir, couchAdmin, randomish(), logf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting pouchdb-server:", err)
		return 1
	}
	defer func() {
		if err := couch.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	env, err = local.Start(ctx, local.Options{
		Dir:   dir,
		Users: []string{owner, borrower, wrong, anonymous},
		Log:   logf,
		Inputs: map[string]any{
			"couchdb_url":      couch.URL,
			"couchdb_user":     couch.User,
			"couchdb_password": couch.Password,
		},
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
	userRegistry, err = stack.StartRegistry(ctx, stack.RegistryOptions{
		// Where the build Pods reach it: the stack's bridge.
		Dir: filepath.Join(dir, "user-registry"), Users: map[string]string{pusher: pusherPassword}, Addr: env.Bridge.Gateway.String(), Log: logf,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the user registry:", err)
		return 1
	}
	defer func() {
		if err := userRegistry.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	if err := seed(ctx, couch); err != nil {
		fmt.Fprintln(os.Stderr, "seeding users_metadata:", err)
		return 1
	}

	api = testapi.New(env)
	if err := lendSecret(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("userenv: local stack, CouchDB and user registry up in %s\n", time.Since(began).Round(time.Millisecond))
	return m.Run()
}

// seed stores the users' documents as the OpenServerless operator and
// `ops` do: the administrator's "env", the user's own "userenv".
func seed(ctx context.Context, couch *testcouch.Server) error {
	const db = "users_metadata"
	if err := couch.CreateDatabase(ctx, db); err != nil {
		return err
	}
	pairs := func(kv ...string) []map[string]string {
		var out []map[string]string
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, map[string]string{"key": kv[i], "value": kv[i+1]})
		}
		return out
	}
	docs := []map[string]any{
		{
			"login": owner, "email": owner + "@example.com",
			// The user's own setting wins over the administrator's.
			"env":     pairs(userregistry.EnvRegistryHost, "registry.invalid"),
			"userenv": pairs(userregistry.EnvRegistryHost, userRegistry.Host, userregistry.EnvRegistrySecret, pusher+":"+pusherPassword),
		},
		{
			"login": wrong, "email": wrong + "@example.com",
			"userenv": pairs(userregistry.EnvRegistryHost, userRegistry.Host, userregistry.EnvRegistrySecret, pusher+":not-the-password"),
		},
		{
			"login": anonymous, "email": anonymous + "@example.com",
			"userenv": pairs(userregistry.EnvRegistryHost, userRegistry.Host),
		},
		{
			"login": borrower, "email": borrower + "@example.com",
			"userenv": pairs(userregistry.EnvRegistryHost, userRegistry.Host, userregistry.EnvRegistrySecret, lenderSecret),
		},
	}
	for _, d := range docs {
		if err := couch.Put(ctx, db, d); err != nil {
			return err
		}
	}
	return nil
}

// lendSecret makes a registry Secret for the lender, as an administrator
// would for one user.
func lendSecret(ctx context.Context) error {
	_, err := env.Kube.Client.CoreV1().Secrets(local.Namespace).Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: lenderSecret, Labels: map[string]string{kube.LabelUser: lender}},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: userRegistry.DockerConfigJSON()},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating the lender's Secret: %w", err)
	}
	return nil
}

// randomish is a password for the CouchDB admin, new on every run.
func randomish() string { return fmt.Sprintf("couch-%d", time.Now().UnixNano()) }

// api calls the stack's API; call, follow and eventually are its shorthands.
var api testapi.Client

type reply = testapi.Reply

func call(t *testing.T, user, method, path string, body any) reply {
	t.Helper()
	return api.Call(t, user, method, path, body)
}

func follow(t *testing.T, user, id string) reply {
	t.Helper()
	return api.Follow(t, user, id)
}

var eventually = testapi.Eventually
