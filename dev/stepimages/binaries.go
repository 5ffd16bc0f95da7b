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
}

// buildBinaries builds (once per machine) Kaniko's executor and warmer and
// crane with tools/build.sh, and the pause program; progress goes to log.
func buildBinaries(ctx context.Context, root, cache string, log io.Writer) (binaries, error) {
	paths, err := stack.BuildTools(ctx, root, log, "kaniko", "warmer", "crane")
	if err != nil {
		return binaries{}, err
	}
	pause, err := buildPause(ctx, root, cache, log)
	if err != nil {
		return binaries{}, err
	}
	return binaries{executor: paths[0], warmer: paths[1], crane: paths[2], pause: pause}, nil
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
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", tmp, "./"+filepath.Dir(pauseSource))
		cmd.Dir, cmd.Stdout, cmd.Stderr = root, log, log
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building the pause program: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return out, nil
}
