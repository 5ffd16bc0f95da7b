package stepimages

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// cacheDir is the machine's tool cache, as tools/build.sh has it.
func cacheDir() (string, error) {
	if dir := os.Getenv("DEPLOYER_CACHE"); dir != "" {
		return dir, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the tool cache: %w", err)
	}
	return filepath.Join(home, ".cache", "openserverless-deployer"), nil
}

// once makes path by calling build with a temporary path beside it, then
// renames that into place, unless path exists. An exclusive lock on
// path+".lock" makes concurrent callers (other test processes) wait for the
// first one and then find path made.
func once(path string, build func(tmp string) error) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("making the folder of %s: %w", path, err)
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("opening the lock of %s: %w", path, err)
	}
	defer lock.Close() // releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking %s: %w", path, err)
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.RemoveAll(tmp); err != nil { // what a killed run left
		return fmt.Errorf("removing %s: %w", tmp, err)
	}
	if err := build(tmp); err != nil {
		return errors.Join(err, os.RemoveAll(tmp))
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("moving %s into place: %w", path, err)
	}
	return nil
}
