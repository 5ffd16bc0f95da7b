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
	done          chan struct{}
}

// dirent is one entry of a folder: whether it is a folder (symlinks not
// followed), and, if the scan stats, whether its ctime is not older than
// the start.
type dirent struct {
	name         string
	dir, changed bool
	unknown      bool // getdents gave no type
}

// scan reads the folders below a root with a few workers, each as soon as
// its parent has been read, deepest first, so that the folders come in
// about the order a depth-first walk asks for them. A walk takes the root
// folder and waits on each folder (<-f.done) before it reads it, so it
// sees the folders in the order and with the contents a serial walk
// would.
type scan struct {
	ex *exclusions
	// start: stat every entry and note whether it changed since; nil:
	// take folders from the entries' types, with no stat.
	start *unix.Timespec
	top   *folder

	mu      sync.Mutex
	cond    sync.Cond
	todo    []*folder // a stack
	busy    int       // folders being read
	stopped bool
	wg      sync.WaitGroup
}

// startScan starts reading root and the folders below it. stop must be
// called once the walk ends, whether or not it reached every folder.
func startScan(root string, ex *exclusions, start *unix.Timespec) *scan {
	s := &scan{ex: ex, start: start, top: &folder{path: root, done: make(chan struct{})}}
	s.cond.L = &s.mu
	s.todo = []*folder{s.top}
	for range scanWorkers {
		s.wg.Add(1)
		go s.work()
	}
	return s
}

// stop ends the workers and waits for them.
func (s *scan) stop() {
	s.mu.Lock()
	s.stopped = true
	s.cond.Broadcast()
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *scan) work() {
	defer s.wg.Done()
	buf := make([]byte, 32<<10)
	s.mu.Lock()
	for {
		for len(s.todo) == 0 && s.busy > 0 && !s.stopped {
			s.cond.Wait()
		}
		if s.stopped || len(s.todo) == 0 {
			s.mu.Unlock()
			return
		}
		f := s.todo[len(s.todo)-1]
		s.todo = s.todo[:len(s.todo)-1]
		s.busy++
		s.mu.Unlock()

		s.read(f, buf)

		s.mu.Lock()
		for i := len(f.children) - 1; i >= 0; i-- {
			s.todo = append(s.todo, f.children[i])
		}
		s.busy--
		if len(f.children) > 0 || s.busy == 0 {
			s.cond.Broadcast()
		}
		close(f.done)
	}
}

// read lists a folder's entries and, if the scan stats, stats each of
// them relative to the open folder. The errors are those of os.ReadDir.
func (s *scan) read(f *folder, buf []byte) {
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
			f.children = append(f.children, &folder{path: join(f.path, e.name), done: make(chan struct{})})
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
