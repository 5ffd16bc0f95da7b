package nodeagent

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
)

// mountMemory mounts a tmpfs on dir, so that the containers' roots, volumes
// and logs live in memory, and returns what unmounts it. What an agent that
// was killed left in dir, mounts and files, goes first: it would otherwise
// stay hidden under the new tmpfs.
//
// Why: a build's executor writes the ~40,000 files of a realistic base
// image into its root, and the node deletes them when the step ends. On an
// ext4 without a journal (the disk of some VMs), ext4 skips every inode
// deleted in the last minutes when it allocates a new one, so each build's
// unpack got slower than the last (4.9, 8.6, 13.6 s in three rounds of
// unpacking and deleting the same layer in one folder). A tmpfs has no such
// cost and nothing to write back, and a node's container storage is meant
// to be fast scratch space.
func mountMemory(dir string) (func() error, error) {
	left, err := mountsUnder(dir)
	if err != nil {
		return nil, err
	}
	// Deepest first: a mount point below another goes before it.
	slices.SortFunc(left, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, mp := range left {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil {
			return nil, fmt.Errorf("detaching %s, left by an earlier agent: %w", mp, err)
		}
	}
	if err := clearDir(dir); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating work folder: %w", err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "mode=0755"); err != nil {
		return nil, fmt.Errorf("mounting a tmpfs on %s: %w", dir, err)
	}
	return func() error {
		if err := syscall.Unmount(dir, 0); err != nil {
			// Busy (a deletion still running): detach it, the kernel
			// frees it once the last user is gone.
			if err2 := syscall.Unmount(dir, syscall.MNT_DETACH); err2 != nil {
				return errors.Join(fmt.Errorf("unmounting %s: %w", dir, err), err2)
			}
		}
		return nil
	}, nil
}
