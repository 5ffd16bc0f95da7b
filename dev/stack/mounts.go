package stack

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/apache/openserverless-deployer/lib/mountinfo"
)

// removeAllUnmounting detaches every mount at or below dir (a node leaves
// its containers' roots, volumes and network namespaces mounted there when
// it is killed), deepest first, then deletes dir. Deleting a folder with
// something still mounted below it would delete the mounted files.
func removeAllUnmounting(dir string) error {
	left, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	slices.SortFunc(left, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, mp := range left {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL && err != syscall.ENOENT {
			return fmt.Errorf("detaching %s: %w", mp, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("deleting %s: %w", dir, err)
	}
	return nil
}

// mountsUnder lists the mount points at or below dir in this process's
// mount namespace.
func mountsUnder(dir string) ([]string, error) {
	all, err := mountinfo.ReadFile(mountinfo.Self)
	if err != nil {
		return nil, err
	}
	dir = filepath.Clean(dir)
	var found []string
	for _, mp := range all {
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			found = append(found, mp)
		}
	}
	return found, nil
}
