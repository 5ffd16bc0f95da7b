package stack

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildTools builds the pinned tools named (once per machine, cached by
// tools/build.sh) and returns their paths in the same order; the build's
// progress goes to log.
func BuildTools(ctx context.Context, root string, log io.Writer, names ...string) ([]string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "tools", "build.sh"), names...)
	cmd.Stdout, cmd.Stderr = &out, log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building %s: %w", strings.Join(names, ", "), err)
	}
	var paths []string
	for s := bufio.NewScanner(&out); s.Scan(); {
		if line := strings.TrimSpace(s.Text()); line != "" {
			paths = append(paths, line)
		}
	}
	if len(paths) != len(names) {
		return nil, fmt.Errorf("tools/build.sh printed %d paths, want %d: %q", len(paths), len(names), out.String())
	}
	return paths, nil
}
