// Package registry tests the images API and the registry tasks on the local
// stack (dev/local): the images action, built and served by the gateway over
// ActionLoop, and the builder command's registry subcommands, against the
// Debian registry with auth (the reference registry's delete semantics) and
// a real API server holding the registry configuration and pull secret.
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/apache/openserverless-deployer/dev/local"
	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/tests/testapi"
)

var (
	env     *local.Stack
	builder string // the built cmd/builder
)

// Users of the stack: alice and bob are only read; carol and dave are for
// the API delete, erin has no image, frank is for the command's delete.
var users = []string{"alice", "bob", "carol", "dave", "erin", "frank"}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("registry: skipped in -short mode (needs the local stack)")
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "registry-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	logf, err := os.Create(filepath.Join(dir, "stack.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer logf.Close()
	root, err := stack.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	images := filepath.Join(dir, "images")
	builder = filepath.Join(dir, "builder")
	for out, pkg := range map[string]string{images: "./actions/images", builder: "./cmd/builder"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", pkg, err)
			return 1
		}
	}
	built := time.Since(began)
	env, err = local.Start(ctx, local.Options{
		Dir: dir, RepoRoot: root, Users: users, Log: logf,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the local stack:", err)
		testapi.Dump(logf.Name())
		return 1
	}
	api = testapi.New(env)
	fmt.Printf("registry: built in %s, stack up in %s\n", built.Round(time.Millisecond), (time.Since(began) - built).Round(time.Millisecond))
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code != 0 {
		testapi.Dump(logf.Name())
	}
	return code
}

// api calls the stack's API.
var api testapi.Client

type reply = testapi.Reply

// call sends one request to the images action as user ("" for no token).
// path follows build/images and is sent as is, escapes included.
func call(t *testing.T, user, method, path string) reply {
	t.Helper()
	return api.Call(t, user, method, "/images"+path, nil)
}

// listed is an image as the API and `builder list-images -json` print it.
type listed struct {
	Tag    string `json:"tag"`
	Digest string `json:"digest"`
	Image  string `json:"image"`
}

// list is GET build/images as user, decoded.
func list(t *testing.T, user string) []listed {
	t.Helper()
	r := call(t, user, http.MethodGet, "")
	require.Equal(t, http.StatusOK, r.Code, "answer: %s", r.Raw)
	var body struct {
		Status string   `json:"status"`
		Images []listed `json:"images"`
	}
	require.NoError(t, json.Unmarshal(r.Raw, &body))
	require.Equal(t, "ok", body.Status)
	require.NotNil(t, body.Images, "the list is [] when empty, never null: %s", r.Raw)
	return body.Images
}

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(256, 2)
	require.NoError(t, err)
	return img
}

// push writes img as <registry>/<repoTag> and returns its digest.
func push(t *testing.T, repoTag string, img v1.Image) string {
	t.Helper()
	ref, err := name.ParseReference(env.Registry.Host + "/" + repoTag)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithAuth(env.Registry.Auth())))
	d, err := img.Digest()
	require.NoError(t, err)
	return d.String()
}

// head returns the error of a HEAD of <registry>/<ref> (nil when it exists).
func head(t *testing.T, ref string) error {
	t.Helper()
	r, err := name.ParseReference(env.Registry.Host + "/" + ref)
	require.NoError(t, err)
	_, err = remote.Head(r, remote.WithAuth(env.Registry.Auth()))
	return err
}

// run runs the built builder command with exactly the environment given
// (plus PATH and a fresh HOME): nothing of the caller's registry, cluster
// or local stack settings leaks in.
func runBuilder(t *testing.T, vars map[string]string, args ...string) (stdout string, err error) {
	t.Helper()
	cmd := exec.Command(builder, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("builder %v: %w\n%s", args, err, errOut.String())
	}
	return out.String(), nil
}
