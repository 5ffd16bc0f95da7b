package layer

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// before is what the root looked like when the command began: the time,
// and each directory's entries in name order, to find what disappeared.
type before struct {
	start   time.Time
	entries map[string][]string
}

// startTime is the file system's own clock now: the ctime of a file made
// and removed in dir. Inode times come from the kernel's coarse clock, which
// can lag time.Now by a tick; a change made after this call never has an
// older ctime.
func startTime(dir string) (time.Time, error) {
	f, err := os.CreateTemp(dir, ".start-")
	if err != nil {
		return time.Time{}, fmt.Errorf("taking the start time: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return time.Time{}, fmt.Errorf("taking the start time: %w", err)
	}
	return ctime(info), nil
}

// record notes every directory's entries below root, the excluded aside.
func record(root string, ex *exclusions, start time.Time) (*before, error) {
	b := &before{start: start, entries: map[string][]string{}}
	err := walkDirs(root, ex, func(dir string, entries []fs.DirEntry) {
		names := make([]string, len(entries))
		for i, e := range entries {
			names[i] = e.Name()
		}
		b.entries[dir] = names
	})
	if err != nil {
		return nil, fmt.Errorf("reading the root's entries: %w", err)
	}
	return b, nil
}

// walkDirs calls fn with each directory below root (root included) and its
// entries that are not excluded, parents before children, in name order.
func walkDirs(root string, ex *exclusions, fn func(dir string, entries []fs.DirEntry)) error {
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	kept := entries[:0]
	for _, e := range entries {
		if !ex.excluded(filepath.Join(root, e.Name())) {
			kept = append(kept, e)
		}
	}
	fn(root, kept)
	for _, e := range kept {
		if e.IsDir() {
			if err := walkDirs(filepath.Join(root, e.Name()), ex, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// ctime is the inode change time of a file's Lstat.
func ctime(info fs.FileInfo) time.Time {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}
	}
	return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
}
