package layer

import (
	"fmt"
	"io/fs"
	"os"
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
	var walk func(f *folder) error
	walk = func(f *folder) error {
		if f.err != nil {
			return f.err
		}
		names := make([]string, len(f.entries))
		for i, e := range f.entries {
			names[i] = e.name
		}
		b.entries[f.path] = names
		for _, c := range f.children {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(scan(root, ex, nil)); err != nil {
		return nil, fmt.Errorf("reading the root's entries: %w", err)
	}
	return b, nil
}

// ctime is the inode change time of a file's Lstat.
func ctime(info fs.FileInfo) time.Time {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}
	}
	return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
}
