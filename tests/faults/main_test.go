// Package faults tests what the deployer answers while a dependency is
// frozen (SIGSTOP by pid, then SIGCONT) or killed (SIGKILL by pid, then
// started again on the same address): the registry, the API server, the
// OpenWhisk API host that verifies tokens, and CouchDB. Each answer must be
// a 503 naming the dependency within 10 s, no build object may be left
// behind without its owner, and the first requests after recovery must
// succeed. Everything runs on the local stack (dev/local) on 127.0.0.1,
// with pouchdb-server as CouchDB and a separate process answering the
// OpenWhisk namespaces API.
package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/tests/testapi"
	"github.com/apache/openserverless-deployer/tests/testcouch"
)

// usersDB is the database of the users' environments.
const usersDB = "users_metadata"

var (
	env       *local.Stack
	couch     *testcouch.Server
	openwhisk *apiHost
)

func TestMain(m *testing.M) {
	// The same binary, started again, is the OpenWhisk API host.
	if addr := os.Getenv(apiHostAddrEnv); addr != "" {
		os.Exit(serveAPIHost(addr, os.Getenv(apiHostSubjectsEnv)))
	}
	testapi.StackMain("faults", func(dir string, logf *os.File) int { return run(m, dir, logf) })
}

func run(m *testing.M, dir string, logf *os.File) int {
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
	couch, err = testcouch.Start(ctx, root, couchDir, "admin", fmt.Sprintf("couch-%d", time.Now().UnixNano()), logf)
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting pouchdb-server:", err)
		return 1
	}
	defer func() {
		if err := couch.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	if err := seedCouch(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "seeding users_metadata:", err)
		return 1
	}
	openwhisk, err = newAPIHost(filepath.Join(dir, "subjects.json"), logf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	env, err = local.Start(ctx, local.Options{
		Dir:   dir,
		Users: []string{"alice", "bob"},
		Log:   logf,
		Inputs: map[string]any{
			// Every request verifies its token against the API host.
			"apihost":            openwhisk.URL,
			"auth_cache_seconds": "0",
			"couchdb_url":        couch.URL,
			"couchdb_user":       couch.User,
			"couchdb_password":   couch.Password,
			// Quotas are not what this package tests.
			"max_active_builds_per_user": "1000",
			"max_active_builds":          "1000",
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
	if err := openwhisk.start(ctx, env.Subjects); err != nil {
		fmt.Fprintln(os.Stderr, "starting the OpenWhisk API host:", err)
		return 1
	}
	defer func() {
		if err := openwhisk.stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	api = testapi.New(env)
	fmt.Printf("faults: local stack, CouchDB and API host up in %s\n", time.Since(began).Round(time.Millisecond))
	return m.Run()
}

// seedCouch creates users_metadata with a document for alice, as the
// operator keeps it; CouchDB in memory loses it when killed, so a restart
// seeds again.
func seedCouch(ctx context.Context) error {
	if err := couch.CreateDatabase(ctx, usersDB); err != nil {
		return err
	}
	return couch.Put(ctx, usersDB, map[string]any{"login": "alice", "env": []any{}, "userenv": []any{}})
}

// api calls the stack's API.
var api testapi.Client
