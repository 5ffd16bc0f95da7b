package layer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// scanWorkers is how many folders are read at once. Reading a folder is
// system calls (open, getdents, a stat per entry, close) on cached
// metadata: two workers keep two cores busy, and the others cover a
// folder whose metadata the kernel has to read from disk.
const scanWorkers = 4

// folder is one folder below the root as a worker read it.
type folder struct {
	path string
	// entries are the folder's entries in name order, the excluded left
	// out; children has a folder for each of them that is a folder.
	entries  []dirent
	children []*folder
	// err: the folder could not be read, it has no entries. entryErr:
	// an entry could not be stat'ed, entries stop before it.
	err, entryErr error
}

// dirent is one entry of a folder: whether it is a folder (symlinks not
// followed), and, if the scan stats, whether its ctime is not older than
// the start.
type dirent struct {
	name         string
	dir, changed bool
	unknown      bool // getdents gave no type
}

// scan reads every folder below a root, the root included, with a few
// workers, and returns the root's folder once all are read: a walk of
// the folders and their children then sees them in the order and with
// the contents a serial walk would, and meets the first error where a
// serial walk would have stopped. (An error does not stop the others.)
//
// Each worker goes depth first through a stack of its own, and hands the
// shallowest half of it to the shared one when another worker is idle,
// so the workers meet only when one of them runs out.
func scan(root string, ex *exclusions, start *unix.Timespec) *folder {
	s := &scanner{ex: ex, start: start}
	s.cond.L = &s.mu
	top := &folder{path: root}
	s.shared = []*folder{top}
	s.pending.Store(1)
	var wg sync.WaitGroup
	for range scanWorkers {
		wg.Go(s.work)
	}
	wg.Wait()
	return top
}

type scanner struct {
	ex *exclusions
	// start: stat every entry and note whether it changed since; nil:
	// take folders from the entries' types, with no stat.
	start *unix.Timespec

	pending atomic.Int64 // folders not read yet, wherever they are
	idle    atomic.Int32 // workers waiting for a folder
	mu      sync.Mutex
	cond    sync.Cond
	shared  []*folder // a stack
}

func (s *scanner) work() {
	buf := make([]byte, 32<<10)
	var stack []*folder
	for {
		var f *folder
		if n := len(stack); n > 0 {
			f, stack = stack[n-1], stack[:n-1]
		} else if f = s.take(); f == nil {
			return
		}
		s.read(f, buf)
		for i := len(f.children) - 1; i >= 0; i-- {
			stack = append(stack, f.children[i])
		}
		if len(f.children) > 0 {
			s.pending.Add(int64(len(f.children)))
		}
		if n := len(stack); n > 1 && s.idle.Load() > 0 {
			s.share(stack[:n/2])
			stack = slices.Delete(stack, 0, n/2)
		}
		if s.pending.Add(-1) == 0 {
			s.mu.Lock()
			s.cond.Broadcast()
			s.mu.Unlock()
		}
	}
}

// take waits for a folder on the shared stack; nil once every folder has
// been read.
func (s *scanner) take() *folder {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idle.Add(1)
	for len(s.shared) == 0 && s.pending.Load() > 0 {
		s.cond.Wait()
	}
	s.idle.Add(-1)
	n := len(s.shared)
	if n == 0 {
		return nil
	}
	f := s.shared[n-1]
	s.shared = s.shared[:n-1]
	return f
}

// share puts folders, shallowest first, on the shared stack and wakes as
// many idle workers.
func (s *scanner) share(folders []*folder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shared = append(s.shared, folders...)
	for range len(folders) {
		s.cond.Signal()
	}
}

// read lists a folder's entries and, if the scan stats, stats each of
// them relative to the open folder. The errors are those of os.ReadDir.
func (s *scanner) read(f *folder, buf []byte) {
	fd, err := ignoringEINTR(func() (int, error) {
		return unix.Open(f.path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	})
	if err != nil {
		f.err = &os.PathError{Op: "open", Path: f.path, Err: err}
		return
	}
	defer unix.Close(fd)
	var entries []dirent
	unknown := false // an entry of unknown type: the file system does not say
	for {
		n, err := ignoringEINTR(func() (int, error) { return unix.Getdents(fd, buf) })
		if err != nil {
			f.err = &os.PathError{Op: "readdirent", Path: f.path, Err: err}
			return
		}
		if n <= 0 {
			break
		}
		for b := buf[:n]; len(b) >= 19; {
			// struct linux_dirent64: ino, off, reclen, type, name.
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				break
			}
			ino, typ, name := binary.NativeEndian.Uint64(b[0:8]), b[18], b[19:reclen]
			b = b[reclen:]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			if ino == 0 || string(name) == "." || string(name) == ".." {
				continue
			}
			e := dirent{name: string(name), dir: typ == unix.DT_DIR, unknown: typ == unix.DT_UNKNOWN}
			unknown = unknown || e.unknown
			entries = append(entries, e)
		}
	}
	if s.ex.inFolder(f.path) {
		entries = slices.DeleteFunc(entries, func(e dirent) bool { return s.ex.excluded(join(f.path, e.name)) })
	}
	slices.SortFunc(entries, func(a, b dirent) int { return strings.Compare(a.name, b.name) })

	switch {
	case s.start != nil:
		kept := entries[:0]
		for _, e := range entries {
			var st unix.Stat_t
			if err := unix.Fstatat(fd, e.name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				if e.unknown && err == unix.ENOENT {
					continue // as os.ReadDir leaves it out
				}
				f.entryErr = fmt.Errorf("reading %s: %w", join(f.path, e.name), err)
				break
			}
			e.dir = st.Mode&unix.S_IFMT == unix.S_IFDIR
			e.changed = st.Ctim.Sec > s.start.Sec || (st.Ctim.Sec == s.start.Sec && st.Ctim.Nsec >= s.start.Nsec)
			kept = append(kept, e)
		}
		entries = kept
	case unknown:
		// As os.ReadDir: lstat what the file system gave no type for, and
		// leave out what has disappeared since.
		var err error
		entries, err = typesOf(f.path, entries)
		if err != nil {
			f.err = err
			return
		}
	}
	f.entries = entries
	for _, e := range entries {
		if e.dir {
			f.children = append(f.children, &folder{path: join(f.path, e.name)})
		}
	}
}

// typesOf lstats each entry getdents gave no type for, to tell folders
// apart, as os.ReadDir does.
func typesOf(dir string, entries []dirent) ([]dirent, error) {
	kept := entries[:0]
	for _, e := range entries {
		if !e.unknown {
			kept = append(kept, e)
			continue
		}
		info, err := os.Lstat(join(dir, e.name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		e.dir = info.IsDir()
		kept = append(kept, e)
	}
	return kept, nil
}

// join is filepath.Join(dir, name) for a clean dir and a name read from
// it, without cleaning again.
func join(dir, name string) string {
	switch {
	case dir == "/":
		return "/" + name
	case filepath.IsAbs(dir):
		return dir + "/" + name
	}
	return filepath.Join(dir, name)
}

func ignoringEINTR(fn func() (int, error)) (int, error) {
	for {
		n, err := fn()
		if err != unix.EINTR {
			return n, err
		}
	}
}
