package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/openserverless-deployer/dev/actionproxy"
)

// zipDir returns the folder the zips are unpacked in, making it on the
// first call; Stop removes it.
func (g *Gateway) zipDir() (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.workDir == "" {
		dir, err := os.MkdirTemp("", "gateway-actions-")
		if err != nil {
			return "", fmt.Errorf("making the folder of the actions: %w", err)
		}
		g.workDir = dir
	}
	return g.workDir, nil
}

// unzipAction unpacks zipped into a folder of dir named by its content
// (the same zip is unpacked once) and returns the path of its exec, once it
// has checked exec.env against execEnv as the Go runtime's proxy does.
func unzipAction(zipped []byte, dir, execEnv string) (string, error) {
	sum := sha256.Sum256(zipped)
	target := filepath.Join(dir, hex.EncodeToString(sum[:12]))
	if _, err := os.Stat(target); os.IsNotExist(err) {
		tmp, err := os.MkdirTemp(dir, ".unzip-")
		if err != nil {
			return "", err
		}
		if err := actionproxy.Unzip(zipped, tmp); err != nil {
			os.RemoveAll(tmp)
			return "", err
		}
		// Another PUT of the same zip may have won the race: either is whole.
		if err := os.Rename(tmp, target); err != nil {
			os.RemoveAll(tmp)
		}
	}
	exe := filepath.Join(target, "exec")
	info, err := os.Stat(exe)
	if err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return "", fmt.Errorf("the zip holds no executable exec")
	}
	env, err := os.ReadFile(filepath.Join(target, "exec.env"))
	if err != nil {
		return "", fmt.Errorf("the zip holds no exec.env")
	}
	if got := strings.TrimSpace(string(env)); got != execEnv {
		return "", fmt.Errorf("exec.env names %q, not this runtime's %q", got, execEnv)
	}
	return exe, nil
}
