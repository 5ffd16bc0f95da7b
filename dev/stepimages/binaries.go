package stepimages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/apache/openserverless-deployer/dev/stack"
)

// binaries are the programs the step images hold, on this machine.
type binaries struct {
	executor, warmer, crane, pause string
	layerhelper, layerpush         string
}

// buildBinaries builds (once per machine) Kaniko's executor and warmer and
// crane with tools/build.sh, and the pause program; and, on every call, the
// layer engine's programs; progress goes to log.
func buildBinaries(ctx context.Context, root, cache string, log io.Writer) (binaries, error) {
	paths, err := stack.BuildTools(ctx, root, log, "kaniko", "warmer", "crane")
	if err != nil {
		return binaries{}, err
	}
	pause, err := buildPause(ctx, root, cache, log)
	if err != nil {
		return binaries{}, err
	}
	layer, err := buildLayerPrograms(ctx, root, cache, log)
	if err != nil {
		return binaries{}, err
	}
	return binaries{
		executor: paths[0], warmer: paths[1], crane: paths[2], pause: pause,
		layerhelper: layer[0], layerpush: layer[1],
	}, nil
}

// pauseSource is the pause program's source, relative to the repository root.
const pauseSource = "dev/cmd/pause/main.go"

// buildPause builds dev/cmd/pause, static, into the tool cache once per
// machine and source: bin/pause-<hash of the source>.
func buildPause(ctx context.Context, root, cache string, log io.Writer) (string, error) {
	src, err := os.ReadFile(filepath.Join(root, pauseSource))
	if err != nil {
		return "", fmt.Errorf("reading the pause program: %w", err)
	}
	sum := sha256.Sum256(src)
	out := filepath.Join(cache, "bin", "pause-"+hex.EncodeToString(sum[:8]))
	err = once(out, func(tmp string) error {
		fmt.Fprintln(log, "building pause (once per machine)...")
		return goBuild(ctx, root, tmp, log, "./"+filepath.Dir(pauseSource))
	})
	if err != nil {
		return "", err
	}
	return out, nil
}

// layerPrograms are the layer engine's programs, by their package in the
// repository; each is /layer/<base name> in the layer image.
var layerPrograms = []string{"cmd/layerhelper", "cmd/layerpush"}

// buildLayerPrograms builds layerPrograms, static, and returns their paths in
// the tool cache, in that order. They change with the repository's code, so
// they are built on every call (Go's build cache makes that quick) and kept
// by the hash of their content, bin/<name>-<hash>: unchanged code makes the
// same file, whose layer is cached already.
func buildLayerPrograms(ctx context.Context, root, cache string, log io.Writer) ([]string, error) {
	if err := os.MkdirAll(filepath.Join(cache, "bin"), 0o755); err != nil {
		return nil, fmt.Errorf("making the tool cache: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Join(cache, "bin"), "layer-build-")
	if err != nil {
		return nil, fmt.Errorf("making a folder to build in: %w", err)
	}
	defer os.RemoveAll(tmp)
	pkgs := make([]string, len(layerPrograms))
	for i, p := range layerPrograms {
		pkgs[i] = "./" + p
	}
	// One go build for both: into a folder, it writes each by its base name.
	if err := goBuild(ctx, root, tmp+string(filepath.Separator), log, pkgs...); err != nil {
		return nil, err
	}
	out := make([]string, len(layerPrograms))
	for i, p := range layerPrograms {
		built := filepath.Join(tmp, filepath.Base(p))
		if out[i], err = keepByContent(built, filepath.Join(cache, "bin")); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// keepByContent moves the file built into dir as <its name>-<hash of its
// content>, unless that file is there already, and returns its path.
func keepByContent(built, dir string) (string, error) {
	f, err := os.Open(built)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", built, err)
	}
	h := sha256.New()
	_, err = io.Copy(h, f)
	f.Close()
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", built, err)
	}
	out := filepath.Join(dir, filepath.Base(built)+"-"+hex.EncodeToString(h.Sum(nil)[:8]))
	err = once(out, func(tmp string) error {
		if err := os.Rename(built, tmp); err != nil {
			return fmt.Errorf("moving %s into the tool cache: %w", built, err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return out, nil
}

// goBuild builds pkgs of the repository at root for linux/amd64, static and
// stripped, to out (a file, or a folder when out ends in a separator).
// The binaries do not depend on the repository's version control state.
func goBuild(ctx context.Context, root, out string, log io.Writer, pkgs ...string) error {
	args := append([]string{"build", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w", "-o", out}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, log, log
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %v: %w", pkgs, err)
	}
	return nil
}
