package local

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildActions builds every action under root/actions into dir/<action> and
// returns their paths.
func BuildActions(ctx context.Context, root, dir string) (map[string]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "actions"))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		bin := filepath.Join(dir, e.Name())
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./actions/"+e.Name())
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building action %s: %w\n%s", e.Name(), err, b)
		}
		out[e.Name()] = bin
	}
	return out, nil
}
