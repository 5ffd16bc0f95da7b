package stepimages_test

import (
	"archive/tar"
	"context"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/apache/openserverless-deployer/dev/stack"
	"github.com/apache/openserverless-deployer/dev/stepimages"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// file is what a test expects of one path in an image.
type file struct {
	mode    int64 // permission and sticky bits
	dir     bool
	size    int64 // regular files: exactly this many bytes, when not 0
	minSize int64 // regular files: at least this many bytes
}

var kanikoEnv = []string{
	"HOME=/root",
	"USER=root",
	"PATH=/usr/local/bin:/kaniko",
	"SSL_CERT_DIR=/kaniko/ssl/certs",
	"DOCKER_CONFIG=/kaniko/.docker/",
	"DOCKER_CREDENTIAL_GCR_CONFIG=/kaniko/.config/gcloud/docker_credential_gcr_config.json",
}

func kanikoFiles(program string, ca int64) map[string]file {
	return map[string]file{
		"etc/nsswitch.conf":                    {mode: 0o644, size: int64(len("hosts: files dns\n"))},
		"kaniko":                               {mode: 0o777, dir: true},
		"kaniko/.docker":                       {mode: 0o755, dir: true},
		"kaniko/ssl/certs/ca-certificates.crt": {mode: 0o644, size: ca},
		"kaniko/" + program:                    {mode: 0o755, minSize: 10 << 20},
		"workspace":                            {mode: 0o755, dir: true},
	}
}

func TestPush(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute) // a cold machine builds Kaniko first
	defer cancel()
	root, err := stack.RepoRoot()
	require.NoError(t, err)
	reg, err := stack.StartRegistry(ctx, stack.RegistryOptions{Log: t.Output()})
	require.NoError(t, err)
	defer func() { assert.NoError(t, reg.Stop()) }()

	began := time.Now()
	images, err := stepimages.Push(ctx, root, reg.Host, reg.Auth(), t.Output())
	require.NoError(t, err)
	t.Logf("first Push: %s", time.Since(began))

	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuth(reg.Auth())}
	fi, err := os.Stat(stepimages.CABundle)
	require.NoError(t, err)
	ca := fi.Size()
	tests := []struct {
		name       string
		got        name.Digest
		repo, tag  string
		entrypoint []string
		env        []string
		workingDir string
		user       string
		files      map[string]file
	}{
		{
			name: "executor", got: images.Executor, repo: "kaniko-project/executor", tag: "v1.24.0",
			entrypoint: []string{"/kaniko/executor"}, env: kanikoEnv, workingDir: "/workspace",
			files: kanikoFiles("executor", ca),
		},
		{
			name: "warmer", got: images.Warmer, repo: "kaniko-project/warmer", tag: "v1.24.0",
			entrypoint: []string{"/kaniko/warmer"}, env: kanikoEnv, workingDir: "/workspace",
			files: kanikoFiles("warmer", ca),
		},
		{
			name: "crane", got: images.Crane, repo: "go-containerregistry/crane", tag: "v0.22.1",
			entrypoint: []string{"/ko-app/crane"},
			env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/ko-app",
				"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
				"KO_DATA_PATH=/var/run/ko",
			},
			files: map[string]file{
				"ko-app/crane":                      {mode: 0o755, minSize: 10 << 20},
				"etc/ssl/certs/ca-certificates.crt": {mode: 0o644, size: ca},
				"tmp":                               {mode: 0o1777, dir: true},
			},
		},
		{
			name: "pause", got: images.Pause, repo: "pause", tag: "3.10",
			entrypoint: []string{"/pause"}, user: "65535:65535",
			files: map[string]file{"pause": {mode: 0o755, minSize: 100_000}},
		},
		{
			name: "layer", got: images.Layer, repo: "apache/openserverless-deployer/layer", tag: "0.1.0",
			entrypoint: []string{"/layer/layerpush"},
			env:        []string{"PATH=/layer", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
			files: map[string]file{
				"layer/layerhelper":                 {mode: 0o755, minSize: 1 << 20},
				"layer/layerpush":                   {mode: 0o755, minSize: 1 << 20},
				"etc/ssl/certs/ca-certificates.crt": {mode: 0o644, size: ca},
				"etc/nsswitch.conf":                 {mode: 0o644, size: int64(len("hosts: files dns\n"))},
				"tmp":                               {mode: 0o1777, dir: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, reg.Host+"/"+tt.repo, tt.got.Context().Name())
			tag, err := name.NewTag(reg.Host+"/"+tt.repo+":"+tt.tag, name.Insecure)
			require.NoError(t, err)
			desc, err := remote.Head(tag, opts...)
			require.NoError(t, err)
			assert.Equal(t, tt.got.DigestStr(), desc.Digest.String(), "the tag points at the returned digest")

			img, err := remote.Image(tt.got, opts...)
			require.NoError(t, err)
			cf, err := img.ConfigFile()
			require.NoError(t, err)
			assert.Equal(t, "linux", cf.OS)
			assert.Equal(t, "amd64", cf.Architecture)
			assert.Equal(t, tt.entrypoint, cf.Config.Entrypoint)
			assert.Empty(t, cf.Config.Cmd)
			assert.Equal(t, tt.env, cf.Config.Env)
			assert.Equal(t, tt.workingDir, cf.Config.WorkingDir)
			assert.Equal(t, tt.user, cf.Config.User)

			headers := readHeaders(t, img)
			for path, want := range tt.files {
				h, ok := headers[path]
				if !assert.True(t, ok, "%s is in the image", path) {
					continue
				}
				assert.Equal(t, want.mode, h.Mode&0o7777, "mode of %s", path)
				assert.Equal(t, want.dir, h.Typeflag == tar.TypeDir, "%s is a directory", path)
				assert.GreaterOrEqual(t, h.Size, want.minSize, "size of %s", path)
				if want.size != 0 {
					assert.Equal(t, want.size, h.Size, "size of %s", path)
				}
			}
			for path, h := range headers {
				assert.Equal(t, [2]int{0, 0}, [2]int{h.Uid, h.Gid}, "owner of %s", path)
			}
		})
	}

	t.Run("the layer programs are static linux/amd64 executables", func(t *testing.T) {
		img, err := remote.Image(images.Layer, opts...)
		require.NoError(t, err)
		for _, program := range []string{"layerhelper", "layerpush"} {
			bin := filepath.Join(t.TempDir(), program)
			require.NoError(t, extractFile(img, "layer/"+program, bin))
			f, err := elf.Open(bin)
			require.NoError(t, err, program)
			assert.Equal(t, elf.ET_EXEC, f.Type, "%s is an executable", program)
			assert.Equal(t, elf.EM_X86_64, f.Machine, "%s is for amd64", program)
			for _, p := range f.Progs {
				assert.NotEqual(t, elf.PT_INTERP, p.Type, "%s is static: no interpreter", program)
			}
			assert.NoError(t, f.Close())
		}
	})

	t.Run("a second push uploads nothing new and makes the same images", func(t *testing.T) {
		began := time.Now()
		again, err := stepimages.Push(ctx, root, reg.Host, reg.Auth(), t.Output())
		require.NoError(t, err)
		t.Logf("second Push: %s", time.Since(began))
		assert.Equal(t, images, again)
	})

	t.Run("the pause archive holds the pushed pause image", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "pause.tar")
		tag, err := stepimages.PauseTarball(ctx, root, "registry.test:5000", path, t.Output())
		require.NoError(t, err)
		assert.Equal(t, "registry.test:5000/pause:3.10", tag.String())
		img, err := tarball.ImageFromPath(path, &tag)
		require.NoError(t, err)
		d, err := img.Digest()
		require.NoError(t, err)
		assert.Equal(t, images.Pause.DigestStr(), d.String())
	})
}

// readHeaders returns the tar headers of img's flattened filesystem, by
// path without a leading or trailing slash.
func readHeaders(t *testing.T, img v1.Image) map[string]*tar.Header {
	rc := mutate.Extract(img)
	defer rc.Close()
	headers := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		headers[filepath.Clean(h.Name)] = h
	}
	return headers
}

func TestPauseStopsOnSIGTERM(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	root, err := stack.RepoRoot()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "pause.tar")
	tag, err := stepimages.PauseTarball(ctx, root, "registry.test:5000", path, t.Output())
	require.NoError(t, err)
	img, err := tarball.ImageFromPath(path, &tag)
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "pause")
	require.NoError(t, extractFile(img, "pause", bin))

	p, err := os.StartProcess(bin, []string{bin}, &os.ProcAttr{})
	require.NoError(t, err)
	exited := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := p.Wait()
		exited <- st
	}()
	select {
	case st := <-exited:
		t.Fatalf("pause exited by itself: %v", st)
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, p.Signal(syscall.SIGTERM))
	select {
	case st := <-exited:
		require.NotNil(t, st)
		assert.Equal(t, 0, st.ExitCode())
	case <-time.After(10 * time.Second):
		assert.NoError(t, p.Kill())
		t.Fatal("pause did not stop on SIGTERM")
	}
}

// extractFile copies the file at path in img to out, executable.
func extractFile(img v1.Image, path, out string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			return err
		}
		if filepath.Clean(h.Name) != path {
			continue
		}
		f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
}
